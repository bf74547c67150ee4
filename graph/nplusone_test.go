package graph_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// countingDriver records the statements Ent sends (outside transactions).
type countingDriver struct {
	dialect.Driver
	mu         sync.Mutex
	on         bool
	statements []string
}

func (d *countingDriver) record(q string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Key lookups belong to authentication, which caches them; they are not the query's.
	if d.on && !strings.Contains(q, "api_keys") {
		d.statements = append(d.statements, q)
	}
}

func (d *countingDriver) Query(ctx context.Context, q string, args, v any) error {
	d.record(q)
	return d.Driver.Query(ctx, q, args, v)
}

func (d *countingDriver) Exec(ctx context.Context, q string, args, v any) error {
	d.record(q)
	return d.Driver.Exec(ctx, q, args, v)
}

// count runs fn and returns the statements it sent.
func (d *countingDriver) count(fn func()) []string {
	d.mu.Lock()
	d.on, d.statements = true, nil
	d.mu.Unlock()
	fn()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.on = false
	return d.statements
}

// TestUsersPageQueriesDoNotGrowWithPageSize is the N+1 guard: a dashboard's page of
// users with their anonymous ids, attributes, companies (with the companies' attributes
// and counts), latest page views and events costs the same number of statements for 5
// users as for 50.
func TestUsersPageQueriesDoNotGrowWithPageSize(t *testing.T) {
	for _, dia := range dbtest.Dialects(t) {
		t.Run(dia, func(t *testing.T) {
			counter := &countingDriver{}
			db := dbtest.Open(t, dia, storage.Options{Driver: func(d dialect.Driver) dialect.Driver {
				counter.Driver = d
				return counter
			}})
			e := &env{Env: apitest.New(t, db, apitest.Options{}), t: t}
			var msgs []msg
			for i := range 60 {
				u := fmt.Sprintf("u%02d", i)
				msgs = append(msgs,
					identify(u, "anon-"+u, msg{"email": u + "@example.com", "plan": "pro", "seats": i}),
					group(u, "g1", msg{"name": "One", "tier": "gold"}),
					group(u, fmt.Sprintf("g%d", 2+i%5), msg{"name": "Other", "region": "eu"}),
					page(u, "https://example.com/a", "2024-05-01T10:00:00Z"),
					page(u, "https://example.com/b", "2024-05-01T11:00:00Z"),
					track(u, "Clicked", "2024-05-01T10:00:00Z", nil),
					track(u, "Clicked", "2024-05-01T12:00:00Z", nil),
					track(u, "Signed Up", "2024-05-01T11:00:00Z", nil),
				)
			}
			e.batch(msgs...)
			const q = `query($n: Int) { users(first: $n, orderBy: {field: EMAIL}) { totalCount
				edges { cursor node { id userId email anonymousIds attributes { key type value } plan: attribute(key: "plan")
					companies(first: 5) { totalCount edges { node { groupId name attributes { key type value } } } }
					pageViewHistory(first: 1) { edges { node { url } } }
					events(first: 2) { totalCount edges { node { name timestamp } } pageInfo { hasNextPage } }
					clicks: events(name: "Clicked") { totalCount } } }
				pageInfo { hasNextPage endCursor } } }`
			run := func(n int) []string {
				return counter.count(func() {
					var out struct {
						Users struct {
							Edges []struct {
								Node struct {
									AnonymousIDs []string `json:"anonymousIds"`
									Attributes   []attrValue
									Companies    struct {
										TotalCount int
										Edges      []struct {
											Node struct{ Attributes []attrValue }
										}
									}
									PageViewHistory struct {
										Edges []struct{ Node struct{ URL string } }
									}
									Events struct {
										TotalCount int
										Edges      []struct {
											Node struct{ Name, Timestamp string }
										}
										PageInfo struct{ HasNextPage bool }
									}
									Clicks struct{ TotalCount int }
								}
							}
						}
					}
					e.gql(q, vars{"n": n}, &out)
					if len(out.Users.Edges) != n {
						t.Fatalf("%d users, want %d", len(out.Users.Edges), n)
					}
					for _, u := range out.Users.Edges {
						c := u.Node.Companies
						if len(u.Node.AnonymousIDs) != 1 || len(u.Node.Attributes) != 2 || c.TotalCount != 2 || len(c.Edges) != 2 || len(c.Edges[0].Node.Attributes) != 1 {
							t.Fatalf("user: %+v", u.Node)
						}
						ph, ev := u.Node.PageViewHistory, u.Node.Events
						if len(ph.Edges) != 1 || ph.Edges[0].Node.URL != "https://example.com/b" {
							t.Fatalf("page views: %+v", ph)
						}
						if ev.TotalCount != 3 || len(ev.Edges) != 2 || !ev.PageInfo.HasNextPage || u.Node.Clicks.TotalCount != 2 ||
							ev.Edges[0].Node.Timestamp != "2024-05-01T12:00:00Z" || ev.Edges[1].Node.Name != "Signed Up" {
							t.Fatalf("events: %+v, clicks %d", ev, u.Node.Clicks.TotalCount)
						}
					}
				})
			}
			small, large := run(5), run(50)
			t.Logf("%s: %d statements for 5 users, %d for 50", dia, len(small), len(large))
			if len(large) != len(small) {
				t.Errorf("statements grow with the page size: %d for 5 users, %d for 50:\n%s", len(small), len(large), strings.Join(large, "\n"))
			}
			if len(small) > 12 {
				t.Errorf("%d statements for one page:\n%s", len(small), strings.Join(small, "\n"))
			}
		})
	}
}
