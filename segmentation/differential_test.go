package segmentation

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

var (
	flagTrees = flag.Int("segmentation.trees", 300, "random filter trees per dialect in TestDifferential")
	flagSeed  = flag.Uint64("segmentation.seed", 0, "seed of TestDifferential (0: a new one each run)")
	flagUsers = flag.Int("segmentation.users", 60, "users of the random dataset in TestDifferential")
)

// diffNow is the "now" of the random dataset: microseconds, like every stored time.
var diffNow = time.Date(2025, 6, 15, 12, 0, 0, 123456000, time.UTC)

// TestDifferential evaluates random filter trees over a random dataset in SQL and with
// evalFilter, a plain Go evaluator written from docs/segments.md for this test only, and
// requires the same users. Replay a failure with -segmentation.seed=N (and the same
// -segmentation.trees / -segmentation.users).
func TestDifferential(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -segmentation.seed=%d)", seed, seed)
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		rng := rand.New(rand.NewPCG(seed, 0x5e9))
		w := generateWorld(t, db, rng, *flagUsers)
		snap := w.snapshot()
		var failures, empty, all, nodes, maxDepth int
		for i := 0; i < *flagTrees && failures < 10; i++ {
			f := w.filter(rng, 0)
			js, _ := json.Marshal(f)
			// Through the JSON form, as saved segments and GraphQL variables arrive.
			f = mustDecode(t, string(js))
			if err := Validate(f, w.defs); err != nil {
				t.Fatalf("seed %d tree %d: the generator made an invalid filter %s: %v", seed, i, js, err)
			}
			got, err := w.query(f, w.defs, diffNow)
			if err != nil {
				t.Fatalf("seed %d tree %d: %s: %v", seed, i, js, err)
			}
			want := snap.eval(f)
			if !slices.Equal(got, want) {
				failures++
				t.Errorf("seed %d tree %d: %s\n sql %v\n go  %v\n sql only %v, go only %v", seed, i, js,
					got, want, minus(got, want), minus(want, got))
				continue
			}
			switch len(got) {
			case 0:
				empty++
			case len(snap.users):
				all++
			}
			n, d := treeSize(f)
			nodes += n
			maxDepth = max(maxDepth, d)
		}
		t.Logf("%s: %d trees over %d users (%d selected none, %d all, %d some; %d nodes, depth ≤ %d)",
			db.Dialect, *flagTrees, len(snap.users), empty, all, *flagTrees-empty-all, nodes, maxDepth)
	})
}

func minus(a, b []int) []int {
	var out []int
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func treeSize(f *Filter) (nodes, depth int) {
	nodes = 1
	kids := append(append([]*Filter{}, f.And...), f.Or...)
	if f.Not != nil {
		kids = append(kids, f.Not)
	}
	for _, k := range kids {
		n, d := treeSize(k)
		nodes += n
		depth = max(depth, d)
	}
	if len(kids) > 0 {
		depth++
	}
	return nodes, depth
}

// --- the random dataset ---

type attrSpec struct {
	key     string
	typ     string
	choices []string
	multi   bool
}

var (
	userAttrs = []attrSpec{
		{"s", "STRING", nil, false},
		{`we"ird.$[0] key`, "STRING", nil, false},
		{"i", "INTEGER", nil, false},
		{"f", "FLOAT", nil, false},
		{"b", "BOOLEAN", nil, false},
		{"d", "DATE", nil, false},
		{"dt", "DATETIME", nil, false},
		{"fx", "FIXED", []string{"a", "b", "c", "Ünï"}, false},
		{"fm", "FIXED", []string{"x", "y", "z"}, true},
		{"j", "JSON", nil, false},
	}
	companyAttrs = []attrSpec{
		{"industry", "STRING", nil, false},
		{"seats", "INTEGER", nil, false},
		{"renewal", "DATE", nil, false},
		{"tier", "FIXED", []string{"gold", "silver"}, false},
	}
	eventProps = map[string][]attrSpec{
		"Purchase": {
			{"amount", "FLOAT", nil, false},
			{"qty", "INTEGER", nil, false},
			{"gift", "BOOLEAN", nil, false},
			{"day", "DATE", nil, false},
			{"at", "DATETIME", nil, false},
			{"color", "FIXED", []string{"red", "green"}, false},
			{"tags", "FIXED", []string{"p", "q"}, true},
			{"note", "STRING", nil, false},
		},
		"Signup": {{"plan", "STRING", nil, false}},
		"Logout": nil,
	}
	eventNames = []string{"Purchase", "Signup", "Logout"}

	textPool = []string{"alice", "Alice", "ALICE", "bob", "Bob Smith", "Ärger", "ärger", "straße",
		"foo%bar", "under_score", "", "x'y\"z", "Berlin", "berlin", "DE", "de", "New York",
		"alice@example.com", "BOB@Example.org", "日本語"}
	urlPool = []string{"https://a.example.com/pricing", "https://a.example.com/Pricing?plan=pro",
		"https://b.example.org/docs/intro", "https://a.example.com/", "https://ä.example/ÄRGER"}
	floatPool = []float64{-1.5, 0, 0.25, 2, 3.75, 10.5, 1e6}
)

type world struct {
	*seeder
	defs      Definitions
	userTexts []string
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// randTime is within about four months before now and two days after it; a fifth of
// the times are whole days or hours before now, so windows meet them at their edges.
func randTime(rng *rand.Rand) time.Time {
	switch rng.IntN(5) {
	case 0:
		return diffNow.Add(-time.Duration(rng.IntN(61)) * 24 * time.Hour)
	case 1:
		return diffNow.Add(-time.Duration(rng.IntN(73)) * time.Hour)
	}
	span := int64(122 * 24 * time.Hour / time.Microsecond)
	return diffNow.Add(-120*24*time.Hour + time.Duration(rng.Int64N(span))*time.Microsecond)
}

func randDate(rng *rand.Rand) string {
	today := time.Date(diffNow.Year(), diffNow.Month(), diffNow.Day(), 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, 30-rng.IntN(430)).Format(dateLayout)
}

// storedValue is a stored attribute value of the spec's type; one in fifteen is of a
// wrong shape (which every condition must take as missing, or as text where it is text).
func storedValue(rng *rand.Rand, s attrSpec) any {
	if rng.IntN(15) == 0 {
		return pick(rng, []any{nil, "12", "oops", 7, 1.5, true, "2024-1-5", "2024-01-05",
			"2024-01-05T00:00:00.000000Z", 20240105, []any{1, "x"}, []any{"p"}, map[string]any{"a": 1}})
	}
	switch s.typ {
	case "STRING":
		return pick(rng, textPool)
	case "INTEGER":
		return rng.IntN(46) - 5
	case "FLOAT":
		if rng.IntN(2) == 0 {
			return pick(rng, floatPool)
		}
		return float64(rng.IntN(80)-20) / 4
	case "BOOLEAN":
		return rng.IntN(2) == 0
	case "DATE":
		return randDate(rng)
	case "DATETIME":
		return randTime(rng).Format(dateTimeLayout)
	case "FIXED":
		if !s.multi {
			return pick(rng, s.choices)
		}
		var out []string
		for _, c := range s.choices {
			if rng.IntN(2) == 0 {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			out = []string{s.choices[0]}
		}
		return out
	case "JSON":
		return pick(rng, []any{map[string]any{"a": 1}, []any{1, 2}, "str", 5, true})
	}
	panic(s.typ)
}

func randAttrs(rng *rand.Rand, specs []attrSpec, p int) map[string]any {
	m := map[string]any{}
	for _, s := range specs {
		if rng.IntN(100) < p {
			m[s.key] = storedValue(rng, s)
		}
	}
	return m
}

func maybeText(rng *rand.Rand) any {
	if rng.IntN(4) == 0 {
		return nil
	}
	return pick(rng, textPool)
}

func generateWorld(t *testing.T, db *storage.DB, rng *rand.Rand, nUsers int) *world {
	a := newApp(t, db, "A")
	for _, s := range userAttrs {
		a.def("USER", s.key, s.typ, s.choices, s.multi)
	}
	for _, s := range companyAttrs {
		a.def("COMPANY", s.key, s.typ, s.choices, s.multi)
	}
	for _, name := range eventNames {
		a.event(name)
		for _, s := range eventProps[name] {
			a.def(name, s.key, s.typ, s.choices, s.multi)
		}
	}
	var companies []int
	for i := range 6 {
		fields := map[string]any{"group_id": fmt.Sprintf("g%d", i), "created_at": randTime(rng)}
		for _, col := range []string{"name", "description", "email", "phone", "country", "region", "city", "street", "postal_code"} {
			fields[col] = maybeText(rng)
		}
		if rng.IntN(4) > 0 {
			fields["employees"] = rng.IntN(500)
		}
		companies = append(companies, a.company(fields, randAttrs(rng, companyAttrs, 70)))
	}
	var users []int
	for i := range nUsers {
		fields := map[string]any{"page_views": rng.IntN(31), "created_at": randTime(rng)}
		for _, f := range UserFields() {
			col := userColumns[f]
			if col.kind == colText {
				fields[col.name] = maybeText(rng)
			}
		}
		fields["user_id"] = fmt.Sprintf("u%d", i)
		if rng.IntN(3) == 0 {
			fields["user_id"] = nil
		}
		if rng.IntN(5) > 0 {
			fields["first_seen"] = randTime(rng)
		}
		if rng.IntN(5) > 0 {
			fields["last_seen"] = randTime(rng)
		}
		u := a.user(fields, randAttrs(rng, userAttrs, 70))
		users = append(users, u)
		for range rng.IntN(7) {
			name := pick(rng, eventNames)
			a.occurrence(u, name, randTime(rng), randAttrs(rng, eventProps[name], 75))
		}
		for range rng.IntN(6) {
			var url *string
			if rng.IntN(8) > 0 {
				url = ptr(pick(rng, urlPool))
			}
			a.pageView(u, url, randTime(rng))
		}
		for _, c := range rng.Perm(len(companies))[:rng.IntN(3)] {
			a.member(u, companies[c])
		}
	}
	// Another app, with rows that point at app A's users: no condition may see them.
	b := newApp(t, db, "B")
	b.def("USER", "s", "STRING", nil, false)
	bc := b.company(map[string]any{"group_id": "g0", "name": "alice"}, nil)
	b.user(map[string]any{"user_id": "u0", "email": "alice"}, map[string]any{"s": "alice"})
	for _, u := range users[:min(5, len(users))] {
		b.occurrence(u, "Purchase", randTime(rng), map[string]any{"amount": 1.5})
		b.pageView(u, ptr(urlPool[0]), randTime(rng))
		b.member(u, bc)
	}
	w := &world{seeder: a, defs: a.defs()}
	for _, s := range textPool {
		if s != "" {
			w.userTexts = append(w.userTexts, s)
		}
	}
	return w
}

// --- random filters ---

func (w *world) filter(rng *rand.Rand, depth int) *Filter {
	if depth < 4 && rng.IntN(10) < 4 {
		switch rng.IntN(5) {
		case 0, 1:
			f := &Filter{And: []*Filter{}}
			for range rng.IntN(4) {
				f.And = append(f.And, w.filter(rng, depth+1))
			}
			return f
		case 2, 3:
			f := &Filter{Or: []*Filter{}}
			for range rng.IntN(4) {
				f.Or = append(f.Or, w.filter(rng, depth+1))
			}
			return f
		default:
			return &Filter{Not: w.filter(rng, depth+1)}
		}
	}
	switch n := rng.IntN(20); {
	case n < 6:
		field := pick(rng, UserFields())
		op, value, values, days, hours := w.operands(rng, kindOfColumn(userColumns[field].kind), attrSpec{})
		return &Filter{Field: &FieldCondition{Field: field, Operator: op, Value: value, Values: values, Days: days, Hours: hours}}
	case n < 12:
		return &Filter{Attribute: w.attrCond(rng, pick(rng, userAttrs))}
	case n < 15:
		name := pick(rng, eventNames)
		e := &EventCondition{Name: name}
		e.CountOp, e.Count, e.Days, e.Hours, e.From, e.To = w.counting(rng)
		if props := eventProps[name]; len(props) > 0 {
			for range rng.IntN(3) {
				e.Properties = append(e.Properties, w.attrCond(rng, pick(rng, props)))
			}
		}
		return &Filter{Event: e}
	case n < 17:
		p := &PageViewCondition{Operator: pick(rng, []Operator{Equals, Contains, StartsWith, EndsWith})}
		u := pick(rng, urlPool)
		if p.Operator == Equals {
			p.URL = u
		} else {
			p.URL = w.fragment(rng, u, p.Operator)
		}
		p.CountOp, p.Count, p.Days, p.Hours, p.From, p.To = w.counting(rng)
		return &Filter{PageView: p}
	case n < 19:
		c := &CompanyCondition{}
		for range rng.IntN(3) {
			field := pick(rng, CompanyFields())
			op, value, values, days, hours := w.operands(rng, kindOfColumn(companyColumns[field].kind), attrSpec{})
			c.Fields = append(c.Fields, &CompanyFieldCondition{Field: field, Operator: op, Value: value, Values: values, Days: days, Hours: hours})
		}
		for range rng.IntN(2) {
			c.Attributes = append(c.Attributes, w.attrCond(rng, pick(rng, companyAttrs)))
		}
		return &Filter{Company: c}
	default:
		return &Filter{NoCompany: ptr(rng.IntN(2) == 0)}
	}
}

func (w *world) attrCond(rng *rand.Rand, s attrSpec) *AttributeCondition {
	kind := map[string]valueKind{"STRING": kText, "INTEGER": kNumber, "FLOAT": kNumber, "BOOLEAN": kBool,
		"DATE": kDate, "DATETIME": kDateTime, "FIXED": kFixed, "JSON": kJSON}[s.typ]
	op, value, values, days, hours := w.operands(rng, kind, s)
	return &AttributeCondition{Key: s.key, Operator: op, Value: value, Values: values, Days: days, Hours: hours}
}

func (w *world) counting(rng *rand.Rand) (op *CountOp, n *int, days, hours *int, from, to *time.Time) {
	if rng.IntN(3) > 0 {
		op = ptr(pick(rng, CountOps()))
	}
	if rng.IntN(3) > 0 {
		n = ptr(rng.IntN(4))
	}
	switch rng.IntN(6) {
	case 1:
		days = ptr(rng.IntN(61))
	case 2:
		hours = ptr(rng.IntN(73))
	case 3:
		from = ptr(randTime(rng))
	case 4:
		to = ptr(randTime(rng))
	case 5:
		x, y := randTime(rng), randTime(rng)
		if y.Before(x) {
			x, y = y, x
		}
		if !y.After(x) {
			y = x.Add(time.Hour)
		}
		from, to = &x, &y
	}
	return
}

// fragment is a non-empty piece of s for a text operator, in a random case.
func (w *world) fragment(rng *rand.Rand, s string, op Operator) string {
	r := []rune(s)
	if len(r) == 0 {
		return "a"
	}
	i, j := 0, len(r)
	switch op {
	case StartsWith:
		j = 1 + rng.IntN(len(r))
	case EndsWith:
		i = rng.IntN(len(r))
	default:
		i = rng.IntN(len(r))
		j = i + 1 + rng.IntN(len(r)-i)
	}
	out := []rune(string(r[i:j]))
	for k := range out {
		if rng.IntN(3) == 0 {
			out[k] = []rune(strings.ToUpper(string(out[k])))[0]
		}
	}
	return string(out)
}

// operands picks an operator allowed for kind and operands for it.
func (w *world) operands(rng *rand.Rand, kind valueKind, s attrSpec) (Operator, any, []any, *int, *int) {
	op := pick(rng, operatorsByKind[kind])
	switch op {
	case IsSet, IsNotSet:
		return op, nil, nil, nil, nil
	case WithinLastDays, MoreThanDaysAgo:
		if kind != kDate && rng.IntN(2) == 0 {
			return op, nil, nil, nil, ptr(rng.IntN(73))
		}
		if kind == kDate {
			return op, nil, nil, ptr(rng.IntN(400)), nil
		}
		return op, nil, nil, ptr(rng.IntN(61)), nil
	case In, NotIn:
		n := 1 + rng.IntN(4)
		var vals []any
		for range n {
			vals = append(vals, w.operand(rng, kind, s, Equals))
		}
		return op, nil, vals, nil, nil
	case Between:
		return op, nil, []any{w.operand(rng, kind, s, op), w.operand(rng, kind, s, op)}, nil, nil
	}
	return op, w.operand(rng, kind, s, op), nil, nil, nil
}

// operand is one operand for kind, in one of the spellings the filter accepts.
func (w *world) operand(rng *rand.Rand, kind valueKind, s attrSpec, op Operator) any {
	switch kind {
	case kText:
		v := pick(rng, textPool)
		if op == Contains || op == NotContains || op == StartsWith || op == EndsWith {
			return w.fragment(rng, pick(rng, w.userTexts), op)
		}
		if rng.IntN(10) == 0 {
			return json.Number("5") // a number compared as its text
		}
		return v
	case kNumber:
		switch rng.IntN(4) {
		case 0:
			return json.Number(fmt.Sprint(rng.IntN(46) - 5))
		case 1:
			return fmt.Sprint(rng.IntN(46) - 5)
		case 2:
			return pick(rng, floatPool)
		}
		return float64(rng.IntN(80)-20) / 4
	case kTime, kDateTime:
		t := randTime(rng)
		switch rng.IntN(4) {
		case 0:
			return t.Truncate(time.Second).Unix()
		case 1:
			return t.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
		}
		return t.Format(time.RFC3339Nano)
	case kDate:
		if rng.IntN(4) == 0 {
			return randTime(rng).Format(time.RFC3339)
		}
		return randDate(rng)
	case kBool:
		return pick(rng, []any{true, false, "yes", "0", json.Number("1")})
	case kFixed:
		c := pick(rng, s.choices)
		if rng.IntN(4) == 0 {
			c = strings.ToUpper(c)
		}
		return c
	}
	panic(kind)
}

// --- the in-memory evaluator, from the documented rules ---

type snapshot struct {
	users     []*ent.User
	defs      Definitions
	events    map[int][]*ent.EventOccurrence
	views     map[int][]*ent.PageView
	companies map[int][]*ent.Company
}

func (w *world) snapshot() *snapshot {
	c := w.db.Client
	s := &snapshot{defs: w.defs, events: map[int][]*ent.EventOccurrence{}, views: map[int][]*ent.PageView{},
		companies: map[int][]*ent.Company{}}
	var err error
	s.users, err = c.User.Query().All(w.ctx)
	w.check(err)
	occ, err := c.EventOccurrence.Query().All(w.ctx)
	w.check(err)
	for _, o := range occ {
		s.events[o.UserID] = append(s.events[o.UserID], o)
	}
	views, err := c.PageView.Query().All(w.ctx)
	w.check(err)
	for _, v := range views {
		s.views[v.UserID] = append(s.views[v.UserID], v)
	}
	comps, err := c.Company.Query().All(w.ctx)
	w.check(err)
	byID := map[int]*ent.Company{}
	for _, co := range comps {
		byID[co.ID] = co
	}
	ms, err := c.Membership.Query().All(w.ctx)
	w.check(err)
	for _, m := range ms {
		if co := byID[m.CompanyID]; co != nil {
			s.companies[m.UserID] = append(s.companies[m.UserID], co)
		}
	}
	return s
}

func (s *snapshot) eval(f *Filter) []int {
	out := []int{}
	for _, u := range s.users {
		if s.match(f, u) {
			out = append(out, u.ID)
		}
	}
	sort.Ints(out)
	return out
}

func (s *snapshot) match(f *Filter, u *ent.User) bool {
	switch {
	case f == nil || f.isEmpty():
		return true
	case f.And != nil:
		for _, k := range f.And {
			if !s.match(k, u) {
				return false
			}
		}
		return true
	case f.Or != nil:
		for _, k := range f.Or {
			if s.match(k, u) {
				return true
			}
		}
		return false
	case f.Not != nil:
		return !s.match(f.Not, u)
	case f.Field != nil:
		c := f.Field
		v, kind := userValue(u, c.Field)
		return compare(kind, attrSpec{}, c.Operator, c.Value, c.Values, c.Days, c.Hours, v)
	case f.Attribute != nil:
		return attrMatch(s.defs.User, u.Attributes, f.Attribute)
	case f.Event != nil:
		e := f.Event
		id := s.defs.Events[e.Name].ID
		props := s.defs.Events[e.Name].Properties
		n := 0
		for _, o := range s.events[u.ID] {
			if o.EventDefinitionID != id || !inWindow(o.Timestamp, e.Days, e.Hours, e.From, e.To) {
				continue
			}
			ok := true
			for _, p := range e.Properties {
				ok = ok && attrMatch(props, o.Properties, p)
			}
			if ok {
				n++
			}
		}
		return countMatches(n, e.CountOp, e.Count)
	case f.PageView != nil:
		p := f.PageView
		n := 0
		for _, v := range s.views[u.ID] {
			if v.URL != nil && inWindow(v.Timestamp, p.Days, p.Hours, p.From, p.To) &&
				compare(kText, attrSpec{}, p.Operator, p.URL, nil, nil, nil, *v.URL) {
				n++
			}
		}
		return countMatches(n, p.CountOp, p.Count)
	case f.Company != nil:
		for _, co := range s.companies[u.ID] {
			ok := true
			for _, c := range f.Company.Fields {
				v, kind := companyValue(co, c.Field)
				ok = ok && compare(kind, attrSpec{}, c.Operator, c.Value, c.Values, c.Days, c.Hours, v)
			}
			for _, a := range f.Company.Attributes {
				ok = ok && attrMatch(s.defs.Company, co.Attributes, a)
			}
			if ok {
				return true
			}
		}
		return false
	default:
		return (len(s.companies[u.ID]) == 0) == *f.NoCompany
	}
}

func countMatches(n int, op *CountOp, count *int) bool {
	want := 1
	if count != nil {
		want = *count
	}
	o := AtLeast
	if op != nil {
		o = *op
	}
	switch o {
	case AtMost:
		return n <= want
	case Exactly:
		return n == want
	}
	return n >= want
}

func inWindow(t time.Time, days, hours *int, from, to *time.Time) bool {
	switch {
	case days != nil:
		return !t.Before(diffNow.AddDate(0, 0, -*days)) && !t.After(diffNow)
	case hours != nil:
		return !t.Before(diffNow.Add(-time.Duration(*hours)*time.Hour)) && !t.After(diffNow)
	}
	if from != nil && t.Before(*from) {
		return false
	}
	if to != nil && !t.Before(*to) {
		return false
	}
	return true
}

func str(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func tm(p *time.Time) any {
	if p == nil {
		return nil
	}
	return *p
}

func userValue(u *ent.User, f UserField) (any, valueKind) {
	switch f {
	case UserPageViews:
		return float64(u.PageViews), kNumber
	case UserFirstSeen:
		return tm(u.FirstSeen), kTime
	case UserLastSeen:
		return tm(u.LastSeen), kTime
	case UserCreatedAt:
		return u.CreatedAt, kTime
	}
	m := map[UserField]*string{
		UserEmail: u.Email, UserFirstName: u.FirstName, UserLastName: u.LastName, UserPhone: u.Phone,
		UserGender: u.Gender, UserCountry: u.Country, UserRegion: u.Region, UserCity: u.City,
		UserStreet: u.Street, UserPostalCode: u.PostalCode, UserUserAgent: u.UserAgent, UserOS: u.Os,
		UserDeviceName: u.DeviceName, UserDeviceType: u.DeviceType, UserLanguage: u.Language,
		UserResolution: u.Resolution, UserIPAddress: u.IPAddress, UserBrowserFamily: u.BrowserFamily,
		UserBrowserVersion: u.BrowserVersion, UserTimezone: u.Timezone, UserCurrentURL: u.CurrentURL,
		UserUserID: u.UserID,
	}
	return str(m[f]), kText
}

func companyValue(c *ent.Company, f CompanyField) (any, valueKind) {
	switch f {
	case CompanyEmployees:
		if c.Employees == nil {
			return nil, kNumber
		}
		return float64(*c.Employees), kNumber
	case CompanyCreatedAt:
		return c.CreatedAt, kTime
	case CompanyGroupID:
		return c.GroupID, kText
	}
	m := map[CompanyField]*string{
		CompanyName: c.Name, CompanyDescription: c.Description, CompanyEmail: c.Email, CompanyPhone: c.Phone,
		CompanyCountry: c.Country, CompanyRegion: c.Region, CompanyCity: c.City, CompanyStreet: c.Street,
		CompanyPostalCode: c.PostalCode,
	}
	return str(m[f]), kText
}

var (
	datePattern     = `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	dateTimePattern = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$`
)

// attrMatch reads the stored value of an attribute the way docs/segments.md says: a value
// whose JSON type is not its type's stored form is missing.
func attrMatch(defs map[string]attribute.Definition, m map[string]any, c *AttributeCondition) bool {
	def := defs[c.Key]
	raw := m[c.Key]
	var v any
	var kind valueKind
	switch def.Type {
	case "STRING":
		kind = kText
		if s, ok := raw.(string); ok {
			v = s
		}
	case "INTEGER", "FLOAT":
		kind = kNumber
		if n, ok := raw.(float64); ok {
			v = n
		}
	case "BOOLEAN":
		kind = kBool
		if b, ok := raw.(bool); ok {
			v = b
		}
	case "DATE", "DATETIME":
		kind, pattern := kDate, datePattern
		if def.Type == "DATETIME" {
			kind, pattern = kDateTime, dateTimePattern
		}
		if s, ok := raw.(string); ok && regexpMatch(pattern, s) {
			if kind == kDateTime {
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					panic(err)
				}
				v = t
			} else {
				v = s
			}
		}
		return compare(kind, attrSpec{choices: def.Choices}, c.Operator, c.Value, c.Values, c.Days, c.Hours, v)
	case "FIXED":
		kind = kFixed
		switch x := raw.(type) {
		case string:
			v = x
		case []any:
			v = x
		}
	case "JSON":
		kind = kJSON
		v = raw
	}
	return compare(kind, attrSpec{choices: def.Choices}, c.Operator, c.Value, c.Values, c.Days, c.Hours, v)
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// compare applies op to the value actual (nil: missing) of a field or attribute.
func compare(kind valueKind, s attrSpec, op Operator, value any, values []any, days, hours *int, actual any) bool {
	switch op {
	case IsSet:
		return actual != nil
	case IsNotSet:
		return actual == nil
	case NotEquals:
		return !compare(kind, s, Equals, value, values, days, hours, actual)
	case NotContains:
		return !compare(kind, s, Contains, value, values, days, hours, actual)
	case NotIn:
		return !compare(kind, s, NotIn+"-", value, values, days, hours, actual)
	}
	if actual == nil {
		return false
	}
	if op == In || op == NotIn+"-" {
		for _, v := range values {
			if compare(kind, s, Equals, v, nil, nil, nil, actual) ||
				(kind == kFixed && compare(kind, s, Contains, v, nil, nil, nil, actual)) {
				return true
			}
		}
		return false
	}
	switch kind {
	case kText:
		a, v := actual.(string), text(value)
		switch op {
		case Equals:
			return a == v
		case Contains:
			return strings.Contains(foldASCII(a), foldASCII(v))
		case StartsWith:
			return strings.HasPrefix(foldASCII(a), foldASCII(v))
		case EndsWith:
			return strings.HasSuffix(foldASCII(a), foldASCII(v))
		}
	case kNumber:
		a := actual.(float64)
		if op == Between {
			return num(values[0]) <= a && a <= num(values[1])
		}
		return order(op, cmpFloat(a, num(value)))
	case kTime, kDateTime:
		a := actual.(time.Time)
		switch op {
		case Between:
			return !a.Before(when(values[0])) && !a.After(when(values[1]))
		case WithinLastDays, MoreThanDaysAgo:
			cut := diffNow.Add(-time.Duration(deref(hours))*time.Hour).AddDate(0, 0, -deref(days))
			if op == MoreThanDaysAgo {
				return a.Before(cut)
			}
			return !a.Before(cut) && !a.After(diffNow)
		}
		return order(op, a.Compare(when(value)))
	case kDate:
		a := actual.(string)
		today := time.Date(diffNow.Year(), diffNow.Month(), diffNow.Day(), 0, 0, 0, 0, time.UTC)
		switch op {
		case Between:
			return date(values[0]) <= a && a <= date(values[1])
		case WithinLastDays:
			return today.AddDate(0, 0, -*days).Format(dateLayout) <= a && a <= today.Format(dateLayout)
		case MoreThanDaysAgo:
			return a < today.AddDate(0, 0, -*days).Format(dateLayout)
		}
		return order(op, strings.Compare(a, date(value)))
	case kBool:
		b, _ := attribute.Coerce(attribute.Definition{Type: attribute.Boolean}, value)
		return actual.(bool) == b.(bool)
	case kFixed:
		c, ok := attribute.Coerce(attribute.Definition{Type: attribute.Fixed, Choices: s.choices}, value)
		if !ok {
			panic(fmt.Sprintf("not a choice: %v", value))
		}
		var set []any
		switch x := actual.(type) {
		case string:
			if op == Equals {
				return x == c
			}
			set = []any{x}
		case []any:
			if op == Equals {
				return len(x) == 1 && x[0] == c
			}
			set = x
		}
		return slices.Contains(set, any(c))
	}
	panic(fmt.Sprintf("compare: kind %d op %s", kind, op))
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func order(op Operator, c int) bool {
	switch op {
	case Equals:
		return c == 0
	case GT:
		return c > 0
	case GTE:
		return c >= 0
	case LT:
		return c < 0
	case LTE:
		return c <= 0
	}
	panic(op)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func foldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, s)
}

func text(v any) string {
	s, ok := attribute.Coerce(attribute.Definition{Type: attribute.String}, v)
	if !ok {
		panic(fmt.Sprintf("not text: %v", v))
	}
	return s.(string)
}

func num(v any) float64 {
	n, ok := attribute.Coerce(attribute.Definition{Type: attribute.Float}, v)
	if !ok {
		panic(fmt.Sprintf("not a number: %v", v))
	}
	return n.(float64)
}

func when(v any) time.Time {
	s, ok := attribute.Coerce(attribute.Definition{Type: attribute.DateTime}, v)
	if !ok {
		panic(fmt.Sprintf("not a time: %v", v))
	}
	t, err := time.Parse(time.RFC3339Nano, s.(string))
	if err != nil {
		panic(err)
	}
	return t
}

func date(v any) string {
	s, ok := attribute.Coerce(attribute.Definition{Type: attribute.Date}, v)
	if !ok {
		panic(fmt.Sprintf("not a date: %v", v))
	}
	return s.(string)
}
