// Package ent holds the Ent schema (ent/schema) and the code generated from it.
package ent

// One pipeline: Ent (with the entgql extension writing graph/ent.graphql), then gqlgen.
// Both run from the module root, where gqlgen.yml is.
//go:generate go run -C .. ./ent/entc.go
//go:generate go -C .. tool gqlgen
