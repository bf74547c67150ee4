package segmentation

import (
	"fmt"
	"strconv"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Predicate checks f (as Validate does) and returns it as a predicate on the users table,
// for client.User.Query().Where(predicate.User(p)): one SQL expression, with EXISTS or
// counting subqueries for events, page views and memberships, each tied to the outer
// row's id and app_id. Every value, key and count is a bind parameter. now anchors the
// relative windows (WITHIN_LAST_DAYS, MORE_THAN_DAYS_AGO, days/hours of events and page
// views). dialect is dialect.SQLite or dialect.Postgres (storage.DB.Dialect).
func Predicate(f *Filter, defs Definitions, dia string, now time.Time) (func(*entsql.Selector), error) {
	if dia != dialect.SQLite && dia != dialect.Postgres {
		return nil, fmt.Errorf("segmentation: unsupported dialect %q", dia)
	}
	e, err := compile(f, defs, now)
	if err != nil {
		return nil, err
	}
	g := &gen{pg: dia == dialect.Postgres, app: defs.AppID}
	g.expr(e)
	parts := g.parts
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			for _, p := range parts {
				switch p.kind {
				case partText:
					b.WriteString(p.text)
				case partArg:
					b.Arg(p.arg)
				case partOuter:
					b.WriteString(s.C(p.text))
				}
			}
		}))
	}, nil
}

type partKind int

const (
	partText  partKind = iota
	partArg            // a bind parameter
	partOuter          // a column of the outer users table, qualified by the selector
)

type part struct {
	kind partKind
	text string
	arg  any
}

// gen writes the SQL of a checked filter as a list of parts.
type gen struct {
	pg     bool
	app    int // the app of the definitions, 0 when unknown
	parts  []part
	aliasN int
}

func (g *gen) w(ss ...string) {
	for _, s := range ss {
		if n := len(g.parts); n > 0 && g.parts[n-1].kind == partText {
			g.parts[n-1].text += s
			continue
		}
		g.parts = append(g.parts, part{kind: partText, text: s})
	}
}

func (g *gen) outer(col string) { g.parts = append(g.parts, part{kind: partOuter, text: col}) }

func (g *gen) alias(prefix string) string {
	g.aliasN++
	return prefix + strconv.Itoa(g.aliasN)
}

// ref is a column: of the outer users table, or of an aliased table of a subquery.
type ref struct {
	alias string // "" for the outer table
	col   string
}

func (g *gen) ref(r ref) {
	if r.alias == "" {
		g.outer(r.col)
		return
	}
	g.w(`"`, r.alias, `"."`, r.col, `"`)
}

// param writes a bind parameter holding v (normalized by the checker) compared as kind.
// PostgreSQL gets an explicit type, so that no parameter's type is left to inference.
func (g *gen) param(kind valueKind, v any) {
	if n, ok := v.(int); ok {
		v = int64(n)
	}
	if !g.pg {
		switch x := v.(type) {
		case time.Time:
			// The text form the SQLite driver writes times in (storage: _time_format=sqlite);
			// with every time in UTC, text order is time order.
			v = x.UTC().Format("2006-01-02 15:04:05.999999999-07:00")
		case bool:
			// json_each gives booleans as 1 and 0.
			if x {
				v = int64(1)
			} else {
				v = int64(0)
			}
		}
		g.parts = append(g.parts, part{kind: partArg, arg: v})
		return
	}
	typ := "text"
	switch kind {
	case kNumber:
		typ = "numeric"
	case kTime:
		typ = "timestamptz"
	case kBool:
		typ = "boolean"
	}
	if _, ok := v.(int64); ok && kind == kNumber {
		typ = "bigint"
	}
	g.w("CAST(")
	g.parts = append(g.parts, part{kind: partArg, arg: v})
	g.w(" AS ", typ, ")")
}

func (g *gen) params(kind valueKind, vals []any) {
	for i, v := range vals {
		if i > 0 {
			g.w(", ")
		}
		g.param(kind, v)
	}
}

func (g *gen) expr(e expr) {
	switch e := e.(type) {
	case constExpr:
		g.bool(e.v)
	case andExpr, orExpr:
		kids, op, empty := []expr(nil), " AND ", true
		if a, ok := e.(andExpr); ok {
			kids = a.kids
		} else {
			kids, op, empty = e.(orExpr).kids, " OR ", false
		}
		if len(kids) == 0 {
			g.bool(empty)
			return
		}
		g.w("(")
		for i, k := range kids {
			if i > 0 {
				g.w(op)
			}
			g.expr(k)
		}
		g.w(")")
	case notExpr:
		g.w("(NOT ")
		g.expr(e.kid)
		g.w(")")
	case *columnExpr:
		g.column(ref{col: e.col}, e.cmp)
	case *attrExpr:
		g.attr(ref{col: "attributes"}, e)
	case *countExpr:
		g.w("(")
		g.count(e)
		g.w(")")
	case *companyExpr:
		g.company(e)
	case noCompanyExpr:
		g.w("(")
		if e.none {
			g.w("NOT ")
		}
		m := g.alias("m")
		g.w(`EXISTS (SELECT 1 FROM "memberships" AS "`, m, `" WHERE "`, m, `"."app_id" = `)
		g.outer("app_id")
		g.w(` AND "`, m, `"."user_id" = `)
		g.outer("id")
		g.w("))")
	default:
		panic(fmt.Sprintf("segmentation: unexpected expression %T", e))
	}
}

func (g *gen) bool(v bool) {
	if v {
		g.w("TRUE")
	} else {
		g.w("FALSE")
	}
}

// negated wraps the positive form of c in NOT when c is negative. Every positive form is
// TRUE or FALSE, never NULL, so NOT is the exact complement.
func (g *gen) negated(c cmp, positive func()) {
	if c.neg {
		g.w("(NOT ")
		positive()
		g.w(")")
		return
	}
	positive()
}

// column compares a nullable column: a missing value (NULL) makes the positive form FALSE.
func (g *gen) column(r ref, c cmp) {
	g.negated(c, func() {
		g.w("(")
		g.ref(r)
		g.w(" IS NOT NULL")
		if c.op != opSet {
			g.w(" AND ")
			g.scalar(c, func() { g.ref(r) })
		}
		g.w(")")
	})
}

// scalar writes the comparison of a non-null SQL value x (text, number or time) with the
// operands of c (a positive comparison; c.neg is handled by the caller).
func (g *gen) scalar(c cmp, x func()) {
	lowered := func() {
		g.w("lower(")
		x()
		if g.pg {
			// lower() under the C collation folds A–Z only, as SQLite's lower() does.
			g.w(` COLLATE "C"`)
		}
		g.w(")")
	}
	switch c.op {
	case opEq:
		x()
		g.w(" = ")
		g.param(c.kind, c.vals[0])
	case opIn:
		x()
		g.w(" IN (")
		g.params(c.kind, c.vals)
		g.w(")")
	case opContains:
		if g.pg {
			g.w("strpos(")
			lowered()
			g.w(", ")
		} else {
			g.w("instr(")
			lowered()
			g.w(", ")
		}
		g.param(kText, c.vals[0])
		g.w(") > 0")
	case opStarts, opEnds:
		if g.pg {
			if c.op == opStarts {
				g.w("left(")
			} else {
				g.w("right(")
			}
			lowered()
			g.w(", char_length(")
		} else {
			g.w("substr(")
			lowered()
			if c.op == opStarts {
				g.w(", 1, length(")
			} else {
				g.w(", -length(")
			}
		}
		g.param(kText, c.vals[0])
		g.w(")) = ")
		g.param(kText, c.vals[0])
	case opGT, opGTE, opLT, opLTE:
		x()
		g.w(" ", map[baseOp]string{opGT: ">", opGTE: ">=", opLT: "<", opLTE: "<="}[c.op], " ")
		g.param(c.kind, c.vals[0])
	case opRange:
		x()
		g.w(" BETWEEN ")
		g.param(c.kind, c.vals[0])
		g.w(" AND ")
		g.param(c.kind, c.vals[1])
	default:
		panic(fmt.Sprintf("segmentation: unexpected operator %d on a scalar", c.op))
	}
}

// The stored forms of DATE and DATETIME, as SQLite GLOB and PostgreSQL regular expressions.
// A value of another shape under such a key (left by hand, say) counts as missing.
const (
	dateGlob     = `[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]`
	dateTimeGlob = dateGlob + `T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z`
	dateRegexp   = `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	dateTimeRe   = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$`
)

// attr compares the attribute e.key of the JSON column r. The value must be of the JSON
// type of the attribute's stored form (a number for INTEGER, …); anything else, like a
// missing key, makes the positive form FALSE.
func (g *gen) attr(r ref, e *attrExpr) {
	g.negated(e.cmp, func() {
		if g.pg {
			g.attrPG(r, e.key, e.cmp)
		} else {
			g.attrSQLite(r, e.key, e.cmp)
		}
	})
}

// attrSQLite finds the key with json_each, whose key column is the decoded member name:
// unlike a JSON path ('$."k"', or ->> with a text label) it works for every key, quotes,
// dots and a leading $ included.
func (g *gen) attrSQLite(r ref, key string, c cmp) {
	j := g.alias("j")
	jc := func(col string) func() { return func() { g.w(`"`, j, `".`, col) } }
	g.w(`EXISTS (SELECT 1 FROM json_each(`)
	g.ref(r)
	g.w(`) AS "`, j, `" WHERE "`, j, `".key = `)
	g.param(kText, key)
	g.w(" AND ")
	typ, val := jc("type"), jc("value")
	switch c.kind {
	case kText:
		typ()
		g.w(` = 'text'`)
	case kNumber:
		typ()
		g.w(` IN ('integer', 'real')`)
	case kBool:
		typ()
		g.w(` IN ('true', 'false')`)
	case kDate, kDateTime:
		typ()
		g.w(` = 'text' AND `)
		val()
		if c.kind == kDate {
			g.w(` GLOB '`, dateGlob, `'`)
		} else {
			g.w(` GLOB '`, dateTimeGlob, `'`)
		}
	case kFixed:
		typ()
		g.w(` IN ('text', 'array')`)
	case kJSON:
		typ()
		g.w(` <> 'null'`)
	}
	switch {
	case c.op == opSet:
	case c.kind == kFixed:
		// A single choice is a string, several are an array of strings.
		el := g.alias("e")
		g.w(` AND ((`)
		typ()
		g.w(` = 'text' AND `)
		val()
		if c.op == opEq {
			g.w(" = ")
		} else {
			g.w(" IN (")
		}
		g.params(kText, c.vals)
		if c.op != opEq {
			g.w(")")
		}
		g.w(`) OR (`)
		typ()
		g.w(` = 'array'`)
		if c.op == opEq {
			g.w(` AND json_array_length(`)
			val()
			g.w(`) = 1`)
		}
		g.w(` AND EXISTS (SELECT 1 FROM json_each(`)
		val()
		g.w(`) AS "`, el, `" WHERE "`, el, `".type = 'text' AND "`, el, `".value IN (`)
		g.params(kText, c.vals)
		g.w(`))))`)
	default:
		g.w(" AND ")
		g.scalar(c, val)
	}
	g.w(")")
}

func (g *gen) attrPG(r ref, key string, c cmp) {
	x := func() { // the member as jsonb (NULL when missing)
		g.w("(")
		g.ref(r)
		g.w(" -> ")
		g.param(kText, key)
		g.w(")")
	}
	t := func() { // the member as text
		g.w("(")
		g.ref(r)
		g.w(" ->> ")
		g.param(kText, key)
		g.w(")")
	}
	typeIs := func(types ...string) {
		g.w("jsonb_typeof(")
		x()
		if len(types) == 1 {
			g.w(") = '", types[0], "'")
			return
		}
		g.w(") IN ('", types[0], "', '", types[1], "')")
	}
	// contains: r @> {"key": v}, which a GIN index on the column can answer.
	contains := func(v func()) {
		g.ref(r)
		g.w(" @> jsonb_build_object(")
		g.param(kText, key)
		g.w(", ")
		v()
		g.w(")")
	}
	pattern := func() {
		re := dateRegexp
		if c.kind == kDateTime {
			re = dateTimeRe
		}
		g.w(" AND ")
		t()
		g.w(" ~ '", re, "'")
	}
	switch c.kind {
	case kFixed:
		switch c.op {
		case opSet:
			g.w("COALESCE(")
			typeIs("string", "array")
			g.w(", FALSE)")
		case opEq:
			// the choice alone, or a list of only it; both halves can use a GIN index
			g.w("(")
			contains(func() { g.param(kText, c.vals[0]) })
			g.w(" OR (")
			contains(func() {
				g.w("jsonb_build_array(")
				g.param(kText, c.vals[0])
				g.w(")")
			})
			g.w(" AND ")
			x()
			g.w(" = jsonb_build_array(")
			g.param(kText, c.vals[0])
			g.w(")))")
		default: // contains one of c.vals
			g.w("(")
			for i, v := range c.vals {
				if i > 0 {
					g.w(" OR ")
				}
				contains(func() { g.param(kText, v) })
				g.w(" OR ")
				contains(func() {
					g.w("jsonb_build_array(")
					g.param(kText, v)
					g.w(")")
				})
			}
			g.w(")")
		}
	case kJSON:
		g.w("COALESCE(jsonb_typeof(")
		x()
		g.w(") <> 'null', FALSE)")
	case kNumber:
		switch c.op {
		case opSet:
			g.w("COALESCE(")
			typeIs("number")
			g.w(", FALSE)")
		case opEq:
			contains(func() { g.param(kNumber, c.vals[0]) })
		default:
			// CASE, because PostgreSQL does not promise to test the type before casting.
			g.w("CASE WHEN ")
			typeIs("number")
			g.w(" THEN ")
			g.scalar(c, func() {
				g.w("CAST(")
				x()
				g.w(" AS numeric)")
			})
			g.w(" ELSE FALSE END")
		}
	case kBool:
		if c.op == opSet {
			g.w("COALESCE(")
			typeIs("boolean")
			g.w(", FALSE)")
			return
		}
		contains(func() { g.param(kBool, c.vals[0]) })
	case kText, kDate, kDateTime:
		if c.op == opEq {
			contains(func() { g.param(kText, c.vals[0]) })
			return
		}
		g.w("COALESCE(")
		typeIs("string")
		if c.kind != kText {
			pattern()
		}
		if c.op != opSet {
			g.w(" AND ")
			g.scalar(c, func() {
				t()
				if c.kind != kText {
					// Fixed-width forms: byte order is time order.
					g.w(` COLLATE "C"`)
				}
			})
		}
		g.w(", FALSE)")
	}
}

// count compares the number of matching occurrences or page views with e.n. Zero and
// one are (NOT) EXISTS, which both databases turn into semi- and anti-joins; larger
// counts are an IN over the (app_id, user_id) pairs that have enough rows, one aggregated
// subquery instead of one count per user.
func (g *gen) count(e *countExpr) {
	n := e.n
	switch {
	case e.op == AtLeast && n == 0:
		g.w("TRUE")
	case e.op == AtLeast && n == 1:
		g.w("EXISTS (SELECT 1")
		g.countFrom(e, true)
		g.w(")")
	case (e.op == AtMost || e.op == Exactly) && n == 0:
		g.w("NOT EXISTS (SELECT 1")
		g.countFrom(e, true)
		g.w(")")
	case e.op == AtLeast:
		g.countedIn(e, ">=", n)
	case e.op == AtMost:
		// at most n: not at least n+1, so users without any row match too
		g.w("NOT (")
		g.countedIn(e, ">", n)
		g.w(")")
	default: // exactly n, n > 0
		g.countedIn(e, "=", n)
	}
}

// countedIn: the user is among those with a count of matching rows that is cmp n.
func (g *gen) countedIn(e *countExpr, cmp string, n int) {
	g.w("(")
	g.outer("app_id")
	g.w(", ")
	g.outer("id")
	a := g.countFrom(e, false)
	g.w(` GROUP BY "`, a, `"."app_id", "`, a, `"."user_id" HAVING COUNT(*) `, cmp, " ")
	g.param(kNumber, n)
	g.w(")")
}

// countFrom writes FROM … WHERE … of the rows an event or page view condition counts:
// correlated with the outer user, or (for countedIn) the "IN (SELECT app_id, user_id"
// head and rows of the app. It returns the table alias.
func (g *gen) countFrom(e *countExpr, correlated bool) string {
	table, a := "event_occurrences", g.alias("o")
	if e.page {
		table, a = "page_views", g.alias("p")
	}
	if !correlated {
		g.w(`) IN (SELECT "`, a, `"."app_id", "`, a, `"."user_id"`)
	}
	g.w(` FROM "`, table, `" AS "`, a, `" WHERE `)
	if correlated {
		g.w(`"`, a, `"."app_id" = `)
		g.outer("app_id")
		g.w(` AND "`, a, `"."user_id" = `)
		g.outer("id")
	} else if g.app != 0 {
		g.w(`"`, a, `"."app_id" = `)
		g.param(kNumber, g.app)
	} else {
		g.w("TRUE")
	}
	if !e.page {
		g.w(" AND ")
		if correlated && !g.pg {
			// Per user, the (app_id, user_id, timestamp) index is the one to use; without
			// statistics SQLite prefers (app_id, event_definition_id, timestamp) and then
			// rescans the event's occurrences for every user (45 s instead of 0.2 s at
			// 20,000 users). A unary + keeps the column out of index selection.
			g.w("+")
		}
		g.w(`"`, a, `"."event_definition_id" = `)
		g.param(kNumber, e.eventID)
	}
	ts := ref{alias: a, col: "timestamp"}
	if e.from != nil {
		g.w(" AND ")
		g.ref(ts)
		g.w(" >= ")
		g.param(kTime, *e.from)
	}
	if e.to != nil {
		g.w(" AND ")
		g.ref(ts)
		if e.toIn {
			g.w(" <= ")
		} else {
			g.w(" < ")
		}
		g.param(kTime, *e.to)
	}
	if e.url != nil {
		g.w(" AND ")
		g.column(ref{alias: a, col: "url"}, *e.url)
	}
	for _, p := range e.props {
		g.w(" AND ")
		g.attr(ref{alias: a, col: "properties"}, p)
	}
	return a
}

func (g *gen) company(e *companyExpr) {
	m, c := g.alias("m"), g.alias("c")
	g.w(`EXISTS (SELECT 1 FROM "memberships" AS "`, m, `" JOIN "companies" AS "`, c,
		`" ON "`, c, `"."id" = "`, m, `"."company_id" WHERE "`, m, `"."app_id" = `)
	g.outer("app_id")
	g.w(` AND "`, m, `"."user_id" = `)
	g.outer("id")
	g.w(` AND "`, c, `"."app_id" = `)
	g.outer("app_id")
	for _, f := range e.fields {
		g.w(" AND ")
		g.column(ref{alias: c, col: f.col}, f.cmp)
	}
	for _, a := range e.attrs {
		g.w(" AND ")
		g.attr(ref{alias: c, col: "attributes"}, a)
	}
	g.w(")")
}
