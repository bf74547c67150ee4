package graph_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// introspection is GraphiQL's introspection query (deeper than the depth limit, which
// does not count introspection fields).
const introspection = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType {
    kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestHostileQueriesAreRefusedBeforeRunning(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(identify("u1", "", nil), group("u1", "g1", nil))
		deep := `{ users { edges { node { companies { edges { node { users { edges { node {
			companies { edges { node { id } } } } } } } } } } } } }`
		for _, c := range []struct {
			name, query, code string
		}{
			{"too deep", deep, "DEPTH_LIMIT_EXCEEDED"},
			{"too deep through fragments", `fragment U on User { companies { edges { node { ...C } } } }
				fragment C on Company { users { edges { node { companies { edges { node { users { edges { node { id } } } } } } } } } }
				{ users { edges { node { ...U } } } }`, "DEPTH_LIMIT_EXCEEDED"},
			{"too deep in an inline fragment", `query($id: ID!) { node(id: $id) { ... on User { companies { edges { node {
				users { edges { node { companies { edges { node { users { edges { node { id } } } } } } } } } } } } } } }`, "DEPTH_LIMIT_EXCEEDED"},
			{"too complex", `{ users(first: 500) { edges { node { id companies(first: 500) { edges { node { id } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
			{"too complex by default page sizes", `{ users { edges { node { companies { edges { node { users { edges { node { id } } } } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
			{"too complex by aliases", "{ " + aliases(30, `users(first: 500) { edges { node { id email } } }`) + " }", "COMPLEXITY_LIMIT_EXCEEDED"},
			{"too many nodes", `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { companies { edges { node { id } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
			{"too large a page", `{ users(first: 100000) { totalCount } }`, "BAD_USER_INPUT"},
		} {
			ids := make([]int, 1000)
			for i := range ids {
				ids[i] = i + 1
			}
			res := e.GraphQL(t, e.App.AdminSecret, c.query, vars{"id": 1, "ids": ids})
			if len(res.Errors) != 1 || res.Errors[0].Code() != c.code || (len(res.Data) != 0 && string(res.Data) != "null") {
				t.Errorf("%s: %d %+v data %s", c.name, res.Status, res.Errors, res.Data)
			}
			if res.Status != http.StatusOK {
				t.Errorf("%s: status %d", c.name, res.Status)
			}
		}
		// What dashboards and the playground send passes.
		var schema struct {
			Schema struct{ Types []struct{ Name string } } `json:"__schema"`
		}
		e.gql(introspection, nil, &schema)
		if len(schema.Schema.Types) < 20 {
			t.Errorf("introspection: %d types", len(schema.Schema.Types))
		}
		e.gql(`{ users(first: 100) { totalCount edges { node { `+userFields+` attributes { key type value }
			companies(first: 10) { edges { node { groupId name attributes { key value } } } } } } pageInfo { endCursor } } }`, nil, nil)
		e.gql(`{ users(first: 5) { edges { node { id companies(first: 5) { edges { node { users(first: 5) { edges { node { id } } } } } } } } } }`, nil, nil)
	})
}

// aliases repeats a field under n aliases.
func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("a" + strconv.Itoa(i) + ": " + field + " ")
	}
	return b.String()
}
