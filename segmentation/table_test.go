package segmentation

import (
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

var tableNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return tableNow.Add(-d) }

const day = 24 * time.Hour

// seedTable writes the hand-made dataset: five users in app A (alice, bob, carol, dave,
// erin) and, in app B, a user zed who looks like alice plus rows of app B that point at
// app A's users (which no condition may see).
func seedTable(t *testing.T, db *storage.DB) *seeder {
	a := newApp(t, db, "A")
	a.def("USER", "plan", "FIXED", []string{"free", "pro", "enterprise"}, false)
	a.def("USER", "tags", "FIXED", []string{"red", "green", "blue"}, true)
	a.def("USER", "age", "INTEGER", nil, false)
	a.def("USER", "score", "FLOAT", nil, false)
	a.def("USER", "vip", "BOOLEAN", nil, false)
	a.def("USER", "birthday", "DATE", nil, false)
	a.def("USER", "trial_ends", "DATETIME", nil, false)
	a.def("USER", "nickname", "STRING", nil, false)
	a.def("USER", "meta", "JSON", nil, false)
	a.def("USER", `it's a "key".$[0]`, "STRING", nil, false)
	a.event("Signed Up")
	a.def("Purchased", "amount", "FLOAT", nil, false)
	a.def("Purchased", "currency", "STRING", nil, false)
	a.def("COMPANY", "industry", "STRING", nil, false)
	a.def("COMPANY", "mrr", "INTEGER", nil, false)
	a.def("COMPANY", "since", "DATE", nil, false)

	dt := func(t time.Time) string { return t.UTC().Format(dateTimeLayout) }
	alice := a.user(map[string]any{
		"user_id": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Smith",
		"country": "DE", "city": "Berlin", "page_views": 12,
		"first_seen": ago(100 * day), "last_seen": ago(day),
	}, map[string]any{
		"plan": "pro", "tags": []string{"red", "green"}, "age": 34, "score": 7.5, "vip": true,
		"birthday": "1990-05-01", "trial_ends": dt(tableNow.Add(5 * day)), "nickname": "Ally",
		"meta": map[string]any{"x": 1}, `it's a "key".$[0]`: "yes",
	})
	bob := a.user(map[string]any{
		"user_id": "bob", "email": "BOB@Example.org", "first_name": "Bob", "country": "US",
		"city": "New York", "page_views": 3, "first_seen": ago(5 * time.Hour), "last_seen": ago(2 * time.Hour),
	}, map[string]any{
		"plan": "free", "tags": []string{"blue"}, "age": 17, "score": 2, "vip": false,
		"birthday": "2008-02-29", "nickname": "bobby tables", "meta": []any{1, 2},
	})
	carol := a.user(map[string]any{
		"user_id": "carol", "first_name": "Carol", "country": "DE", "page_views": 0,
		"first_seen": ago(60 * day), "last_seen": ago(45 * day),
	}, map[string]any{
		"plan": "enterprise", "age": 51, "score": 9.25, "birthday": "1974-12-24",
		"trial_ends": dt(ago(50 * day)), "nickname": "CAROL",
	})
	dave := a.user(map[string]any{"user_id": "dave", "email": "dave@example.com"}, nil)
	erin := a.user(map[string]any{
		"user_id": "erin", "email": "erin@ex.com", "country": "FR", "page_views": 2,
		"first_seen": ago(400 * day), "last_seen": ago(31 * day),
	}, map[string]any{
		// Wrongly typed stored values count as missing.
		"age": "n/a", "birthday": "not a date", "trial_ends": "2025-06-01",
		"vip": true, "tags": "green",
	})

	a.occurrence(alice, "Signed Up", ago(100*day), nil)
	a.occurrence(alice, "Purchased", ago(40*day), map[string]any{"amount": 20, "currency": "EUR"})
	a.occurrence(alice, "Purchased", ago(10*day), map[string]any{"amount": 150.5, "currency": "EUR"})
	a.occurrence(alice, "Purchased", ago(2*day), map[string]any{"amount": 5, "currency": "USD"})
	a.occurrence(bob, "Signed Up", ago(5*time.Hour), nil)
	a.occurrence(carol, "Signed Up", ago(60*day), nil)
	a.occurrence(carol, "Purchased", ago(45*day), map[string]any{"amount": 1000, "currency": "USD"})
	a.occurrence(erin, "Purchased", ago(31*day), map[string]any{"amount": 30, "currency": "EUR"})
	a.occurrence(erin, "Purchased", ago(32*day), map[string]any{"amount": "thirty", "currency": "EUR"})

	a.pageView(alice, ptr("https://shop.example.com/pricing"), ago(3*day))
	a.pageView(alice, ptr("https://shop.example.com/Docs/intro"), ago(20*day))
	a.pageView(alice, ptr("https://shop.example.com/pricing?x=1"), ago(day))
	a.pageView(bob, ptr("https://example.com/"), ago(2*time.Hour))
	a.pageView(erin, ptr("https://shop.example.com/pricing"), ago(31*day))
	a.pageView(erin, ptr("https://shop.example.com/pricing"), ago(35*day))
	a.pageView(carol, nil, ago(45*day)) // a screen without URL

	acme := a.company(map[string]any{"group_id": "acme", "name": "Acme Inc", "employees": 50, "country": "DE"},
		map[string]any{"industry": "Software", "mrr": 1000, "since": "2020-01-01"})
	globex := a.company(map[string]any{"group_id": "globex", "name": "Globex Corporation", "employees": 2000},
		map[string]any{"industry": "Energy", "mrr": 50000, "since": "2022-03-01"})
	initech := a.company(map[string]any{"group_id": "initech"}, nil)
	a.member(alice, acme)
	a.member(bob, acme)
	a.member(bob, globex)
	a.member(carol, globex)
	a.member(erin, initech)

	b := newApp(t, db, "B")
	b.def("USER", "plan", "FIXED", []string{"free", "pro", "enterprise"}, false)
	b.def("Purchased", "amount", "FLOAT", nil, false)
	zed := b.user(map[string]any{
		"user_id": "zed", "email": "alice@example.com", "country": "DE", "page_views": 99,
		"first_seen": ago(time.Hour), "last_seen": ago(time.Hour),
	}, map[string]any{"plan": "pro"})
	b.occurrence(zed, "Purchased", ago(day), map[string]any{"amount": 5000})
	bco := b.company(map[string]any{"group_id": "acme", "name": "Acme Inc"}, nil)
	b.member(zed, bco)
	// Rows of app B that point at users of app A: dave must still have no page views,
	// no company and no events as far as app A's filters go.
	b.pageView(dave, ptr("https://shop.example.com/pricing"), ago(day))
	b.member(dave, bco)
	b.occurrence(dave, "Purchased", ago(day), map[string]any{"amount": 5000})
	return a
}

type tableCase struct {
	name   string
	filter string
	want   string // comma-separated userIds, sorted
}

var tableCases = []tableCase{
	// Standard fields.
	{"email equals", `{"field":{"field":"EMAIL","operator":"EQUALS","value":"alice@example.com"}}`, "alice"},
	{"equals is exact", `{"field":{"field":"EMAIL","operator":"EQUALS","value":"bob@example.org"}}`, ""},
	{"contains ignores case", `{"field":{"field":"EMAIL","operator":"CONTAINS","value":"EXAMPLE"}}`, "alice,bob,dave"},
	{"not contains keeps missing", `{"field":{"field":"EMAIL","operator":"NOT_CONTAINS","value":"example"}}`, "carol,erin"},
	{"starts with", `{"field":{"field":"EMAIL","operator":"STARTS_WITH","value":"bob@"}}`, "bob"},
	{"ends with", `{"field":{"field":"EMAIL","operator":"ENDS_WITH","value":".COM"}}`, "alice,dave,erin"},
	{"is set", `{"field":{"field":"EMAIL","operator":"IS_SET"}}`, "alice,bob,dave,erin"},
	{"is not set", `{"field":{"field":"EMAIL","operator":"IS_NOT_SET"}}`, "carol"},
	{"in", `{"field":{"field":"COUNTRY","operator":"IN","values":["DE","FR"]}}`, "alice,carol,erin"},
	{"not in keeps missing", `{"field":{"field":"COUNTRY","operator":"NOT_IN","values":["DE"]}}`, "bob,dave,erin"},
	{"not equals keeps missing", `{"field":{"field":"COUNTRY","operator":"NOT_EQUALS","value":"DE"}}`, "bob,dave,erin"},
	{"first name equals is exact", `{"field":{"field":"FIRST_NAME","operator":"EQUALS","value":"alice"}}`, ""},
	{"city contains", `{"field":{"field":"CITY","operator":"CONTAINS","value":"york"}}`, "bob"},
	{"user id starts with", `{"field":{"field":"USER_ID","operator":"STARTS_WITH","value":"A"}}`, "alice"},
	{"page views gt", `{"field":{"field":"PAGE_VIEWS","operator":"GT","value":3}}`, "alice"},
	{"page views gte", `{"field":{"field":"PAGE_VIEWS","operator":"GTE","value":"3"}}`, "alice,bob"},
	{"page views lt", `{"field":{"field":"PAGE_VIEWS","operator":"LT","value":3}}`, "carol,dave,erin"},
	{"page views lte", `{"field":{"field":"PAGE_VIEWS","operator":"LTE","value":0}}`, "carol,dave"},
	{"page views between", `{"field":{"field":"PAGE_VIEWS","operator":"BETWEEN","values":[1,12]}}`, "alice,bob,erin"},
	{"page views equals", `{"field":{"field":"PAGE_VIEWS","operator":"EQUALS","value":0}}`, "carol,dave"},
	{"page views gt fraction", `{"field":{"field":"PAGE_VIEWS","operator":"GT","value":2.5}}`, "alice,bob"},
	{"last seen within 30 days", `{"field":{"field":"LAST_SEEN","operator":"WITHIN_LAST_DAYS","days":30}}`, "alice,bob"},
	{"first seen within 24 hours", `{"field":{"field":"FIRST_SEEN","operator":"WITHIN_LAST_DAYS","hours":24}}`, "bob"},
	{"last seen more than 30 days ago", `{"field":{"field":"LAST_SEEN","operator":"MORE_THAN_DAYS_AGO","days":30}}`, "carol,erin"},
	{"first seen gt date", `{"field":{"field":"FIRST_SEEN","operator":"GT","value":"2025-01-01"}}`, "alice,bob,carol"},
	{"first seen lt time", `{"field":{"field":"FIRST_SEEN","operator":"LT","value":"2025-03-17T12:00:00Z"}}`, "alice,erin"},
	{"first seen lte unix", `{"field":{"field":"FIRST_SEEN","operator":"LTE","value":1741348800}}`, "alice,erin"},
	{"last seen gte offset", `{"field":{"field":"LAST_SEEN","operator":"GTE","value":"2025-06-15T12:00:00+02:00"}}`, "bob"},
	{"last seen between", `{"field":{"field":"LAST_SEEN","operator":"BETWEEN","values":["2025-04-01","2025-05-20"]}}`, "carol,erin"},
	{"last seen is not set", `{"field":{"field":"LAST_SEEN","operator":"IS_NOT_SET"}}`, "dave"},
	{"created at is set", `{"field":{"field":"CREATED_AT","operator":"IS_SET"}}`, "alice,bob,carol,dave,erin"},

	// Custom attributes.
	{"fixed equals", `{"attribute":{"key":"plan","operator":"EQUALS","value":"pro"}}`, "alice"},
	{"fixed equals any case", `{"attribute":{"key":"plan","operator":"EQUALS","value":"PRO"}}`, "alice"},
	{"fixed not equals", `{"attribute":{"key":"plan","operator":"NOT_EQUALS","value":"pro"}}`, "bob,carol,dave,erin"},
	{"fixed in", `{"attribute":{"key":"plan","operator":"IN","values":["free","enterprise"]}}`, "bob,carol"},
	{"fixed not in", `{"attribute":{"key":"plan","operator":"NOT_IN","values":["free"]}}`, "alice,carol,dave,erin"},
	{"multi contains", `{"attribute":{"key":"tags","operator":"CONTAINS","value":"green"}}`, "alice,erin"},
	{"multi equals only", `{"attribute":{"key":"tags","operator":"EQUALS","value":"green"}}`, "erin"},
	{"multi not contains", `{"attribute":{"key":"tags","operator":"NOT_CONTAINS","value":"red"}}`, "bob,carol,dave,erin"},
	{"multi in", `{"attribute":{"key":"tags","operator":"IN","values":["blue","red"]}}`, "alice,bob"},
	{"integer gt", `{"attribute":{"key":"age","operator":"GT","value":18}}`, "alice,carol"},
	{"integer lte", `{"attribute":{"key":"age","operator":"LTE","value":17}}`, "bob"},
	{"integer not equals", `{"attribute":{"key":"age","operator":"NOT_EQUALS","value":34}}`, "bob,carol,dave,erin"},
	{"integer is set ignores wrong type", `{"attribute":{"key":"age","operator":"IS_SET"}}`, "alice,bob,carol"},
	{"integer is not set", `{"attribute":{"key":"age","operator":"IS_NOT_SET"}}`, "dave,erin"},
	{"integer between", `{"attribute":{"key":"age","operator":"BETWEEN","values":["17",34]}}`, "alice,bob"},
	{"integer equals", `{"attribute":{"key":"age","operator":"EQUALS","value":51}}`, "carol"},
	{"float gte", `{"attribute":{"key":"score","operator":"GTE","value":7.5}}`, "alice,carol"},
	{"float lt", `{"attribute":{"key":"score","operator":"LT","value":2.5}}`, "bob"},
	{"float in", `{"attribute":{"key":"score","operator":"IN","values":[2,9.25]}}`, "bob,carol"},
	{"float not in", `{"attribute":{"key":"score","operator":"NOT_IN","values":[2,9.25]}}`, "alice,dave,erin"},
	{"float equals integral", `{"attribute":{"key":"score","operator":"EQUALS","value":2}}`, "bob"},
	{"boolean true", `{"attribute":{"key":"vip","operator":"EQUALS","value":true}}`, "alice,erin"},
	{"boolean from text", `{"attribute":{"key":"vip","operator":"EQUALS","value":"no"}}`, "bob"},
	{"boolean not equals", `{"attribute":{"key":"vip","operator":"NOT_EQUALS","value":true}}`, "bob,carol,dave"},
	{"date equals", `{"attribute":{"key":"birthday","operator":"EQUALS","value":"1990-05-01"}}`, "alice"},
	{"date lt", `{"attribute":{"key":"birthday","operator":"LT","value":"2000-01-01"}}`, "alice,carol"},
	{"date gt", `{"attribute":{"key":"birthday","operator":"GT","value":"2000-01-01"}}`, "bob"},
	{"date in", `{"attribute":{"key":"birthday","operator":"IN","values":["1974-12-24","2008-02-29T10:00:00Z"]}}`, "bob,carol"},
	{"date within last days", `{"attribute":{"key":"birthday","operator":"WITHIN_LAST_DAYS","days":7300}}`, "bob"},
	{"date more than days ago", `{"attribute":{"key":"birthday","operator":"MORE_THAN_DAYS_AGO","days":10000}}`, "alice,carol"},
	{"datetime gt", `{"attribute":{"key":"trial_ends","operator":"GT","value":"2025-06-15T12:00:00Z"}}`, "alice"},
	{"datetime within", `{"attribute":{"key":"trial_ends","operator":"WITHIN_LAST_DAYS","days":60}}`, "carol"},
	{"datetime more than days ago", `{"attribute":{"key":"trial_ends","operator":"MORE_THAN_DAYS_AGO","days":10}}`, "carol"},
	{"datetime is set ignores a date", `{"attribute":{"key":"trial_ends","operator":"IS_SET"}}`, "alice,carol"},
	{"string equals", `{"attribute":{"key":"nickname","operator":"EQUALS","value":"Ally"}}`, "alice"},
	{"string contains", `{"attribute":{"key":"nickname","operator":"CONTAINS","value":"ALL"}}`, "alice"},
	{"string starts with", `{"attribute":{"key":"nickname","operator":"STARTS_WITH","value":"bobby"}}`, "bob"},
	{"string ends with", `{"attribute":{"key":"nickname","operator":"ENDS_WITH","value":"rol"}}`, "carol"},
	{"string in", `{"attribute":{"key":"nickname","operator":"IN","values":["Ally","CAROL"]}}`, "alice,carol"},
	{"string not in", `{"attribute":{"key":"nickname","operator":"NOT_IN","values":["Ally"]}}`, "bob,carol,dave,erin"},
	{"string not contains", `{"attribute":{"key":"nickname","operator":"NOT_CONTAINS","value":"b"}}`, "alice,carol,dave,erin"},
	{"json is set", `{"attribute":{"key":"meta","operator":"IS_SET"}}`, "alice,bob"},
	{"json is not set", `{"attribute":{"key":"meta","operator":"IS_NOT_SET"}}`, "carol,dave,erin"},
	{"odd key", `{"attribute":{"key":"it's a \"key\".$[0]","operator":"EQUALS","value":"yes"}}`, "alice"},
	{"odd key contains", `{"attribute":{"key":"it's a \"key\".$[0]","operator":"CONTAINS","value":"Y"}}`, "alice"},

	// Events.
	{"did event", `{"event":{"name":"Purchased"}}`, "alice,carol,erin"},
	{"never did", `{"event":{"name":"Purchased","countOp":"EXACTLY","count":0}}`, "bob,dave"},
	{"at most 0", `{"event":{"name":"Purchased","countOp":"AT_MOST","count":0}}`, "bob,dave"},
	{"at least 2", `{"event":{"name":"Purchased","countOp":"AT_LEAST","count":2}}`, "alice,erin"},
	{"at least 0", `{"event":{"name":"Purchased","countOp":"AT_LEAST","count":0}}`, "alice,bob,carol,dave,erin"},
	{"at most 1", `{"event":{"name":"Purchased","countOp":"AT_MOST","count":1}}`, "bob,carol,dave"},
	{"exactly 2", `{"event":{"name":"Purchased","countOp":"EXACTLY","count":2}}`, "erin"},
	{"exactly 1", `{"event":{"name":"Purchased","countOp":"EXACTLY","count":1}}`, "carol"},
	{"in the last 30 days", `{"event":{"name":"Purchased","days":30}}`, "alice"},
	{"in the last 24 hours", `{"event":{"name":"Signed Up","hours":24}}`, "bob"},
	{"between dates", `{"event":{"name":"Purchased","from":"2025-05-01T00:00:00Z","to":"2025-05-16T00:00:00Z"}}`, "alice,carol,erin"},
	{"from only", `{"event":{"name":"Purchased","from":"2025-06-01T00:00:00Z"}}`, "alice"},
	{"to excluded", `{"event":{"name":"Purchased","to":"2025-05-06T12:00:00Z"}}`, "carol"},
	{"property equals, twice", `{"event":{"name":"Purchased","countOp":"AT_LEAST","count":2,"properties":[{"key":"currency","operator":"EQUALS","value":"EUR"}]}}`, "alice,erin"},
	{"property gt", `{"event":{"name":"Purchased","properties":[{"key":"amount","operator":"GT","value":100}]}}`, "alice,carol"},
	{"property not equals", `{"event":{"name":"Purchased","properties":[{"key":"currency","operator":"NOT_EQUALS","value":"EUR"}]}}`, "alice,carol"},
	{"property is not set (wrong type)", `{"event":{"name":"Purchased","properties":[{"key":"amount","operator":"IS_NOT_SET"}]}}`, "erin"},
	{"two properties", `{"event":{"name":"Purchased","properties":[{"key":"currency","operator":"EQUALS","value":"EUR"},{"key":"amount","operator":"LT","value":25}]}}`, "alice"},
	{"not did", `{"not":{"event":{"name":"Purchased"}}}`, "bob,dave"},

	// Page views.
	{"url contains", `{"pageView":{"operator":"CONTAINS","url":"/pricing"}}`, "alice,erin"},
	{"url equals", `{"pageView":{"operator":"EQUALS","url":"https://example.com/"}}`, "bob"},
	{"url starts with", `{"pageView":{"operator":"STARTS_WITH","url":"https://SHOP."}}`, "alice,erin"},
	{"url ends with", `{"pageView":{"operator":"ENDS_WITH","url":"/intro"}}`, "alice"},
	{"url contains ignores case", `{"pageView":{"operator":"CONTAINS","url":"docs"}}`, "alice"},
	{"url at least twice", `{"pageView":{"operator":"CONTAINS","url":"pricing","count":2}}`, "alice,erin"},
	{"url at least twice in 30 days", `{"pageView":{"operator":"CONTAINS","url":"pricing","count":2,"days":30}}`, "alice"},
	{"url exactly once", `{"pageView":{"operator":"CONTAINS","url":"example.com","countOp":"EXACTLY","count":1}}`, "bob"},
	{"url between", `{"pageView":{"operator":"CONTAINS","url":"pricing","from":"2025-05-01T00:00:00Z","to":"2025-05-12T00:00:00Z"}}`, "erin"},
	{"url never", `{"pageView":{"operator":"CONTAINS","url":"pricing","countOp":"EXACTLY","count":0}}`, "bob,carol,dave"},

	// Companies.
	{"company name contains", `{"company":{"fields":[{"field":"NAME","operator":"CONTAINS","value":"acme"}]}}`, "alice,bob"},
	{"company attribute gt", `{"company":{"attributes":[{"key":"mrr","operator":"GT","value":10000}]}}`, "bob,carol"},
	{"company field is not set", `{"company":{"fields":[{"field":"EMPLOYEES","operator":"IS_NOT_SET"}]}}`, "erin"},
	{"company employees gte", `{"company":{"fields":[{"field":"EMPLOYEES","operator":"GTE","value":100}]}}`, "bob,carol"},
	{"same company", `{"company":{"fields":[{"field":"GROUP_ID","operator":"EQUALS","value":"globex"}],"attributes":[{"key":"industry","operator":"EQUALS","value":"Energy"}]}}`, "bob,carol"},
	{"no single company", `{"company":{"fields":[{"field":"GROUP_ID","operator":"EQUALS","value":"acme"}],"attributes":[{"key":"industry","operator":"EQUALS","value":"Energy"}]}}`, ""},
	{"company date attribute", `{"company":{"attributes":[{"key":"since","operator":"LT","value":"2021-01-01"}]}}`, "alice,bob"},
	{"company created after", `{"company":{"fields":[{"field":"CREATED_AT","operator":"GT","value":"2000-01-01"}]}}`, "alice,bob,carol,erin"},
	{"any company", `{"company":{}}`, "alice,bob,carol,erin"},
	{"no company", `{"noCompany":true}`, "dave"},
	{"some company", `{"noCompany":false}`, "alice,bob,carol,erin"},

	// Trees.
	{"and", `{"and":[{"field":{"field":"COUNTRY","operator":"EQUALS","value":"DE"}},{"attribute":{"key":"vip","operator":"EQUALS","value":true}}]}`, "alice"},
	{"or", `{"or":[{"attribute":{"key":"plan","operator":"EQUALS","value":"free"}},{"noCompany":true}]}`, "bob,dave"},
	{"not of a negative", `{"not":{"field":{"field":"COUNTRY","operator":"NOT_EQUALS","value":"DE"}}}`, "alice,carol"},
	{"not not", `{"not":{"not":{"attribute":{"key":"age","operator":"GT","value":18}}}}`, "alice,carol"},
	{"empty and", `{"and":[]}`, "alice,bob,carol,dave,erin"},
	{"empty or", `{"or":[]}`, ""},
	{"empty root", `{}`, "alice,bob,carol,dave,erin"},
	{"nested", `{"and":[{"or":[{"event":{"name":"Purchased","days":30}},{"pageView":{"operator":"CONTAINS","url":"pricing"}}]},{"not":{"company":{"fields":[{"field":"NAME","operator":"CONTAINS","value":"globex"}]}}}]}`, "alice,erin"},
}

func TestTable(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		a := seedTable(t, db)
		loaded := a.defs()
		if loaded.AppID != a.app {
			t.Errorf("LoadDefinitions: app %d, want %d", loaded.AppID, a.app)
		}
		// Without the app id (definitions built by hand) the results are the same.
		anyApp := loaded
		anyApp.AppID = 0
		used := map[Operator]bool{}
		for _, tc := range tableCases {
			for _, defs := range []Definitions{loaded, anyApp} {
				f := mustDecode(t, tc.filter)
				collectOps(f, used)
				ids, err := a.query(f, defs, tableNow)
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
					continue
				}
				got := a.names(ids)
				want := []string{}
				if tc.want != "" {
					want = strings.Split(tc.want, ",")
				}
				if !sameStrings(got, want) {
					t.Errorf("%s (app %d): %s\n got  %v\n want %v", tc.name, defs.AppID, tc.filter, got, want)
				}
			}
		}
		for _, op := range Operators() {
			if !used[op] {
				t.Errorf("operator %s is not covered by the table", op)
			}
		}
	})
}

// TestDefaults evaluates the default segments on the hand-made dataset.
func TestDefaults(t *testing.T) {
	want := map[string]string{
		"Active":        "alice,bob",
		"New":           "bob",
		"With email":    "alice,bob,dave,erin",
		"Slipping away": "carol,erin",
	}
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		a := seedTable(t, db)
		defs := a.defs()
		segs := Defaults()
		if len(segs) != len(want) {
			t.Fatalf("%d default segments, want %d", len(segs), len(want))
		}
		for _, s := range segs {
			if err := Validate(s.Filter, defs); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
			// The stored form reads back to the same filter.
			m, err := s.Filter.Map()
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromMap(m)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			ids, err := a.query(back, defs, tableNow)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			if got := strings.Join(a.names(ids), ","); got != want[s.Name] {
				t.Errorf("%s: got %s, want %s", s.Name, got, want[s.Name])
			}
		}
	})
}

// TestOtherApp runs filters as app B: only zed, whatever app A holds.
func TestOtherApp(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		seedTable(t, db)
		apps, err := db.Client.App.Query().All(ctxSystem())
		if err != nil {
			t.Fatal(err)
		}
		var b *seeder
		for _, app := range apps {
			if app.Name == "B" {
				b = &seeder{t: t, db: db, ctx: viewerCtx(app.ID), app: app.ID}
			}
		}
		defs := b.defs()
		for _, js := range []string{
			`{"field":{"field":"EMAIL","operator":"EQUALS","value":"alice@example.com"}}`,
			`{"attribute":{"key":"plan","operator":"EQUALS","value":"pro"}}`,
			`{"event":{"name":"Purchased","properties":[{"key":"amount","operator":"GT","value":1000}]}}`,
			`{"company":{"fields":[{"field":"GROUP_ID","operator":"EQUALS","value":"acme"}]}}`,
			`{"pageView":{"operator":"CONTAINS","url":"pricing","countOp":"AT_MOST","count":0}}`,
		} {
			ids, err := b.query(mustDecode(t, js), defs, tableNow)
			if err != nil {
				t.Fatalf("%s: %v", js, err)
			}
			if got := strings.Join(b.names(ids), ","); got != "zed" {
				t.Errorf("%s: got %q, want zed", js, got)
			}
		}
		// App A's definitions do not exist in app B.
		if err := Validate(mustDecode(t, `{"attribute":{"key":"age","operator":"IS_SET"}}`), defs); err == nil {
			t.Error("app A's attribute validated in app B")
		}
	})
}

func collectOps(f *Filter, used map[Operator]bool) {
	if f == nil {
		return
	}
	for _, k := range append(append([]*Filter{}, f.And...), f.Or...) {
		collectOps(k, used)
	}
	collectOps(f.Not, used)
	if f.Field != nil {
		used[f.Field.Operator] = true
	}
	if f.Attribute != nil {
		used[f.Attribute.Operator] = true
	}
	if f.Event != nil {
		for _, p := range f.Event.Properties {
			used[p.Operator] = true
		}
	}
	if f.PageView != nil {
		used[f.PageView.Operator] = true
	}
	if f.Company != nil {
		for _, c := range f.Company.Fields {
			used[c.Operator] = true
		}
		for _, c := range f.Company.Attributes {
			used[c.Operator] = true
		}
	}
}
