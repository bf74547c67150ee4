package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Membership joins a user to a company (a user may belong to several).
type Membership struct {
	ent.Schema
}

func (Membership) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (Membership) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id"),
		field.Int("company_id"),
		field.Time("created_at").Default(nowUTC).Immutable(),
	}
}

func (Membership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required(),
		edge.To("company", Company.Type).Field("company_id").Unique().Required(),
	}
}

func (Membership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "user_id", "company_id").Unique(),
		index.Fields("app_id", "company_id"),
	}
}

func (Membership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
