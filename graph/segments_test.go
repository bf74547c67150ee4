package graph_test

import (
	"slices"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

type userIDs struct {
	Users struct {
		TotalCount int
		Edges      []struct{ Node struct{ UserID string } }
	}
}

func (u userIDs) ids() []string {
	var out []string
	for _, e := range u.Users.Edges {
		out = append(out, e.Node.UserID)
	}
	slices.Sort(out)
	return out
}

// users(filter:) evaluates the filter language through GraphQL, and invalid filters are
// BAD_USER_INPUT with the path of the offending node.
func TestUsersFilter(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		recent := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
		e.batch(
			identify("ada", "", msg{"email": "ada@example.com", "seats": 12}),
			identify("bob", "", msg{"email": "bob@example.com", "seats": 3}),
			identify("cy", "", msg{}),
			track("ada", "Order Completed", recent, msg{"total": 10}),
			track("ada", "Order Completed", recent, msg{"total": 20}),
			track("bob", "Order Completed", recent, msg{"total": 5}),
			page("bob", "https://example.com/pricing", recent),
			group("cy", "acme", msg{"name": "Acme"}),
		)
		cases := []struct {
			name   string
			filter string
			want   []string
		}{
			{"field", `{field: {field: EMAIL, operator: ENDS_WITH, value: "@example.com"}}`, []string{"ada", "bob"}},
			{"not set", `{field: {field: EMAIL, operator: IS_NOT_SET}}`, []string{"cy"}},
			// seats was auto-created as STRING: compared as text.
			{"attribute", `{attribute: {key: "seats", operator: EQUALS, value: "12"}}`, []string{"ada"}},
			{"event at least twice in 7 days", `{event: {name: "Order Completed", countOp: AT_LEAST, count: 2, days: 7}}`, []string{"ada"}},
			{"never did", `{not: {event: {name: "Order Completed"}}}`, []string{"cy"}},
			{"page view", `{pageView: {operator: CONTAINS, url: "/pricing"}}`, []string{"bob"}},
			{"company", `{company: {fields: [{field: NAME, operator: EQUALS, value: "Acme"}]}}`, []string{"cy"}},
			{"no company", `{noCompany: true}`, []string{"ada", "bob"}},
			{"or", `{or: [{noCompany: false}, {attribute: {key: "seats", operator: EQUALS, value: "3"}}]}`, []string{"bob", "cy"}},
		}
		for _, c := range cases {
			var got userIDs
			e.gql(`{ users(filter: `+c.filter+`) { totalCount edges { node { userId } } } }`, nil, &got)
			if !slices.Equal(got.ids(), c.want) || got.Users.TotalCount != len(c.want) {
				t.Errorf("%s: got %v (total %d), want %v", c.name, got.ids(), got.Users.TotalCount, c.want)
			}
		}
		err, _ := e.gqlErr("BAD_USER_INPUT", `{ users(filter: {and: [{noCompany: true}, {attribute: {key: "nope", operator: EQUALS, value: 1}}]}) { totalCount } }`, nil)
		if field, _ := err.Extensions["field"].(string); field != "filter.and[1].attribute.key" {
			t.Fatalf("error field %q (%s)", field, err.Message)
		}
	})
}

// Saved segments: the defaults exist in every new app; create, update, delete; count and
// users are evaluated now; filters are validated when saved.
func TestSavedSegments(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(identify("ada", "", msg{"email": "ada@example.com"}), identify("cy", "", msg{}),
			page("ada", "https://example.com/", time.Now().UTC().Format(time.RFC3339)))

		var list struct {
			Segments []struct {
				ID, Name string
				Builtin  bool
				Count    int
			}
		}
		e.gql(`{ segments { id name builtin count } }`, nil, &list)
		names := map[string]int{}
		for _, s := range list.Segments {
			if !s.Builtin {
				t.Fatalf("unexpected segment %+v", s)
			}
			names[s.Name] = s.Count
		}
		want := map[string]int{"Active": 1, "New": 2, "With email": 1, "Slipping away": 0}
		for n, c := range want {
			if got, ok := names[n]; !ok || got != c {
				t.Errorf("default segment %q: count %d (present %v), want %d", n, got, ok, c)
			}
		}

		var created struct {
			CreateSegment struct {
				ID     string
				Count  int
				Filter map[string]any
				Users  userIDs `json:"users"`
			}
		}
		e.gql(`mutation { createSegment(input: {name: "Emails", description: "d", filter: {field: {field: EMAIL, operator: IS_SET}}}) {
			id count filter users { totalCount edges { node { userId } } } } }`, nil, &created)
		if created.CreateSegment.Count != 1 || created.CreateSegment.Filter["field"] == nil {
			t.Fatalf("created %+v", created.CreateSegment)
		}
		id := created.CreateSegment.ID
		var updated struct {
			UpdateSegment struct {
				Name  string
				Count int
			}
		}
		e.gql(`mutation($id: ID!) { updateSegment(id: $id, input: {name: "Nobody", filter: {field: {field: EMAIL, operator: IS_NOT_SET}}}) { name count } }`,
			vars{"id": id}, &updated)
		if updated.UpdateSegment.Name != "Nobody" || updated.UpdateSegment.Count != 1 {
			t.Fatalf("updated %+v", updated.UpdateSegment)
		}
		e.gqlErr("BAD_USER_INPUT", `mutation { createSegment(input: {name: "Bad", filter: {event: {name: "Never Seen"}}}) { id } }`, nil)
		var deleted struct{ DeleteSegment bool }
		e.gql(`mutation($id: ID!) { deleteSegment(id: $id) }`, vars{"id": id}, &deleted)
		e.gqlErr("NOT_FOUND", `mutation($id: ID!) { deleteSegment(id: $id) }`, vars{"id": id})
	})
}
