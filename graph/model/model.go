// Package model holds the GraphQL types that are not Ent entities; gqlgen writes the
// generated ones beside this file.
package model
