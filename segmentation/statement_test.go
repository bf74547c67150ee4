package segmentation

import (
	"context"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/ent/predicate"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// recorder is a driver that records the statements sent through it.
type recorder struct {
	dialect.Driver
	mu    sync.Mutex
	stmts []recorded
}

type recorded struct {
	query string
	args  []any
}

func (r *recorder) record(query string, args any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, _ := args.([]any)
	r.stmts = append(r.stmts, recorded{query, a})
}

func (r *recorder) Exec(ctx context.Context, query string, args, v any) error {
	r.record(query, args)
	return r.Driver.Exec(ctx, query, args, v)
}

func (r *recorder) Query(ctx context.Context, query string, args, v any) error {
	r.record(query, args)
	return r.Driver.Query(ctx, query, args, v)
}

func (r *recorder) Tx(ctx context.Context) (dialect.Tx, error) {
	// Statements inside transactions are not counted; a filter query uses none.
	return r.Driver.Tx(ctx)
}

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

// openRecorded opens a fresh database of each dialect whose driver records statements.
func openRecorded(t *testing.T, fn func(t *testing.T, db *storage.DB, rec *recorder)) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			rec := &recorder{}
			db := dbtest.Open(t, d, storage.Options{Driver: func(drv dialect.Driver) dialect.Driver {
				rec.Driver = drv
				return rec
			}})
			fn(t, db, rec)
		})
	}
}

// A filter with every kind of condition is one SQL statement, whether the users are
// listed, counted or only their ids are read.
func TestOneStatement(t *testing.T) {
	const everything = `{"and":[
		{"field":{"field":"EMAIL","operator":"CONTAINS","value":"example"}},
		{"or":[
			{"attribute":{"key":"plan","operator":"IN","values":["pro","enterprise"]}},
			{"attribute":{"key":"age","operator":"GT","value":18}},
			{"not":{"attribute":{"key":"tags","operator":"CONTAINS","value":"red"}}}
		]},
		{"event":{"name":"Purchased","countOp":"AT_LEAST","count":2,"days":90,
			"properties":[{"key":"currency","operator":"EQUALS","value":"EUR"}]}},
		{"pageView":{"operator":"STARTS_WITH","url":"https://shop.","countOp":"AT_MOST","count":10}},
		{"company":{"fields":[{"field":"NAME","operator":"CONTAINS","value":"acme"}],
			"attributes":[{"key":"mrr","operator":"GTE","value":500}]}},
		{"not":{"noCompany":true}}
	]}`
	openRecorded(t, func(t *testing.T, db *storage.DB, rec *recorder) {
		a := seedTable(t, db)
		defs := a.defs()
		f := mustDecode(t, everything)
		p, err := Predicate(f, defs, db.Dialect, tableNow)
		if err != nil {
			t.Fatal(err)
		}
		rec.take()
		users, err := db.Client.User.Query().Where(predicate.User(p)).All(a.ctx)
		if err != nil {
			t.Fatal(err)
		}
		stmts := rec.take()
		if len(stmts) != 1 {
			t.Fatalf("listing took %d statements, want 1: %v", len(stmts), stmts)
		}
		if len(users) != 1 || *users[0].UserID != "alice" {
			t.Errorf("got %d users, want alice", len(users))
		}
		t.Logf("%s\n%v", stmts[0].query, stmts[0].args)
		q := stmts[0].query
		for _, v := range []string{"example", "pro", "enterprise", "EUR", "https://shop.", "acme", "plan", "currency", "mrr"} {
			if strings.Contains(q, "'"+v+"'") || strings.Contains(q, `"`+v+`"`) {
				t.Errorf("the value %q is in the SQL text instead of a parameter", v)
			}
		}
		if n, err := db.Client.User.Query().Where(predicate.User(p)).Count(a.ctx); err != nil || n != 1 {
			t.Errorf("count: %d, %v", n, err)
		}
		if got := len(rec.take()); got != 1 {
			t.Errorf("counting took %d statements, want 1", got)
		}
	})
}

// A filter at the size limits stays within the databases' limits on bind parameters.
func TestLargestFilterRuns(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		a := seedTable(t, db)
		defs := a.defs()
		many := make([]any, MaxValues)
		for i := range many {
			many[i] = []string{"red", "green", "blue"}[i%3]
		}
		f := &Filter{Or: []*Filter{}}
		for range MaxTotalValues / MaxValues {
			f.Or = append(f.Or, &Filter{Attribute: &AttributeCondition{Key: "tags", Operator: NotIn, Values: many}})
		}
		for len(f.Or) < 50 {
			f.Or = append(f.Or, &Filter{Event: &EventCondition{Name: "Purchased", Count: ptr(2), Days: ptr(30),
				Properties: []*AttributeCondition{{Key: "currency", Operator: StartsWith, Value: "E"}}}})
		}
		for len(f.Or) < MaxNodes-1 {
			f.Or = append(f.Or, &Filter{Field: &FieldCondition{Field: UserCity, Operator: EndsWith, Value: "zz"}})
		}
		ids, err := a.query(f, defs, tableNow)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(a.names(ids), ","); got != "carol,dave" {
			t.Errorf("got %s", got)
		}
	})
}
