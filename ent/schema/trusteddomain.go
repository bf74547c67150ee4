package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TrustedDomain is a host pattern ("example.com" or "*.example.com") from which an
// app accepts browser-sent messages. An app without any accepts every domain.
type TrustedDomain struct {
	ent.Schema
}

func (TrustedDomain) Mixin() []ent.Mixin {
	return []ent.Mixin{TenantMixin{}}
}

func (TrustedDomain) Fields() []ent.Field {
	return []ent.Field{
		field.String("domain").NotEmpty().Immutable(),
		field.Time("created_at").Default(nowUTC).Immutable().Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

func (TrustedDomain) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("app_id", "domain").Unique(),
	}
}
