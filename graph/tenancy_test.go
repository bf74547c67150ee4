package graph_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// tenancyCase is one operation run with app B's ADMIN key on app A's ids.
type tenancyCase struct {
	// field is the Query or Mutation field the operation exercises.
	field string
	query string
	vars  vars
	// want is NOT_FOUND (every error NOT_FOUND, no data of A), or "own": the operation
	// works on B's own app, sees nothing of A and changes nothing of it.
	want string
}

// aIDs are app A's objects, one of each type.
type aIDs struct {
	App, Key, Domain, User, Company, PageView, Occurrence, EventDef, AttrDef, EventAttrDef, Segment string
}

func tenancyCases(a aIDs) []tenancyCase {
	nf, own := "NOT_FOUND", "own"
	cases := []tenancyCase{
		{"app", `{ app { id name webhookSecretSet } }`, nil, own},
		{"apiKeys", `{ apiKeys { id name prefix } }`, nil, own},
		{"trustedDomains", `{ trustedDomains { id domain } }`, nil, own},
		{"users", `{ users { totalCount edges { node { id email } } } }`, nil, own},
		{"users", `{ users(filter: {field: {field: EMAIL, operator: EQUALS, value: "ada@example.com"}}) { totalCount edges { node { id } } } }`, nil, own},
		{"user", `query($id: ID) { user(id: $id) { id email } }`, vars{"id": a.User}, nf},
		{"user", `{ user(userId: "a-user") { id } }`, nil, nf},
		{"user", `{ user(anonymousId: "a-anon") { id } }`, nil, nf},
		{"user", `{ user(email: "ada@example.com") { id } }`, nil, nf},
		{"companies", `{ companies { totalCount edges { node { id groupId } } } }`, nil, own},
		{"companies", `{ companies(filter: {groupId: "a-group"}) { totalCount edges { node { id } } } }`, nil, own},
		{"company", `query($id: ID) { company(id: $id) { id } }`, vars{"id": a.Company}, nf},
		{"company", `{ company(groupId: "a-group") { id } }`, nil, nf},
		{"exportUser", `query($id: ID!) { exportUser(id: $id) }`, vars{"id": a.User}, nf},
		{"attributeDefinitions", `{ u: attributeDefinitions(scope: USER) { id } c: attributeDefinitions(scope: COMPANY) { id }
			e: attributeDefinitions(scope: EVENT) { id } p: attributeDefinitions(scope: EVENT, eventName: "A Event") { id } }`, nil, own},
		{"eventDefinitions", `{ eventDefinitions { id name occurrences } }`, nil, own},
		{"segments", `{ segments { id name count filter users { totalCount } } }`, nil, own},
		{"nodes", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, vars{"ids": []string{a.User, a.Company, a.App}}, nf},

		{"createApiKey", `mutation { createApiKey(input: {name: "b", kind: ADMIN}) { apiKey { id } secret } }`, nil, own},
		{"revokeApiKey", `mutation($id: ID!) { revokeApiKey(id: $id, allowSelf: true) { id } }`, vars{"id": a.Key}, nf},
		{"addTrustedDomain", `mutation { addTrustedDomain(domain: "a.example.com") { id domain } }`, nil, own},
		{"removeTrustedDomain", `mutation($id: ID!) { removeTrustedDomain(id: $id) }`, vars{"id": a.Domain}, nf},
		{"setWebhookSecret", `mutation { setWebhookSecret(secret: "b-secret") }`, nil, own},
		{"rotateWebhookSecret", `mutation { rotateWebhookSecret }`, nil, own},
		{"clearWebhookSecret", `mutation { clearWebhookSecret }`, nil, own},
		{"deleteUser", `mutation($id: ID!) { deleteUser(id: $id) }`, vars{"id": a.User}, nf},
		{"createAttributeDefinition", `mutation { createAttributeDefinition(input: {scope: EVENT, key: "plan", type: INTEGER, eventName: "A Event"}) { id eventName } }`, nil, own},
		{"createAttributeDefinition", `mutation { createAttributeDefinition(input: {scope: USER, key: "plan", type: INTEGER}) { id } }`, nil, own},
		{"updateAttributeDefinition", `mutation($id: ID!) { updateAttributeDefinition(id: $id, input: {type: INTEGER}) { converted } }`, vars{"id": a.AttrDef}, nf},
		{"updateAttributeDefinition", `mutation($id: ID!) { updateAttributeDefinition(id: $id, input: {name: "x"}) { converted } }`, vars{"id": a.EventAttrDef}, nf},
		{"deleteAttributeDefinition", `mutation($id: ID!) { deleteAttributeDefinition(id: $id) }`, vars{"id": a.AttrDef}, nf},
		{"renameEventDefinition", `mutation($id: ID!) { renameEventDefinition(id: $id, name: "x") { id } }`, vars{"id": a.EventDef}, nf},
		{"createSegment", `mutation { createSegment(input: {name: "b", filter: {field: {field: EMAIL, operator: IS_SET}}}) { id count } }`, nil, own},
		{"updateSegment", `mutation($id: ID!) { updateSegment(id: $id, input: {name: "x"}) { id } }`, vars{"id": a.Segment}, nf},
		{"deleteSegment", `mutation($id: ID!) { deleteSegment(id: $id) }`, vars{"id": a.Segment}, nf},
		{"deleteEventDefinition", `mutation($id: ID!) { deleteEventDefinition(id: $id, deleteOccurrences: true) }`, vars{"id": a.EventDef}, nf},
	}
	// node answers every type.
	for _, id := range []string{a.App, a.Key, a.Domain, a.User, a.Company, a.PageView, a.Occurrence, a.EventDef, a.AttrDef, a.Segment} {
		cases = append(cases, tenancyCase{"node", `query($id: ID!) { node(id: $id) { id } }`, vars{"id": id}, nf})
	}
	return cases
}

// snapshot is everything app A's admin can see, for "changes nothing".
const snapshot = `query($user: ID!) {
	app { id name webhookSecretSet }
	apiKeys { id name kind prefix createdAt revokedAt }
	trustedDomains { id domain }
	users { totalCount edges { node { id userId anonymousIds email pageViews attributes { key type value }
		companies { edges { node { id groupId name attributes { key value } } } } } } }
	u: attributeDefinitions(scope: USER) { id key name type rejectedCount }
	e: attributeDefinitions(scope: EVENT) { id key name type eventName }
	eventDefinitions { id name occurrences lastSeen }
	segments { id name description filter count }
	exportUser(id: $user)
}`

// TestTenancy runs every query and mutation of the schema with app B's ADMIN key on app
// A's objects: each answers NOT_FOUND, or works on B's own app without seeing A, and
// nothing of A changes.
func TestTenancy(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		b := e.NewApp(t, "B")
		e.batch(
			identify("a-user", "a-anon", msg{"email": "ada@example.com", "plan": "pro"}),
			page("a-user", "https://a.example.com", "2024-05-01T10:00:00Z"),
			track("a-user", "A Event", "2024-05-01T10:00:00Z", msg{"plan": "pro"}),
			group("a-user", "a-group", msg{"name": "A Corp"}),
		)
		e.gql(`mutation { addTrustedDomain(domain: "a.example.com") { id } setWebhookSecret(secret: "a-secret") }`, nil, nil)
		var a aIDs
		var ids struct {
			App     struct{ ID string }
			APIKeys []struct{ ID string } `json:"apiKeys"`
			Domains []struct{ ID string } `json:"trustedDomains"`
			User    struct {
				ID              string
				PageViewHistory struct {
					Edges []struct{ Node struct{ ID string } }
				}
				Events struct {
					Edges []struct{ Node struct{ ID string } }
				}
				Companies struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			Events    []struct{ ID string } `json:"eventDefinitions"`
			UserDefs  []struct{ ID, Key string }
			EventDefs []struct{ ID string }
			Segments  []struct{ ID string }
		}
		e.gql(`{ app { id } apiKeys { id } trustedDomains { id } eventDefinitions { id }
			userDefs: attributeDefinitions(scope: USER) { id key } eventDefs: attributeDefinitions(scope: EVENT) { id } segments { id }
			user(userId: "a-user") { id pageViewHistory { edges { node { id } } } events { edges { node { id } } }
				companies { edges { node { id } } } } }`, nil, &ids)
		a = aIDs{
			App: ids.App.ID, Key: ids.APIKeys[0].ID, Domain: ids.Domains[0].ID, User: ids.User.ID,
			Company: ids.User.Companies.Edges[0].Node.ID, PageView: ids.User.PageViewHistory.Edges[0].Node.ID,
			Occurrence: ids.User.Events.Edges[0].Node.ID, EventDef: ids.Events[0].ID,
			AttrDef: ids.UserDefs[0].ID, EventAttrDef: ids.EventDefs[0].ID, Segment: ids.Segments[0].ID,
		}
		before := e.snapshot(a.User)

		cases := tenancyCases(a)
		for _, c := range cases {
			res := e.GraphQL(t, b.AdminSecret, c.query, c.vars)
			body, _ := json.Marshal(res)
			for _, id := range []string{a.App, a.Key, a.Domain, a.User, a.Company, a.PageView, a.Occurrence, a.EventDef, a.AttrDef, a.EventAttrDef, a.Segment} {
				if strings.Contains(string(res.Data), `"`+id+`"`) {
					t.Errorf("%s shows app A's id %s: %s", c.field, id, body)
				}
			}
			for _, secret := range []string{"ada@example.com", "a-user", "a-group", "A Corp"} {
				if strings.Contains(string(res.Data), secret) {
					t.Errorf("%s shows app A's %q: %s", c.field, secret, body)
				}
			}
			switch c.want {
			case "NOT_FOUND":
				if len(res.Errors) == 0 {
					t.Errorf("%s: no error: %s", c.field, body)
				}
				for _, err := range res.Errors {
					if err.Code() != "NOT_FOUND" {
						t.Errorf("%s: %s, want NOT_FOUND: %s", c.field, err.Code(), body)
					}
				}
			default:
				if len(res.Errors) > 0 {
					t.Errorf("%s: %s", c.field, body)
				}
			}
		}
		if after := e.snapshot(a.User); after != before {
			t.Errorf("app B's operations changed app A:\nbefore %s\nafter  %s", before, after)
		}

		// Every Query and Mutation field has a case.
		covered := map[string]bool{}
		for _, c := range cases {
			covered[c.field] = true
		}
		var schema struct {
			Schema struct {
				QueryType, MutationType struct{ Fields []struct{ Name string } }
			} `json:"__schema"`
		}
		e.gql(`{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil, &schema)
		var missing []string
		for _, f := range append(schema.Schema.QueryType.Fields, schema.Schema.MutationType.Fields...) {
			if !covered[f.Name] {
				missing = append(missing, f.Name)
			}
			delete(covered, f.Name)
		}
		if len(missing) > 0 {
			t.Errorf("no tenancy case for %v: add a row to tenancyCases", missing)
		}
		if len(covered) > 0 {
			t.Errorf("tenancy cases for fields the schema does not have: %v", slices.Sorted(maps.Keys(covered)))
		}
	})
}

func (e *env) snapshot(user string) string {
	e.t.Helper()
	res := e.GraphQL(e.t, e.App.AdminSecret, snapshot, vars{"user": user})
	if len(res.Errors) > 0 {
		e.t.Fatalf("snapshot: %+v", res.Errors)
	}
	var m map[string]any
	if err := json.Unmarshal(res.Data, &m); err != nil {
		e.t.Fatal(err)
	}
	// The export's time is the time of the export.
	if x, ok := m["exportUser"].(map[string]any); ok {
		delete(x, "exportedAt")
	}
	b, _ := json.Marshal(m)
	return string(b)
}
