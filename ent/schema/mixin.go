package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"github.com/peoplegraph/peoplegraph/ent/privacy"
)

// TenantMixin puts every row of a schema under one app. The app id leads every unique
// key (so the data can be sharded by app) and the policy scopes every query and mutation
// to the viewer's app, so no resolver or ingest path can forget it.
type TenantMixin struct {
	mixin.Schema
}

func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int("app_id").
			Immutable().
			Annotations(entgql.Skip()),
	}
}

func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("app", App.Type).
			Field("app_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip()),
	}
}

func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			filterByViewerApp(),
		},
		Mutation: privacy.MutationPolicy{
			createInViewerApp(),
			filterByViewerApp(),
		},
	}
}

// TimeMixin records when a row was created and last changed.
type TimeMixin struct {
	mixin.Schema
}

func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Default(nowUTC).
			Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(nowUTC).
			UpdateDefault(nowUTC),
	}
}

func nowUTC() time.Time { return time.Now().UTC() }
