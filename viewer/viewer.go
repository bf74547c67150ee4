// Package viewer says who is asking, and for which app. Every request that reaches the
// data layer carries a Viewer; the Ent privacy policies read it to scope rows to one app.
package viewer

import (
	"context"

	"entgo.io/ent/privacy"
)

// Role is what the key of a viewer may do.
type Role string

const (
	// RoleAdmin uses the GraphQL API of its app.
	RoleAdmin Role = "ADMIN"
	// RoleSegment may only ingest Segment messages into its app.
	RoleSegment Role = "SEGMENT"
)

// Viewer is the authenticated caller of a request.
type Viewer struct {
	AppID int
	KeyID int
	Role  Role
}

type ctxKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx, if any.
func FromContext(ctx context.Context) (Viewer, bool) {
	v, ok := ctx.Value(ctxKey{}).(Viewer)
	return v, ok
}

// SystemContext lets the server itself (bootstrap, CLI, key lookup before a viewer
// exists) pass every privacy policy. It must never be derived from a request's input.
func SystemContext(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}
