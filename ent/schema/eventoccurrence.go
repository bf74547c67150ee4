package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// EventOccurrence is one track call of a user.
type EventOccurrence struct {
	ent.Schema
}

func (EventOccurrence) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (EventOccurrence) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Annotations(entgql.Skip()),
		field.Int("event_definition_id").Annotations(entgql.Skip()),
		field.String("name"),
		// Property values by key, in the stored form of package attribute.
		field.JSON("properties", map[string]any{}).Default(map[string]any{}).Annotations(entgql.Type("Map")),
		field.Time("timestamp").Annotations(entgql.OrderField("TIMESTAMP")),
		field.String("message_id").Immutable().Annotations(entgql.MapsTo("messageId")),
		field.Time("received_at").Default(nowUTC).Immutable(),
	}
}

func (EventOccurrence) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("events").Field("user_id").Unique().Required(),
		edge.From("event_definition", EventDefinition.Type).Ref("occurrence_list").
			Field("event_definition_id").Unique().Required(),
	}
}

func (EventOccurrence) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "user_id", "timestamp"),
		index.Fields("app_id", "event_definition_id", "timestamp"),
	}
}

func (EventOccurrence) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
