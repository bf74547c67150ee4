package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/schema/field"

	"github.com/peoplegraph/peoplegraph/ent/privacy"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// App is a tenant: everything else belongs to exactly one app.
type App struct {
	ent.Schema
}

func (App) Mixin() []ent.Mixin {
	return []ent.Mixin{TimeMixin{}}
}

func (App) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		// The webhook secret is kept as the two SHA-1 states of HMAC's padded key
		// (RFC 2104's precomputation): enough to verify X-Signature without keeping
		// the secret itself.
		field.Bytes("webhook_hmac_state").
			Optional().
			Nillable().
			Sensitive(),
	}
}

// Policy: a viewer sees and changes only its own app; apps are created by the server
// itself (bootstrap and CLI, through viewer.SystemContext).
func (App) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			filterOwnApp(),
		},
		Mutation: privacy.MutationPolicy{
			privacy.OnMutationOperation(
				privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
					return privacy.Denyf("apps are created by the server only")
				}),
				ent.OpCreate,
			),
			filterOwnApp(),
		},
	}
}

type idFilter interface {
	WhereID(entql.IntP)
}

func filterOwnApp() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, ok := viewer.FromContext(ctx)
		if !ok {
			return privacy.Denyf("no viewer in context")
		}
		af, ok := f.(idFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		af.WhereID(entql.IntEQ(v.AppID))
		return privacy.Skip
	})
}
