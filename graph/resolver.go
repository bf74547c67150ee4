// Package graph is the GraphQL API: schema files (*.graphql), their resolvers laid out
// by schema file, and the generated executable schema in graph/generated.
package graph

import (
	"context"
	"log/slog"
	"sync"

	"entgo.io/ent/dialect/sql"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// Resolver holds what every resolver needs. It is the one hand-written place where the
// API's dependencies are injected.
type Resolver struct {
	Client *ent.Client
	Logger *slog.Logger
	// Dialect is the database's dialect (entgo.io/ent/dialect names), for the few
	// statements written by hand. When empty it is found out from the client on first use.
	Dialect string

	dialectOnce sync.Once
	dialect     string
}

// dialectOf returns the dialect of the database behind the client.
func (r *Resolver) dialectOf(ctx context.Context) string {
	if r.Dialect != "" {
		return r.Dialect
	}
	r.dialectOnce.Do(func() {
		// Ent's selector knows the dialect; a query that matches nothing asks it.
		_, _ = r.Client.App.Query().Where(func(s *sql.Selector) {
			r.dialect = s.Dialect()
			s.Where(sql.False())
		}).Exist(viewer.SystemContext(ctx))
	})
	return r.dialect
}
