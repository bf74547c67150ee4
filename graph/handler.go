package graph

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/peoplegraph/peoplegraph/graph/generated"
)

// ComplexityLimit bounds what one query may ask for. Connections weigh their page size
// (see complexity.go), so a query for 500 users with their companies counts thousands.
const ComplexityLimit = 20_000

// NewHandler builds the GraphQL HTTP handler: POST and GET transports, a parsed-query
// cache, persisted queries, introspection (the playground needs it), the complexity
// limit and the one error presenter.
func NewHandler(r *Resolver) *handler.Server {
	logger := r.Logger
	if logger == nil {
		logger = slog.Default()
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  r,
		Complexity: complexity(),
	}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(ComplexityLimit))
	srv.SetErrorPresenter(ErrorPresenter(logger))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "graphql panic", "panic", fmt.Sprint(p))
		return fmt.Errorf("panic: %v", p)
	})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// A bound on every operation, so a slow query cannot hold a connection forever.
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		rh := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			defer cancel()
			return rh(ctx)
		}
	})
	return srv
}
