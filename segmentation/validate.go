package segmentation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/peoplegraph/peoplegraph/attribute"
)

// Limits on the size of a filter, so one request cannot build an enormous statement.
const (
	MaxDepth  = 32   // nesting of and / or / not
	MaxNodes  = 500  // nodes in the whole tree, conditions included
	MaxValues = 1000 // operands of one IN / NOT_IN
	// MaxTotalValues bounds the operands of all IN / NOT_IN / BETWEEN together, which keeps
	// the statement under the databases' limits on bind parameters.
	MaxTotalValues = 5000
	MaxDays        = 36500
	MaxHours       = MaxDays * 24
	MaxCount       = 1_000_000
	maxErrors      = 20
)

// Error is one problem in a filter: Path names the offending node or input field the way
// the GraphQL input spells it ("filter.and[1].attribute.value"), Message says what is
// wrong. Validate joins several with errors.Join; Errors takes them apart again.
type Error struct {
	Path    string
	Message string
}

func (e *Error) Error() string { return e.Path + ": " + e.Message }

// Errors returns the *Error values in err (one, or several joined), in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if errors.As(err, &e) {
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

// Validate checks f against the app's definitions: one condition per node, known fields,
// attribute keys and event names, operators that fit the type, operands present and
// convertible to the type. It returns nil, or the problems joined with errors.Join (each
// an *Error carrying its path).
func Validate(f *Filter, defs Definitions) error {
	_, err := compile(f, defs, time.Now())
	return err
}

// --- the checked, normalized form the SQL is generated from ---

type expr interface{ isExpr() }

type andExpr struct{ kids []expr }
type orExpr struct{ kids []expr }
type notExpr struct{ kid expr }
type constExpr struct{ v bool }

// columnExpr compares a column of users (or of companies inside a companyExpr).
type columnExpr struct {
	col string
	cmp cmp
}

// attrExpr compares a custom attribute in a JSON column.
type attrExpr struct {
	key string
	cmp cmp
}

// countExpr counts occurrences (event) or page views of the user.
type countExpr struct {
	page    bool
	eventID int
	props   []*attrExpr // event property conditions
	url     *cmp        // page view URL condition
	op      CountOp
	n       int
	from    *time.Time // included
	to      *time.Time // excluded, unless toIn
	toIn    bool
}

type companyExpr struct {
	fields []*columnExpr
	attrs  []*attrExpr
}

type noCompanyExpr struct{ none bool }

func (andExpr) isExpr()       {}
func (orExpr) isExpr()        {}
func (notExpr) isExpr()       {}
func (constExpr) isExpr()     {}
func (*columnExpr) isExpr()   {}
func (*attrExpr) isExpr()     {}
func (*countExpr) isExpr()    {}
func (*companyExpr) isExpr()  {}
func (noCompanyExpr) isExpr() {}

// valueKind is how values compare.
type valueKind int

const (
	kText     valueKind = iota // text column or STRING attribute
	kNumber                    // integer column, INTEGER or FLOAT attribute
	kTime                      // timestamp column
	kDate                      // DATE attribute ("2006-01-02")
	kDateTime                  // DATETIME attribute (fixed-width text)
	kBool                      // BOOLEAN attribute
	kFixed                     // FIXED attribute (a choice or a list of choices)
	kJSON                      // JSON attribute
)

// baseOp is a positive comparison; negative operators are the NOT of one.
type baseOp int

const (
	opSet      baseOp = iota
	opEq              // vals[0]
	opIn              // vals
	opContains        // vals[0], lower-cased (text) or a choice (fixed)
	opStarts          // vals[0], lower-cased
	opEnds            // vals[0], lower-cased
	opGT
	opGTE
	opLT
	opLTE
	opRange // vals[0] <= x <= vals[1]
)

// cmp is a positive comparison, negated when neg. Values are normalized: string (text,
// date, datetime, fixed), int64 or float64 (number), time.Time in UTC (time), bool.
type cmp struct {
	kind valueKind
	op   baseOp
	neg  bool
	vals []any
}

var operatorsByKind = map[valueKind][]Operator{
	kText:     {Equals, NotEquals, Contains, NotContains, StartsWith, EndsWith, In, NotIn, IsSet, IsNotSet},
	kNumber:   {Equals, NotEquals, GT, GTE, LT, LTE, Between, In, NotIn, IsSet, IsNotSet},
	kTime:     {GT, GTE, LT, LTE, Between, IsSet, IsNotSet, WithinLastDays, MoreThanDaysAgo},
	kDate:     {Equals, NotEquals, GT, GTE, LT, LTE, Between, In, NotIn, IsSet, IsNotSet, WithinLastDays, MoreThanDaysAgo},
	kDateTime: {GT, GTE, LT, LTE, Between, IsSet, IsNotSet, WithinLastDays, MoreThanDaysAgo},
	kBool:     {Equals, NotEquals, IsSet, IsNotSet},
	kFixed:    {Equals, NotEquals, Contains, NotContains, In, NotIn, IsSet, IsNotSet},
	kJSON:     {IsSet, IsNotSet},
}

func kindName(k valueKind) string {
	return [...]string{"text", "number", "time", "DATE", "DATETIME", "BOOLEAN", "FIXED", "JSON"}[k]
}

func kindOf(def attribute.Definition) (valueKind, bool) {
	switch def.Type {
	case attribute.String:
		return kText, true
	case attribute.Integer, attribute.Float:
		return kNumber, true
	case attribute.Boolean:
		return kBool, true
	case attribute.Date:
		return kDate, true
	case attribute.DateTime:
		return kDateTime, true
	case attribute.Fixed:
		return kFixed, true
	case attribute.JSON:
		return kJSON, true
	}
	return 0, false
}

// --- the checker ---

type checker struct {
	defs   Definitions
	now    time.Time // UTC, microseconds
	errs   []error
	nodes  int
	values int
}

func (c *checker) fail(path, format string, args ...any) {
	if len(c.errs) < maxErrors {
		c.errs = append(c.errs, &Error{Path: path, Message: fmt.Sprintf(format, args...)})
	}
}

func compile(f *Filter, defs Definitions, now time.Time) (expr, error) {
	c := &checker{defs: defs, now: now.UTC().Truncate(time.Microsecond)}
	if f == nil || f.isEmpty() {
		return constExpr{true}, nil
	}
	e := c.node(f, "filter", 0)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return e, nil
}

func (f *Filter) isEmpty() bool {
	return f.And == nil && f.Or == nil && f.Not == nil && f.Field == nil && f.Attribute == nil &&
		f.Event == nil && f.PageView == nil && f.Company == nil && f.NoCompany == nil
}

func (c *checker) node(f *Filter, path string, depth int) expr {
	c.nodes++
	if c.nodes == MaxNodes+1 {
		c.fail(path, "the filter has more than %d nodes", MaxNodes)
	}
	if depth > MaxDepth {
		c.fail(path, "the filter is nested more than %d levels deep", MaxDepth)
		return nil
	}
	var set []string
	for _, s := range []struct {
		name string
		on   bool
	}{
		{"and", f.And != nil}, {"or", f.Or != nil}, {"not", f.Not != nil},
		{"field", f.Field != nil}, {"attribute", f.Attribute != nil}, {"event", f.Event != nil},
		{"pageView", f.PageView != nil}, {"company", f.Company != nil}, {"noCompany", f.NoCompany != nil},
	} {
		if s.on {
			set = append(set, s.name)
		}
	}
	switch len(set) {
	case 0:
		c.fail(path, "exactly one of and, or, not, field, attribute, event, pageView, company, noCompany must be set; none is")
		return nil
	case 1:
	default:
		c.fail(path, "exactly one of and, or, not, field, attribute, event, pageView, company, noCompany must be set; %s are", strings.Join(set, ", "))
		return nil
	}
	switch {
	case f.And != nil, f.Or != nil:
		list, name := f.And, "and"
		if f.Or != nil {
			list, name = f.Or, "or"
		}
		kids := make([]expr, 0, len(list))
		for i, k := range list {
			p := fmt.Sprintf("%s.%s[%d]", path, name, i)
			if k == nil {
				c.fail(p, "must not be null")
				continue
			}
			kids = append(kids, c.node(k, p, depth+1))
		}
		if name == "and" {
			return andExpr{kids}
		}
		return orExpr{kids}
	case f.Not != nil:
		return notExpr{c.node(f.Not, path+".not", depth+1)}
	case f.Field != nil:
		p := path + ".field"
		col, ok := userColumns[f.Field.Field]
		if !ok {
			c.fail(p+".field", "unknown user field %q", f.Field.Field)
			return nil
		}
		kind := kindOfColumn(col.kind)
		cm, ok := c.cmp(p, kind, attribute.Definition{}, f.Field.Operator, f.Field.Value, f.Field.Values, f.Field.Days, f.Field.Hours)
		if !ok {
			return nil
		}
		return &columnExpr{col: col.name, cmp: cm}
	case f.Attribute != nil:
		return c.attr(path+".attribute", f.Attribute, c.defs.User, "user attribute")
	case f.Event != nil:
		return c.event(path+".event", f.Event)
	case f.PageView != nil:
		return c.pageView(path+".pageView", f.PageView)
	case f.Company != nil:
		return c.company(path+".company", f.Company)
	default:
		return noCompanyExpr{none: *f.NoCompany}
	}
}

func kindOfColumn(k columnKind) valueKind {
	switch k {
	case colInt:
		return kNumber
	case colTime:
		return kTime
	}
	return kText
}

func (c *checker) attr(path string, a *AttributeCondition, defs map[string]attribute.Definition, what string) *attrExpr {
	def, ok := defs[a.Key]
	if !ok {
		if a.Key == "" {
			c.fail(path+".key", "the key is missing")
		} else {
			c.fail(path+".key", "unknown %s %q", what, a.Key)
		}
		return nil
	}
	kind, ok := kindOf(def)
	if !ok {
		c.fail(path+".key", "%s %q has the unknown type %q", what, a.Key, def.Type)
		return nil
	}
	cm, ok := c.cmp(path, kind, def, a.Operator, a.Value, a.Values, a.Days, a.Hours)
	if !ok {
		return nil
	}
	return &attrExpr{key: a.Key, cmp: cm}
}

// cmp checks an operator and its operands against a kind and normalizes them.
func (c *checker) cmp(path string, kind valueKind, def attribute.Definition, op Operator, value any, values []any, days, hours *int) (cmp, bool) {
	if op == "" {
		c.fail(path+".operator", "the operator is missing")
		return cmp{}, false
	}
	if !op.Valid() {
		c.fail(path+".operator", "unknown operator %q", op)
		return cmp{}, false
	}
	allowed := false
	for _, o := range operatorsByKind[kind] {
		allowed = allowed || o == op
	}
	if !allowed {
		c.fail(path+".operator", "%s does not apply to a %s value (allowed: %s)", op, kindName(kind), joinOps(operatorsByKind[kind]))
		return cmp{}, false
	}
	ok := true
	// Which operands the operator takes; the others must be absent.
	wantValue := false
	wantValues := false
	wantWindow := false
	switch op {
	case IsSet, IsNotSet:
	case In, NotIn, Between:
		wantValues = true
	case WithinLastDays, MoreThanDaysAgo:
		wantWindow = true
	default:
		wantValue = true
	}
	if !wantValue && value != nil {
		c.fail(path+".value", "%s takes no value", op)
		ok = false
	}
	if !wantValues && values != nil {
		c.fail(path+".values", "%s takes no values", op)
		ok = false
	}
	if !wantWindow && (days != nil || hours != nil) {
		name := "days"
		if days == nil {
			name = "hours"
		}
		c.fail(path+"."+name, "%s takes no %s", op, name)
		ok = false
	}
	if !ok {
		return cmp{}, false
	}
	out := cmp{kind: kind}
	switch op {
	case IsSet, IsNotSet:
		out.op, out.neg = opSet, op == IsNotSet
		return out, true
	case WithinLastDays, MoreThanDaysAgo:
		return c.window(path, out, op, days, hours)
	case In, NotIn, Between:
		if values == nil {
			c.fail(path+".values", "%s needs values", op)
			return cmp{}, false
		}
		if op == Between && len(values) != 2 {
			c.fail(path+".values", "BETWEEN needs exactly two values (low and high), not %d", len(values))
			return cmp{}, false
		}
		if len(values) == 0 {
			c.fail(path+".values", "%s needs at least one value", op)
			return cmp{}, false
		}
		if len(values) > MaxValues {
			c.fail(path+".values", "%s takes at most %d values", op, MaxValues)
			return cmp{}, false
		}
		c.values += len(values)
		if c.values > MaxTotalValues {
			c.fail(path+".values", "the filter has more than %d values in all", MaxTotalValues)
			return cmp{}, false
		}
		out.op, out.neg = opIn, op == NotIn
		if op == Between {
			out.op = opRange
		}
		for i, v := range values {
			nv, ok := c.value(fmt.Sprintf("%s.values[%d]", path, i), kind, def, v)
			if !ok {
				return cmp{}, false
			}
			out.vals = append(out.vals, nv)
		}
		if kind == kFixed {
			// IN on a choice list: one of the choices is among the values.
			out.op = opContains
		}
		return out, true
	}
	if value == nil {
		c.fail(path+".value", "%s needs a value", op)
		return cmp{}, false
	}
	nv, ok := c.value(path+".value", kind, def, value)
	if !ok {
		return cmp{}, false
	}
	switch op {
	case Equals, NotEquals:
		out.op, out.neg = opEq, op == NotEquals
	case Contains, NotContains:
		out.op, out.neg = opContains, op == NotContains
	case StartsWith:
		out.op = opStarts
	case EndsWith:
		out.op = opEnds
	case GT:
		out.op = opGT
	case GTE:
		out.op = opGTE
	case LT:
		out.op = opLT
	case LTE:
		out.op = opLTE
	}
	if kind == kText && (out.op == opContains || out.op == opStarts || out.op == opEnds) {
		s := nv.(string)
		if s == "" {
			c.fail(path+".value", "%s needs a non-empty text", op)
			return cmp{}, false
		}
		nv = asciiLower(s)
	}
	out.vals = []any{nv}
	return out, true
}

// window turns WITHIN_LAST_DAYS / MORE_THAN_DAYS_AGO into a range or a bound.
func (c *checker) window(path string, out cmp, op Operator, days, hours *int) (cmp, bool) {
	switch {
	case days == nil && hours == nil:
		c.fail(path+".days", "%s needs days (or hours)", op)
		return cmp{}, false
	case days != nil && hours != nil:
		c.fail(path+".hours", "give days or hours, not both")
		return cmp{}, false
	case days != nil && (*days < 0 || *days > MaxDays):
		c.fail(path+".days", "days must be between 0 and %d", MaxDays)
		return cmp{}, false
	case hours != nil && (*hours < 0 || *hours > MaxHours):
		c.fail(path+".hours", "hours must be between 0 and %d", MaxHours)
		return cmp{}, false
	case hours != nil && out.kind == kDate:
		c.fail(path+".hours", "a DATE attribute has no time of day: use days")
		return cmp{}, false
	}
	var from, to any
	if out.kind == kDate {
		today := time.Date(c.now.Year(), c.now.Month(), c.now.Day(), 0, 0, 0, 0, time.UTC)
		from, to = today.AddDate(0, 0, -*days).Format(dateLayout), today.Format(dateLayout)
	} else {
		d := time.Duration(0)
		if days != nil {
			d = time.Duration(*days) * 24 * time.Hour
		} else {
			d = time.Duration(*hours) * time.Hour
		}
		cut := c.now.Add(-d)
		from, to = cut, c.now
		if out.kind == kDateTime {
			from, to = cut.Format(dateTimeLayout), c.now.Format(dateTimeLayout)
		}
	}
	if op == WithinLastDays {
		out.op, out.vals = opRange, []any{from, to}
	} else {
		out.op, out.vals = opLT, []any{from}
	}
	return out, true
}

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02T15:04:05.000000Z"
)

// value converts one operand to the normalized form of kind, by the attribute package's
// rules (so a filter accepts what ingestion accepts: "42" for a number, Unix seconds or
// any ISO-8601 form for a date).
func (c *checker) value(path string, kind valueKind, def attribute.Definition, v any) (any, bool) {
	if t, isTime := v.(time.Time); isTime {
		v = t.UTC().Format(time.RFC3339Nano)
	}
	if t, isTime := v.(*time.Time); isTime && t != nil {
		v = t.UTC().Format(time.RFC3339Nano)
	}
	switch v.(type) {
	case nil:
		c.fail(path, "must not be null")
		return nil, false
	case map[string]any, []any, []string:
		c.fail(path, "must be a single value, not an object or a list")
		return nil, false
	}
	switch kind {
	case kText:
		s, ok := attribute.Coerce(attribute.Definition{Type: attribute.String}, v)
		if !ok {
			c.fail(path, "must be a text")
			return nil, false
		}
		return s, true
	case kNumber:
		if _, isBool := v.(bool); isBool {
			c.fail(path, "must be a number")
			return nil, false
		}
		if n, ok := attribute.Coerce(attribute.Definition{Type: attribute.Integer}, v); ok {
			return n, true
		}
		if n, ok := attribute.Coerce(attribute.Definition{Type: attribute.Float}, v); ok {
			return n, true
		}
		c.fail(path, "must be a number")
		return nil, false
	case kTime, kDateTime:
		s, ok := attribute.Coerce(attribute.Definition{Type: attribute.DateTime}, v)
		if !ok {
			c.fail(path, "must be a date and time (ISO-8601, e.g. 2024-05-01T12:00:00Z, or Unix seconds)")
			return nil, false
		}
		if kind == kDateTime {
			return s, true
		}
		t, err := time.Parse(dateTimeLayout, s.(string))
		if err != nil {
			c.fail(path, "must be a date and time")
			return nil, false
		}
		return t.UTC(), true
	case kDate:
		s, ok := attribute.Coerce(attribute.Definition{Type: attribute.Date}, v)
		if !ok {
			c.fail(path, "must be a date (ISO-8601, e.g. 2024-05-01)")
			return nil, false
		}
		return s, true
	case kBool:
		b, ok := attribute.Coerce(attribute.Definition{Type: attribute.Boolean}, v)
		if !ok {
			c.fail(path, "must be a boolean")
			return nil, false
		}
		return b, true
	case kFixed:
		s, ok := attribute.Coerce(attribute.Definition{Type: attribute.Fixed, Choices: def.Choices}, v)
		if !ok {
			c.fail(path, "must be one of the choices %s", quoteList(def.Choices))
			return nil, false
		}
		return s, true
	}
	c.fail(path, "a %s value cannot be compared", kindName(kind))
	return nil, false
}

func (c *checker) event(path string, e *EventCondition) expr {
	if e.Name == "" {
		c.fail(path+".name", "the event name is missing")
		return nil
	}
	ed, ok := c.defs.Events[e.Name]
	if !ok {
		c.fail(path+".name", "unknown event %q", e.Name)
		return nil
	}
	out := &countExpr{eventID: ed.ID}
	ok = c.count(path, out, e.CountOp, e.Count, e.Days, e.Hours, e.From, e.To)
	for i, p := range e.Properties {
		pp := fmt.Sprintf("%s.properties[%d]", path, i)
		if p == nil {
			c.fail(pp, "must not be null")
			ok = false
			continue
		}
		a := c.attr(pp, p, ed.Properties, fmt.Sprintf("property of event %q:", e.Name))
		if a == nil {
			ok = false
			continue
		}
		out.props = append(out.props, a)
	}
	if !ok {
		return nil
	}
	return out
}

func (c *checker) pageView(path string, p *PageViewCondition) expr {
	out := &countExpr{page: true}
	ok := c.count(path, out, p.CountOp, p.Count, p.Days, p.Hours, p.From, p.To)
	switch p.Operator {
	case Equals, Contains, StartsWith, EndsWith:
		if p.URL == "" {
			c.fail(path+".url", "the URL is missing")
			return nil
		}
		cm, cok := c.cmp(path, kText, attribute.Definition{}, p.Operator, p.URL, nil, nil, nil)
		if !cok {
			return nil
		}
		out.url = &cm
	case "":
		c.fail(path+".operator", "the operator is missing")
		return nil
	default:
		c.fail(path+".operator", "%s does not apply to a page URL (allowed: EQUALS, CONTAINS, STARTS_WITH, ENDS_WITH)", p.Operator)
		return nil
	}
	if !ok {
		return nil
	}
	return out
}

// count checks the count and window of an event or page view condition.
func (c *checker) count(path string, out *countExpr, op *CountOp, n *int, days, hours *int, from, to *time.Time) bool {
	ok := true
	out.op, out.n = AtLeast, 1
	if op != nil {
		if !op.Valid() {
			c.fail(path+".countOp", "unknown count operator %q", *op)
			ok = false
		}
		out.op = *op
	}
	if n != nil {
		if *n < 0 || *n > MaxCount {
			c.fail(path+".count", "count must be between 0 and %d", MaxCount)
			ok = false
		}
		out.n = *n
	}
	windows := 0
	if days != nil {
		windows++
		if *days < 0 || *days > MaxDays {
			c.fail(path+".days", "days must be between 0 and %d", MaxDays)
			ok = false
		} else {
			cut := c.now.Add(-time.Duration(*days) * 24 * time.Hour)
			now := c.now
			out.from, out.to, out.toIn = &cut, &now, true
		}
	}
	if hours != nil {
		windows++
		if *hours < 0 || *hours > MaxHours {
			c.fail(path+".hours", "hours must be between 0 and %d", MaxHours)
			ok = false
		} else {
			cut := c.now.Add(-time.Duration(*hours) * time.Hour)
			now := c.now
			out.from, out.to, out.toIn = &cut, &now, true
		}
	}
	if from != nil || to != nil {
		windows++
		for _, x := range []struct {
			name string
			t    *time.Time
		}{{"from", from}, {"to", to}} {
			if x.t == nil {
				continue
			}
			if y := x.t.UTC().Year(); y < 1 || y > 9999 {
				c.fail(path+"."+x.name, "must be within the years 1 to 9999")
				ok = false
			}
		}
		if from != nil && to != nil && !to.After(*from) {
			c.fail(path+".to", "must be after from")
			ok = false
		}
		if ok {
			out.from, out.to, out.toIn = utcMicro(from), utcMicro(to), false
		}
	}
	if windows > 1 {
		c.fail(path, "give one window: days, hours, or from/to")
		ok = false
	}
	return ok
}

func utcMicro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func (c *checker) company(path string, cc *CompanyCondition) expr {
	out := &companyExpr{}
	ok := true
	for i, f := range cc.Fields {
		p := fmt.Sprintf("%s.fields[%d]", path, i)
		if f == nil {
			c.fail(p, "must not be null")
			ok = false
			continue
		}
		col, known := companyColumns[f.Field]
		if !known {
			c.fail(p+".field", "unknown company field %q", f.Field)
			ok = false
			continue
		}
		cm, cok := c.cmp(p, kindOfColumn(col.kind), attribute.Definition{}, f.Operator, f.Value, f.Values, f.Days, f.Hours)
		if !cok {
			ok = false
			continue
		}
		out.fields = append(out.fields, &columnExpr{col: col.name, cmp: cm})
	}
	for i, a := range cc.Attributes {
		p := fmt.Sprintf("%s.attributes[%d]", path, i)
		if a == nil {
			c.fail(p, "must not be null")
			ok = false
			continue
		}
		e := c.attr(p, a, c.defs.Company, "company attribute")
		if e == nil {
			ok = false
			continue
		}
		out.attrs = append(out.attrs, e)
	}
	if !ok {
		return nil
	}
	return out
}

// asciiLower folds A–Z only: the case folding both databases agree on (SQLite's lower()
// knows no other letters).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func joinOps(ops []Operator) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
