package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PageView is one page or screen call of a user.
type PageView struct {
	ent.Schema
}

func (PageView) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (PageView) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Annotations(entgql.Skip()),
		field.Enum("kind").Values("PAGE", "SCREEN").Default("PAGE").Annotations(entgql.Type("PageViewKind")),
		optionalText("url"),
		optionalText("path"),
		optionalText("title"),
		optionalText("referrer"),
		optionalText("search"),
		optionalText("name"),
		optionalText("category"),
		field.JSON("properties", map[string]any{}).Default(map[string]any{}).Annotations(entgql.Type("Map")),
		field.Time("timestamp").Annotations(entgql.OrderField("TIMESTAMP")),
		field.String("message_id").Immutable().Annotations(entgql.MapsTo("messageId")),
		field.Time("received_at").Default(nowUTC).Immutable(),
	}
}

func (PageView) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("page_view_history").Field("user_id").Unique().Required(),
	}
}

func (PageView) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "user_id", "timestamp"),
	}
}

func (PageView) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
