package graph

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/peoplegraph/peoplegraph/ent"
)

// Page sizes of every connection. PageSize (the handler extension in limits.go) fills in
// first: DefaultPageSize when a query gives neither first nor last, and refuses more
// than MaxPageSize, before anything runs; the resolvers check again for direct callers.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// page is the validated Relay arguments of one connection field.
type page struct {
	first, last   *int
	after, before *ent.Cursor
}

// pageOf validates Relay arguments: first or last (not both), 0 to MaxPageSize, first
// defaulting to DefaultPageSize.
func pageOf(first *int, after *ent.Cursor, last *int, before *ent.Cursor) (page, error) {
	switch {
	case first != nil && last != nil:
		return page{}, BadInput("last", "pass first or last, not both")
	case first != nil && (*first < 0 || *first > MaxPageSize):
		return page{}, BadInput("first", fmt.Sprintf("must be between 0 and %d", MaxPageSize))
	case last != nil && (*last < 0 || *last > MaxPageSize):
		return page{}, BadInput("last", fmt.Sprintf("must be between 0 and %d", MaxPageSize))
	case first == nil && last == nil:
		n := DefaultPageSize
		first = &n
	}
	return page{first: first, last: last, after: after, before: before}, nil
}

// size is the number of nodes the page asks for.
func (p page) size() int {
	if p.last != nil {
		return *p.last
	}
	return *p.first
}

// valueKind is the Go form of an ordering column's values in cursors.
type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindTime
)

// keyset orders a connection by one column (then by id) and pages through it with
// cursors. Unlike Ent's generated pagers it handles NULLs: rows without a value come
// last in either direction, on PostgreSQL and SQLite alike, and cursors on such rows
// work. An empty column orders by id alone.
type keyset struct {
	column   string
	kind     valueKind
	nullable bool
	desc     bool
}

// cursorValue is what a keyset cursor carries besides the id: the column (so a cursor
// of another ordering is refused) and the value, nil for NULL. Times are RFC 3339 text.
func (k keyset) cursor(id int, value any) ent.Cursor {
	if k.column == "" {
		return ent.Cursor{ID: id}
	}
	switch v := value.(type) {
	case time.Time:
		value = v.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		value = nil
		if v != nil {
			value = v.UTC().Format(time.RFC3339Nano)
		}
	case *string:
		value = nil
		if v != nil {
			value = *v
		}
	case *int:
		value = nil
		if v != nil {
			value = int64(*v)
		}
	case int:
		value = int64(v)
	}
	return ent.Cursor{ID: id, Value: []any{k.column, value}}
}

// decode returns the value of a cursor of this keyset (nil for NULL), or an error
// naming the argument when the cursor belongs to another ordering or is malformed.
func (k keyset) decode(arg string, c *ent.Cursor) (any, error) {
	bad := BadInput(arg, "the cursor does not belong to this connection and order")
	if k.column == "" {
		if c.Value != nil {
			return nil, bad
		}
		return nil, nil
	}
	pair, ok := c.Value.([]any)
	if !ok || len(pair) != 2 || pair[0] != k.column {
		return nil, bad
	}
	if pair[1] == nil {
		if !k.nullable {
			return nil, bad
		}
		return nil, nil
	}
	switch k.kind {
	case kindString:
		if s, ok := pair[1].(string); ok {
			return s, nil
		}
	case kindTime:
		if s, ok := pair[1].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UTC(), nil
			}
		}
	case kindInt:
		rv := reflect.ValueOf(pair[1])
		switch {
		case rv.CanInt():
			return rv.Int(), nil
		case rv.CanUint() && rv.Uint() <= 1<<62:
			return int64(rv.Uint()), nil
		}
	}
	return nil, bad
}

// order returns the ORDER BY of the keyset, reversed for backward pages.
func (k keyset) order(reverse bool) func(*sql.Selector) {
	desc := k.desc != reverse
	dir := func(col string) string {
		if desc {
			return col + " DESC"
		}
		return col
	}
	return func(s *sql.Selector) {
		if k.column != "" {
			if k.nullable {
				nulls := s.C(k.column) + " IS NULL"
				if reverse {
					nulls += " DESC"
				}
				s.OrderExpr(sql.Expr(nulls))
			}
			s.OrderExpr(sql.Expr(dir(s.C(k.column))))
		}
		s.OrderExpr(sql.Expr(dir(s.C("id"))))
	}
}

// beyond returns the predicate "the row comes after the cursor" (later=true) or "before
// the cursor" in the keyset's forward order.
func (k keyset) beyond(id int, value any, later bool) func(*sql.Selector) {
	// In forward order, "after" a cursor means greater for ASC and less for DESC.
	greater := later != k.desc
	cmp := func(col string, v any) *sql.Predicate {
		if greater {
			return sql.GT(col, v)
		}
		return sql.LT(col, v)
	}
	return func(s *sql.Selector) {
		idCol := s.C("id")
		if k.column == "" {
			s.Where(cmp(idCol, id))
			return
		}
		col := s.C(k.column)
		var p *sql.Predicate
		switch {
		case value == nil && later:
			// Only NULL rows follow a NULL row.
			p = sql.And(sql.IsNull(col), cmp(idCol, id))
		case value == nil:
			// Every non-NULL row precedes a NULL row.
			p = sql.Or(sql.NotNull(col), cmp(idCol, id))
		default:
			p = sql.Or(cmp(col, value), sql.And(sql.EQ(col, value), cmp(idCol, id)))
			if later && k.nullable {
				p = sql.Or(p, sql.IsNull(col))
			}
		}
		s.Where(p)
	}
}

// window is what to fetch for a page: the predicates, the order and the limit (one
// more than the page, to know whether there is more).
type window struct {
	where   []func(*sql.Selector)
	order   func(*sql.Selector)
	limit   int
	reverse bool
	// selectColumn adds the ordering column to a narrowed selection (a query modifier),
	// so cursors can be built from the rows.
	selectColumn func(*sql.Selector)
}

func (k keyset) window(p page) (window, error) {
	w := window{reverse: p.last != nil, limit: p.size() + 1}
	w.order = k.order(w.reverse)
	for _, c := range []struct {
		arg    string
		cursor *ent.Cursor
		later  bool
	}{{"after", p.after, true}, {"before", p.before, false}} {
		if c.cursor == nil {
			continue
		}
		v, err := k.decode(c.arg, c.cursor)
		if err != nil {
			return window{}, err
		}
		w.where = append(w.where, k.beyond(c.cursor.ID, v, c.later))
	}
	col := k.column
	w.selectColumn = func(s *sql.Selector) {
		if col != "" && len(s.SelectedColumns()) > 0 && len(s.FindSelection(col)) == 0 {
			s.AppendSelect(s.C(col))
		}
	}
	return w, nil
}

// finish trims the extra row of a window and restores forward order.
func finish[T any](p page, w window, rows []T) (nodes []T, info ent.PageInfo) {
	n := p.size()
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	if w.reverse {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		info.HasPreviousPage = more
		info.HasNextPage = p.before != nil
	} else {
		info.HasNextPage = more
		info.HasPreviousPage = p.after != nil
	}
	return rows, info
}

// connectionFields reports which fields of the connection the query selects.
type connectionFields struct {
	edges, pageInfo, totalCount bool
	// node is the edges.node field, for Ent's CollectFields (nil when not selected).
	node *graphql.CollectedField
}

func selectedConnectionFields(ctx context.Context) connectionFields {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return connectionFields{edges: true, pageInfo: true, totalCount: true}
	}
	opCtx := graphql.GetOperationContext(ctx)
	var out connectionFields
	for _, f := range graphql.CollectFields(opCtx, fc.Field.Selections, nil) {
		switch f.Name {
		case "edges":
			out.edges = true
			for _, n := range graphql.CollectFields(opCtx, f.Selections, nil) {
				if n.Name == "node" && out.node == nil {
					n := n
					out.node = &n
				}
			}
		case "pageInfo":
			out.pageInfo = true
		case "totalCount":
			out.totalCount = true
		}
	}
	return out
}

// nodeContext is ctx with the connection's edges.node as the current field, so that
// Ent's CollectFields eager-loads what the nodes' selection asks for.
func nodeContext(ctx context.Context, node *graphql.CollectedField) context.Context {
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: *node, Args: map[string]any{}})
}

// pageInfoFor sets the start and end cursors of a page.
func pageInfoFor(info ent.PageInfo, cursors []ent.Cursor) ent.PageInfo {
	if len(cursors) > 0 {
		info.StartCursor = &cursors[0]
		info.EndCursor = &cursors[len(cursors)-1]
	}
	return info
}

// pagedQuery is what paginate needs of one Ent query type: its count, a window of its
// rows (eager-loading what the nodes select, when ctx carries the node field), and each
// row's id and ordering value.
type pagedQuery[N any] struct {
	count func(context.Context) (int, error)
	fetch func(ctx context.Context, w window, eager bool) ([]N, error)
	id    func(N) int
	value func(N, string) any
}

// paged is one page of a connection: the rows, their cursors and the page info.
type paged[N any] struct {
	total   int
	nodes   []N
	cursors []ent.Cursor
	info    ent.PageInfo
}

// paginate pages q by k, running only what the query selects: the count when
// totalCount is asked for, the window when edges or pageInfo are.
func paginate[N any](ctx context.Context, q pagedQuery[N], p page, k keyset) (paged[N], error) {
	var out paged[N]
	sel := selectedConnectionFields(ctx)
	if sel.totalCount {
		n, err := q.count(ctx)
		if err != nil {
			return out, err
		}
		out.total = n
	}
	if !sel.edges && !sel.pageInfo {
		return out, nil
	}
	w, err := k.window(p)
	if err != nil {
		return out, err
	}
	fetchCtx := ctx
	if sel.node != nil {
		fetchCtx = nodeContext(ctx, sel.node)
	}
	rows, err := q.fetch(fetchCtx, w, sel.node != nil)
	if err != nil {
		return out, err
	}
	out.nodes, out.info = finish(p, w, rows)
	out.cursors = make([]ent.Cursor, len(out.nodes))
	for i, n := range out.nodes {
		out.cursors[i] = k.cursor(q.id(n), q.value(n, k.column))
	}
	out.info = pageInfoFor(out.info, out.cursors)
	return out, nil
}

// predicates converts window conditions to an Ent predicate type.
func predicates[P ~func(*sql.Selector)](fs []func(*sql.Selector)) []P {
	out := make([]P, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}
