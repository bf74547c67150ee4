// Package model holds the GraphQL types that are not Ent entities; gqlgen writes the
// generated ones beside this file.
package model

// SegmentFilter is the GraphQL input SegmentFilter. It is declared here, and mapped in
// gqlgen.yml, because Ent's entql generates a type of the same name (ent.SegmentFilter)
// that gqlgen's autobind would otherwise pick.
type SegmentFilter struct {
	// Email selects users with exactly this email.
	Email *string `json:"email,omitempty"`
}

// CompanyFilter is the GraphQL input CompanyFilter (see SegmentFilter for why it is
// declared by hand).
type CompanyFilter struct {
	GroupID      *string `json:"groupId,omitempty"`
	NameContains *string `json:"nameContains,omitempty"`
}
