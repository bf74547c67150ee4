package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AttributeDefinition types the custom attributes of users, companies or the
// properties of one event. Values that cannot be converted to the type are counted.
type AttributeDefinition struct {
	ent.Schema
}

func (AttributeDefinition) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

func (AttributeDefinition) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("scope").Values("USER", "COMPANY", "EVENT").Immutable().
			Annotations(entgql.Type("AttributeScope")),
		field.Int("event_definition_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip()),
		field.String("key").NotEmpty().Immutable(),
		field.String("name").NotEmpty(),
		field.Enum("type").
			Values("STRING", "INTEGER", "FLOAT", "BOOLEAN", "DATE", "DATETIME", "FIXED", "JSON").
			Annotations(entgql.Type("AttributeType")),
		field.Strings("choices").Optional(),
		field.Bool("allow_multiple").Default(false),
		field.Bool("created_automatically").Default(false),
		field.Int("rejected_count").Default(0),
		field.JSON("last_rejected_value", json.RawMessage{}).Optional().Annotations(entgql.Skip()),
	}
}

func (AttributeDefinition) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("event_definition", EventDefinition.Type).
			Ref("attribute_definitions").
			Field("event_definition_id").
			Unique().
			Immutable().
			Annotations(entgql.Skip()),
	}
}

// Indexes: one definition per key and scope. Two partial indexes, because a unique
// index lets NULLs repeat, so USER and COMPANY keys (no event) need one of their own.
func (AttributeDefinition) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "scope", "key").Unique().
			Annotations(entsql.IndexWhere("event_definition_id IS NULL")),
		index.Fields("app_id", "event_definition_id", "key").Unique().
			Annotations(entsql.IndexWhere("event_definition_id IS NOT NULL")),
	}
}

func (AttributeDefinition) Annotations() []schema.Annotation {
	return nil
}
