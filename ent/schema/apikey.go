package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ApiKey authenticates a caller. Only a SHA-256 hash of the secret is kept; the secret
// itself is shown once, when the key is created.
type ApiKey struct {
	ent.Schema
}

func (ApiKey) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (ApiKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.Enum("kind").Values("SEGMENT", "ADMIN"),
		// The first characters of the secret, so a person can tell keys apart.
		field.String("prefix").Immutable(),
		field.String("secret_hash").Immutable().Sensitive(),
		field.Time("created_at").Default(nowUTC).Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
	}
}

func (ApiKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "secret_hash").Unique(),
		// Authentication finds a key by its hash before it knows the app.
		index.Fields("secret_hash"),
	}
}
