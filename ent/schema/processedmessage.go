package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ProcessedMessage remembers a Segment messageId, so a retried message changes nothing.
// It is written in the same transaction as the message's effects.
type ProcessedMessage struct {
	ent.Schema
}

func (ProcessedMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (ProcessedMessage) Fields() []ent.Field {
	return []ent.Field{
		field.String("message_id").Immutable(),
		field.Time("received_at").Default(nowUTC).Immutable(),
	}
}

func (ProcessedMessage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "message_id").Unique(),
		// Pruning removes ids older than the dedup window.
		index.Fields("received_at"),
	}
}

func (ProcessedMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
