package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Identity is one identifier that finds a user: its userId, any userId merged into it
// by alias, and every anonymousId it has used. The unique key is what makes two
// concurrent first calls for one id create one user.
type Identity struct {
	ent.Schema
}

func (Identity) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (Identity) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("USER_ID", "ANONYMOUS_ID").Immutable(),
		field.String("value").Immutable(),
		field.Int("user_id"),
		field.Time("created_at").Default(nowUTC).Immutable(),
	}
}

func (Identity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("identities").Field("user_id").Unique().Required(),
	}
}

func (Identity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "kind", "value").Unique(),
		index.Fields("app_id", "user_id"),
	}
}

func (Identity) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
