package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Company is a group profile, found by Segment's groupId.
type Company struct {
	ent.Schema
}

func (Company) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

func (Company) Fields() []ent.Field {
	return []ent.Field{
		field.String("group_id").Immutable().Annotations(entgql.MapsTo("groupId")),
		optionalText("name", entgql.OrderField("NAME")),
		optionalText("description"),
		optionalText("email"),
		field.Int("employees").Optional().Nillable(),
		optionalText("phone"),
		optionalText("country"),
		optionalText("region"),
		optionalText("city"),
		optionalText("street"),
		optionalText("postal_code"),
		field.JSON("attributes", map[string]any{}).Default(map[string]any{}).Annotations(entgql.Skip()),
	}
}

func (Company) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("users", User.Type).
			Ref("companies").
			Through("memberships", Membership.Type).
			Annotations(entgql.RelayConnection()),
	}
}

func (Company) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "group_id").Unique(),
	}
}

func (Company) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
