package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is one person's profile: the standard fields Segment's identify maps, the
// counters page calls move, and custom attributes typed by their definitions.
type User struct {
	ent.Schema
}

func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}, TimeMixin{}}
}

func (User) Fields() []ent.Field {
	return []ent.Field{
		// The userId the profile is known by; aliases and anonymous ids live in Identity.
		field.String("user_id").Optional().Nillable().Annotations(entgql.MapsTo("userId")),
		optionalText("email", entgql.OrderField("EMAIL")),
		optionalText("first_name"),
		optionalText("last_name"),
		optionalText("phone"),
		optionalText("gender"),
		optionalText("country"),
		optionalText("region"),
		optionalText("city"),
		optionalText("street"),
		optionalText("postal_code"),
		optionalText("user_agent"),
		optionalText("os"),
		optionalText("device_name"),
		optionalText("device_type"),
		optionalText("language"),
		optionalText("resolution"),
		optionalText("ip_address", entgql.MapsTo("ipAddress")),
		optionalText("browser_family"),
		optionalText("browser_version"),
		optionalText("timezone"),
		optionalText("current_url", entgql.MapsTo("currentUrl")),
		field.Int("page_views").Default(0).NonNegative().Annotations(entgql.OrderField("PAGE_VIEWS")),
		field.Time("first_seen").Optional().Nillable().Annotations(entgql.OrderField("FIRST_SEEN")),
		field.Time("last_seen").Optional().Nillable().Annotations(entgql.OrderField("LAST_SEEN")),
		// Custom attribute values by key, in the stored form of package attribute.
		field.JSON("attributes", map[string]any{}).Default(map[string]any{}).Annotations(entgql.Skip()),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("identities", Identity.Type).Annotations(entgql.Skip()),
		edge.To("companies", Company.Type).
			Through("memberships", Membership.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("page_view_history", PageView.Type).Annotations(entgql.Skip()),
		edge.To("events", EventOccurrence.Type).Annotations(entgql.Skip()),
	}
}

func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "user_id").Unique(),
		index.Fields("app_id", "email"),
		index.Fields("app_id", "last_seen"),
		index.Fields("app_id", "first_seen"),
	}
}

func (User) Annotations() []schema.Annotation {
	// One order field at a time, as PRODUCT.md's `orderBy: UserOrder` says.
	return []schema.Annotation{entgql.RelayConnection()}
}

func optionalText(name string, annotations ...schema.Annotation) ent.Field {
	return field.String(name).Optional().Nillable().Annotations(annotations...)
}
