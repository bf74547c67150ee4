package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Segment is a saved filter over users.
type Segment struct {
	ent.Schema
}

func (Segment) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

func (Segment) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.String("description").Default(""),
		// The filter tree in the JSON form of the GraphQL SegmentFilter input.
		field.JSON("filter_tree", map[string]any{}).Annotations(entgql.Skip()),
		// Created with the app (Active, New, With email, Slipping away).
		field.Bool("builtin").Default(false),
	}
}

func (Segment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "name").Unique(),
	}
}
