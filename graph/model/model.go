// Package model holds the GraphQL types that are not Ent entities; gqlgen writes the
// generated ones beside this file.
package model

// CompanyFilter is the GraphQL input CompanyFilter. It is declared here, and mapped in
// gqlgen.yml, because Ent's entql generates a type of the same name (ent.CompanyFilter)
// that gqlgen's autobind would otherwise pick.
type CompanyFilter struct {
	GroupID      *string `json:"groupId,omitempty"`
	NameContains *string `json:"nameContains,omitempty"`
}
