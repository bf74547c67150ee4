package segmentation

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/ent/predicate"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

var (
	flagExplain      = flag.String("segmentation.explain", "", "write EXPLAIN ANALYZE of typical filters on a seeded PostgreSQL to this file (needs "+dbtest.EnvURL+")")
	flagExplainUsers = flag.Int("segmentation.explain.users", 100_000, "users seeded for -segmentation.explain (ten occurrences each)")
)

// TestExplain seeds a larger PostgreSQL app, adds the proposed indexes by hand and writes
// the plans of typical filters before and after (docs/segments.md shows them). It runs
// only with -segmentation.explain=FILE.
func TestExplain(t *testing.T) {
	if *flagExplain == "" {
		t.Skip("run with -segmentation.explain=FILE")
	}
	if os.Getenv(dbtest.EnvURL) == "" {
		t.Skip(dbtest.EnvURL + " is not set")
	}
	rec := &recorder{}
	db := dbtest.Open(t, "postgres", storage.Options{Driver: func(d dialect.Driver) dialect.Driver {
		rec.Driver = d
		return rec
	}})
	ctx := context.Background()
	a := newApp(t, db, "A")
	a.def("USER", "plan", "FIXED", []string{"free", "pro", "enterprise"}, false)
	a.def("USER", "age", "INTEGER", nil, false)
	a.def("Purchased", "amount", "FLOAT", nil, false)
	for _, e := range []string{"Signed Up", "Viewed Item", "Logged In"} {
		a.event(e)
	}
	other := newApp(t, db, "B") // a second tenant of the same size, so app_id matters
	other.event("Purchased")
	n := *flagExplainUsers
	for _, app := range []*seeder{a, other} {
		purchased := app.event("Purchased")
		others := fmt.Sprintf("ARRAY[%d,%d,%d]", app.event("Signed Up"), app.event("Viewed Item"), app.event("Logged In"))
		stmts := []string{
			// 2% pro, ages 0–79, last seen within 90 days.
			fmt.Sprintf(`INSERT INTO users (app_id, created_at, updated_at, user_id, email, page_views, first_seen, last_seen, attributes)
			SELECT %d, now(), now(), 'u' || g, 'u' || g || '@example.com', g %% 50,
				now() - (g %% 365) * interval '1 day', now() - (g %% 90) * interval '1 day',
				jsonb_build_object('plan', CASE WHEN g %% 50 = 0 THEN 'pro' WHEN g %% 3 = 0 THEN 'enterprise' ELSE 'free' END, 'age', g %% 80)
			FROM generate_series(1, %d) g`, app.app, n),
			// Ten occurrences a user over 180 days; one in ten is a purchase.
			fmt.Sprintf(`INSERT INTO event_occurrences (app_id, user_id, event_definition_id, name, properties, "timestamp", message_id, received_at)
			SELECT %[1]d, u.id, CASE WHEN (u.id + k) %% 10 = 0 THEN %[2]d ELSE (%[3]s)[1 + k %% 3] END, 'e',
				jsonb_build_object('amount', (u.id + k) %% 200), now() - ((u.id * 7 + k * 13) %% 180) * interval '1 day',
				'm' || u.id || '-' || k, now()
			FROM users u, generate_series(1, 10) k WHERE u.app_id = %[1]d`, app.app, purchased, others),
		}
		for _, s := range stmts {
			if _, err := db.SQL.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	if _, err := db.SQL.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	defs := a.defs()
	filters := []struct{ name, js string }{
		{"attribute equality (plan = pro)", `{"attribute":{"key":"plan","operator":"EQUALS","value":"pro"}}`},
		{"attribute range (age > 70)", `{"attribute":{"key":"age","operator":"GT","value":70}}`},
		{"event count in a window (Purchased at least 3 times in the last 30 days)", `{"event":{"name":"Purchased","countOp":"AT_LEAST","count":3,"days":30}}`},
		{"event in a window with a property (Purchased in the last 7 days, amount > 150)", `{"event":{"name":"Purchased","days":7,"properties":[{"key":"amount","operator":"GT","value":150}]}}`},
		{"never did (no Purchased in the last 30 days)", `{"event":{"name":"Purchased","countOp":"EXACTLY","count":0,"days":30}}`},
		{"default segment Active", `{"field":{"field":"LAST_SEEN","operator":"WITHIN_LAST_DAYS","days":30}}`},
	}
	var out strings.Builder
	explain := func(stage string) {
		fmt.Fprintf(&out, "## %s\n\n", stage)
		for _, f := range filters {
			p, err := Predicate(mustDecode(t, f.js), defs, db.Dialect, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			rec.take()
			count, err := db.Client.User.Query().Where(predicate.User(p)).Count(a.ctx)
			if err != nil {
				t.Fatal(err)
			}
			stmt := rec.take()[0]
			rows, err := db.SQL.QueryContext(ctx, "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) "+stmt.query, stmt.args...)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "### %s — %d users\n\n%s\n\n```\n", f.name, count, f.js)
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				out.WriteString(line + "\n")
			}
			rows.Close()
			out.WriteString("```\n\n")
		}
	}
	explain("Indexes of the Ent schema only")
	for _, s := range []string{
		`CREATE INDEX users_attributes_gin ON users USING gin (attributes jsonb_path_ops)`,
		`CREATE INDEX eventoccurrence_app_id_user_id_event_definition_id_timestamp ON event_occurrences (app_id, user_id, event_definition_id, "timestamp")`,
		`ANALYZE`,
	} {
		if _, err := db.SQL.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	explain("With the proposed indexes")
	if err := os.WriteFile(*flagExplain, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
