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
// times what each node selects (see complexity.go): a page of 50 users with a dozen
// fields and their companies at the default page size weighs about 21,000; 500 users
// with 10 companies each about 45,000; users → companies → users at default sizes
// over a million.
const ComplexityLimit = 50_000

// MaxDepth bounds how deeply fields may nest (a connection takes three levels:
// field, edges, node), so users → companies → users → … cannot go on forever.
const MaxDepth = 12

// NewHandler builds the GraphQL HTTP handler: POST and GET transports, a parsed-query
// cache, persisted queries, introspection (the playground needs it), the depth limit,
// page sizes, the complexity limit (in that order: each works on what the one before
// accepted) and the one error presenter.
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
	srv.Use(DepthLimit{Max: MaxDepth})
	srv.Use(PageSize{Default: DefaultPageSize, Max: MaxPageSize})
	srv.Use(extension.FixedComplexityLimit(ComplexityLimit))
	srv.SetErrorPresenter(ErrorPresenter(logger))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "graphql panic", "panic", fmt.Sprint(p))
		return fmt.Errorf("panic: %v", p)
	})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// A bound on every operation, so a slow query cannot hold a connection forever,
		// and a cache shared by the operation's resolvers (batch.go).
		ctx, cancel := context.WithTimeout(withRequestCache(ctx), 30*time.Second)
		rh := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			defer cancel()
			return rh(ctx)
		}
	})
	return srv
}
