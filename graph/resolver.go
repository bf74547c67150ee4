// Package graph is the GraphQL API: schema files (*.graphql), their resolvers laid out
// by schema file, and the generated executable schema in graph/generated.
package graph

import (
	"log/slog"

	"github.com/peoplegraph/peoplegraph/ent"
)

// Resolver holds what every resolver needs. It is the one hand-written place where the
// API's dependencies are injected.
type Resolver struct {
	Client *ent.Client
	Logger *slog.Logger
}
