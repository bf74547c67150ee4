package graph

import (
	"context"
	"sort"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/eventoccurrence"
	"github.com/peoplegraph/peoplegraph/ent/pageview"
	"github.com/peoplegraph/peoplegraph/ent/predicate"
)

// A user's page views and event occurrences are timelines: newest first (by time, then
// id), paged forward. They are loaded for every user of the list being resolved at once
// (batch.go): one grouped count and one query that keeps the first rows of each user
// (a window function, entgql.LimitPerRow), whatever the number of users.
var timelineKeyset = keyset{column: "timestamp", kind: kindTime, desc: true}

// timelinePage is one user's page of a timeline.
type timelinePage[T any] struct {
	nodes   []T
	cursors []ent.Cursor
	info    ent.PageInfo
	total   int
}

// timeline loads pages of one kind of row for many users.
type timeline[T any] struct {
	// count returns the number of rows per user.
	count func(ctx context.Context, users []int) (map[int]int, error)
	// fetch returns the rows of the window for the users, at most limit per user.
	fetch func(ctx context.Context, users []int, w window, node *graphql.CollectedField, limitPerUser func(*sql.Selector)) ([]T, error)
	user  func(T) int
	id    func(T) int
	time  func(T) time.Time
}

// pages loads the page p of every user's timeline.
func (tl timeline[T]) pages(ctx context.Context, users []int, p page, w window, sel connectionFields) (map[int]timelinePage[T], error) {
	out := make(map[int]timelinePage[T], len(users))
	var totals map[int]int
	if sel.totalCount {
		var err error
		if totals, err = tl.count(ctx, users); err != nil {
			return nil, err
		}
	}
	byUser := map[int][]T{}
	if sel.edges || sel.pageInfo {
		limit := entgql.LimitPerRow("user_id", w.limit, sql.ExprFunc(func(b *sql.Builder) {
			b.Ident("timestamp").WriteString(" DESC, ").Ident("id").WriteString(" DESC")
		}))
		rows, err := tl.fetch(ctx, users, w, sel.node, limit)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			byUser[tl.user(row)] = append(byUser[tl.user(row)], row)
		}
	}
	for _, u := range users {
		rows := byUser[u]
		// The window function limits each user's rows; the order of what it returns is
		// the database's, so it is restored here.
		sort.Slice(rows, func(i, j int) bool {
			ti, tj := tl.time(rows[i]), tl.time(rows[j])
			if !ti.Equal(tj) {
				return ti.After(tj)
			}
			return tl.id(rows[i]) > tl.id(rows[j])
		})
		nodes, info := finish(p, w, rows)
		cursors := make([]ent.Cursor, len(nodes))
		for i, n := range nodes {
			cursors[i] = timelineKeyset.cursor(tl.id(n), tl.time(n))
		}
		out[u] = timelinePage[T]{nodes: nodes, cursors: cursors, info: pageInfoFor(info, cursors), total: totals[u]}
	}
	return out, nil
}

// timelineOf returns the user's page of a timeline field, loading the pages of every
// user of the list at once; the batch is per field alias (siblings share arguments).
func timelineOf[T any](ctx context.Context, loader string, userID int, first *int, after *ent.Cursor, tl timeline[T]) (timelinePage[T], error) {
	p, err := pageOf(first, after, nil, nil)
	if err != nil {
		return timelinePage[T]{}, err
	}
	w, err := timelineKeyset.window(p)
	if err != nil {
		return timelinePage[T]{}, err
	}
	sel := selectedConnectionFields(ctx)
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		loader += ":" + fc.Field.Alias
	}
	return loadBatch(ctx, loader, userID, pickUser, func(users []int) (map[int]timelinePage[T], error) {
		return tl.pages(ctx, users, p, w, sel)
	})
}

// ensureColumns adds columns to a narrowed selection (Ent's CollectFields selects only
// what the query asks for; paging needs the user and the time of every row).
func ensureColumns(cols ...string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if len(s.SelectedColumns()) == 0 {
			return
		}
		for _, c := range cols {
			if len(s.FindSelection(c)) == 0 {
				s.AppendSelect(s.C(c))
			}
		}
	}
}

func (r *Resolver) eventTimeline(name *string) timeline[*ent.EventOccurrence] {
	base := func(users []int) *ent.EventOccurrenceQuery {
		q := r.Client.EventOccurrence.Query().Where(eventoccurrence.UserIDIn(users...))
		if name != nil {
			q.Where(eventoccurrence.Name(*name))
		}
		return q
	}
	return timeline[*ent.EventOccurrence]{
		count: func(ctx context.Context, users []int) (map[int]int, error) {
			var rows []userCount
			err := base(users).GroupBy(eventoccurrence.FieldUserID).Aggregate(ent.Count()).Scan(ctx, &rows)
			return countsByUser(rows), err
		},
		fetch: func(ctx context.Context, users []int, w window, node *graphql.CollectedField, limit func(*sql.Selector)) ([]*ent.EventOccurrence, error) {
			q := base(users)
			for _, p := range w.where {
				q.Where(predicate.EventOccurrence(p))
			}
			q.Order(eventoccurrence.OrderOption(w.order))
			if node != nil {
				var err error
				if q, err = q.CollectFields(nodeContext(ctx, node), "EventOccurrence", "Node"); err != nil {
					return nil, err
				}
			}
			q.Modify(ensureColumns(eventoccurrence.FieldUserID, eventoccurrence.FieldTimestamp), limit)
			return q.All(ctx)
		},
		user: func(o *ent.EventOccurrence) int { return o.UserID },
		id:   func(o *ent.EventOccurrence) int { return o.ID },
		time: func(o *ent.EventOccurrence) time.Time { return o.Timestamp },
	}
}

func (r *Resolver) pageViewTimeline() timeline[*ent.PageView] {
	base := func(users []int) *ent.PageViewQuery {
		return r.Client.PageView.Query().Where(pageview.UserIDIn(users...))
	}
	return timeline[*ent.PageView]{
		count: func(ctx context.Context, users []int) (map[int]int, error) {
			var rows []userCount
			err := base(users).GroupBy(pageview.FieldUserID).Aggregate(ent.Count()).Scan(ctx, &rows)
			return countsByUser(rows), err
		},
		fetch: func(ctx context.Context, users []int, w window, node *graphql.CollectedField, limit func(*sql.Selector)) ([]*ent.PageView, error) {
			q := base(users)
			for _, p := range w.where {
				q.Where(predicate.PageView(p))
			}
			q.Order(pageview.OrderOption(w.order))
			if node != nil {
				var err error
				if q, err = q.CollectFields(nodeContext(ctx, node), "PageView", "Node"); err != nil {
					return nil, err
				}
			}
			q.Modify(ensureColumns(pageview.FieldUserID, pageview.FieldTimestamp), limit)
			return q.All(ctx)
		},
		user: func(v *ent.PageView) int { return v.UserID },
		id:   func(v *ent.PageView) int { return v.ID },
		time: func(v *ent.PageView) time.Time { return v.Timestamp },
	}
}

type userCount struct {
	UserID int `json:"user_id"`
	Count  int `json:"count"`
}

func countsByUser(rows []userCount) map[int]int {
	m := make(map[int]int, len(rows))
	for _, r := range rows {
		m[r.UserID] = r.Count
	}
	return m
}
