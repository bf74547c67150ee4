package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// EventDefinition is a track event name, created the first time it is seen.
type EventDefinition struct {
	ent.Schema
}

func (EventDefinition) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

func (EventDefinition) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.Int("occurrences").Default(0),
		field.Time("last_seen").Optional().Nillable(),
	}
}

func (EventDefinition) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("attribute_definitions", AttributeDefinition.Type).Annotations(entgql.Skip()),
		edge.To("occurrence_list", EventOccurrence.Type).Annotations(entgql.Skip()),
	}
}

func (EventDefinition) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "name").Unique(),
	}
}
