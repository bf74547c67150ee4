package graph

import (
	"context"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/peoplegraph/peoplegraph/ent"
)

// A request cache lives for one GraphQL operation (see NewHandler). It holds what
// resolvers of many objects share — the attribute definitions of a scope, or data loaded
// for every object of a list at once — so a page of 500 users costs a fixed number of
// queries instead of one per user.
type requestCache struct {
	mu      sync.Mutex
	entries map[any]*cacheEntry
}

type cacheEntry struct {
	ready chan struct{}
	value any
	err   error
	// keep holds what the key's identity depends on (a list being resolved), so its
	// memory cannot be reused for another list during the operation.
	keep any
}

type requestCacheKey struct{}

func withRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestCacheKey{}, &requestCache{entries: map[any]*cacheEntry{}})
}

// cached returns the value of key, loading it once per operation; concurrent callers
// wait for the first one. Without a request cache in ctx it just loads.
func cached[V any](ctx context.Context, key, keep any, load func() (V, error)) (V, error) {
	c, _ := ctx.Value(requestCacheKey{}).(*requestCache)
	if c == nil {
		return load()
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &cacheEntry{ready: make(chan struct{}), keep: keep}
		c.entries[key] = e
	}
	c.mu.Unlock()
	if !ok {
		func() {
			defer close(e.ready)
			e.value, e.err = load()
		}()
	} else {
		select {
		case <-e.ready:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	if e.err != nil {
		var zero V
		// A failed load is not kept: the next caller tries again.
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
		return zero, e.err
	}
	return e.value.(V), nil
}

// forget drops cached values whose key matches, after a mutation changed what they
// were loaded from.
func forget(ctx context.Context, match func(key any) bool) {
	c, _ := ctx.Value(requestCacheKey{}).(*requestCache)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if match(k) {
			delete(c.entries, k)
		}
	}
}

// batchKey identifies one batch: a loader and the list whose objects it loads for.
type batchKey struct {
	loader string
	list   uintptr
	length int
	// single is the object's id when it is not resolved as part of a list.
	single int
}

// siblings returns the ids of the objects resolved beside the current one — the nodes
// of the innermost list above it (a connection's edges, or nodes(ids)) — with a key for
// the batch. gqlgen keeps every list in its field context before resolving the fields
// of the list's objects, so the first object to ask can load for all of them. When
// there is no such list, or its elements are not what pick recognizes, the batch is
// the object alone.
func siblings(ctx context.Context, loader string, id int, pick func(any) (int, bool)) (batchKey, []int, any) {
	single := batchKey{loader: loader, single: id}
	fc := graphql.GetFieldContext(ctx)
	// From the field being resolved: its object's field, then (in a list) the element
	// context with an Index, whose parent is the list's field.
	for hops := 0; fc != nil && hops < 4; hops, fc = hops+1, fc.Parent {
		if fc.Index == nil {
			continue
		}
		list := fc.Parent
		if list == nil || list.Result == nil {
			return single, []int{id}, nil
		}
		rv := reflect.ValueOf(list.Result)
		if rv.Kind() != reflect.Slice {
			return single, []int{id}, nil
		}
		ids := make([]int, 0, rv.Len())
		found := false
		for i := 0; i < rv.Len(); i++ {
			sid, ok := pick(rv.Index(i).Interface())
			if !ok {
				continue
			}
			ids = append(ids, sid)
			found = found || sid == id
		}
		if !found {
			return single, []int{id}, nil
		}
		return batchKey{loader: loader, list: rv.Pointer(), length: rv.Len()}, ids, list.Result
	}
	return single, []int{id}, nil
}

// pickUser recognizes the elements of lists of users.
func pickUser(v any) (int, bool) {
	switch u := v.(type) {
	case *ent.User:
		if u != nil {
			return u.ID, true
		}
	case *ent.UserEdge:
		if u != nil && u.Node != nil {
			return u.Node.ID, true
		}
	}
	return 0, false
}

// loadBatch returns what load produces for the batch of the object id (see siblings),
// loading it once for the whole batch.
func loadBatch[V any](ctx context.Context, loader string, id int, pick func(any) (int, bool), load func(ids []int) (map[int]V, error)) (V, error) {
	key, ids, keep := siblings(ctx, loader, id, pick)
	m, err := cached(ctx, key, keep, func() (map[int]V, error) { return load(ids) })
	if err != nil {
		var zero V
		return zero, err
	}
	return m[id], nil
}
