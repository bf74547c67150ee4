package graph_test

import (
	"testing"

	"github.com/peoplegraph/peoplegraph/ent/eventoccurrence"
	"github.com/peoplegraph/peoplegraph/ent/identity"
	"github.com/peoplegraph/peoplegraph/ent/membership"
	"github.com/peoplegraph/peoplegraph/ent/pageview"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

func seedTwoUsers(e *env) (u1, u2 string) {
	e.t.Helper()
	e.batch(
		identify("u1", "anon-1", msg{"email": "ada@example.com", "plan": "pro"}),
		page("u1", "https://example.com/a", "2024-05-01T10:00:00Z"),
		page("u1", "https://example.com/b", "2024-05-01T11:00:00Z"),
		track("u1", "Clicked", "2024-05-01T12:00:00Z", msg{"button": "buy"}),
		group("u1", "g1", msg{"name": "Acme"}),
		identify("u2", "anon-2", msg{"email": "bob@example.com"}),
		page("u2", "https://example.com/a", "2024-05-01T10:00:00Z"),
		track("u2", "Clicked", "2024-05-01T12:00:00Z", nil),
		group("u2", "g1", nil),
	)
	var out struct{ A, B struct{ ID string } }
	e.gql(`{ a: user(userId: "u1") { id } b: user(userId: "u2") { id } }`, nil, &out)
	return out.A.ID, out.B.ID
}

func TestExportUser(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		u1, _ := seedTwoUsers(e)
		var out struct {
			ExportUser struct {
				ExportedAt string
				Profile    map[string]any
				Identities []map[string]any
				Companies  []map[string]any
				PageViews  []map[string]any
				Events     []map[string]any
			}
		}
		e.gql(`query($id: ID!) { exportUser(id: $id) }`, vars{"id": u1}, &out)
		x := out.ExportUser
		if x.ExportedAt == "" || x.Profile["email"] != "ada@example.com" || x.Profile["userId"] != "u1" || x.Profile["pageViews"] != float64(2) {
			t.Errorf("profile: %v", x.Profile)
		}
		if attrs, _ := x.Profile["attributes"].(map[string]any); attrs["plan"] != "pro" {
			t.Errorf("attributes: %v", x.Profile["attributes"])
		}
		if _, leaked := x.Profile["appId"]; leaked {
			t.Errorf("the app id is internal: %v", x.Profile)
		}
		kinds := map[string]bool{}
		for _, i := range x.Identities {
			kinds[i["kind"].(string)+":"+i["value"].(string)] = true
		}
		if !kinds["USER_ID:u1"] || !kinds["ANONYMOUS_ID:anon-1"] || len(kinds) != 2 {
			t.Errorf("identities: %v", x.Identities)
		}
		if len(x.Companies) != 1 || x.Companies[0]["groupId"] != "g1" {
			t.Errorf("companies: %v", x.Companies)
		}
		if len(x.PageViews) != 2 || x.PageViews[0]["url"] != "https://example.com/a" {
			t.Errorf("page views: %v", x.PageViews)
		}
		if len(x.Events) != 1 || x.Events[0]["name"] != "Clicked" || x.Events[0]["properties"].(map[string]any)["button"] != "buy" {
			t.Errorf("events: %v", x.Events)
		}
		if _, data := e.gqlErr("NOT_FOUND", `{ exportUser(id: 1) }`, nil); string(data) != `{"exportUser":null}` {
			t.Errorf("unknown user: %s", data)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		u1, u2 := seedTwoUsers(e)
		const del = `mutation($id: ID!) { deleteUser(id: $id) }`
		var ok struct{ DeleteUser bool }
		e.gql(del, vars{"id": u1}, &ok)
		if !ok.DeleteUser {
			t.Fatal("not deleted")
		}
		e.gqlErr("NOT_FOUND", `{ user(userId: "u1") { id } }`, nil)
		e.gqlErr("NOT_FOUND", `{ user(anonymousId: "anon-1") { id } }`, nil)
		e.gqlErr("NOT_FOUND", del, vars{"id": u1})
		ctx, c := e.ctx(), e.client()
		counts := map[string]int{}
		counts["identities"], _ = c.Identity.Query().Where(identity.UserID(toInt(t, u1))).Count(ctx)
		counts["page views"], _ = c.PageView.Query().Where(pageview.UserID(toInt(t, u1))).Count(ctx)
		counts["occurrences"], _ = c.EventOccurrence.Query().Where(eventoccurrence.UserID(toInt(t, u1))).Count(ctx)
		counts["memberships"], _ = c.Membership.Query().Where(membership.UserID(toInt(t, u1))).Count(ctx)
		for what, n := range counts {
			if n != 0 {
				t.Errorf("%d %s left", n, what)
			}
		}
		// The other user, the company and the event keep theirs.
		var out struct {
			User struct {
				AnonymousIDs []string `json:"anonymousIds"`
				PageViews    int
				Events       struct{ TotalCount int }
				Companies    struct{ TotalCount int }
			}
			Company          struct{ Users struct{ TotalCount int } }
			EventDefinitions []struct {
				Name        string
				Occurrences int
			}
		}
		e.gql(`query($id: ID) { user(id: $id) { anonymousIds pageViews events { totalCount } companies { totalCount } }
			company(groupId: "g1") { users { totalCount } } eventDefinitions { name occurrences } }`, vars{"id": u2}, &out)
		if len(out.User.AnonymousIDs) != 1 || out.User.PageViews != 1 || out.User.Events.TotalCount != 1 || out.User.Companies.TotalCount != 1 {
			t.Errorf("u2: %+v", out.User)
		}
		if out.Company.Users.TotalCount != 1 || len(out.EventDefinitions) != 1 || out.EventDefinitions[0].Occurrences != 1 {
			t.Errorf("company and events: %+v", out)
		}
		// Calls after the erasure make a new profile.
		e.batch(identify("u1", "", nil))
		var again struct{ User struct{ ID string } }
		e.gql(`{ user(userId: "u1") { id } }`, nil, &again)
		if again.User.ID == u1 {
			t.Error("the deleted profile came back")
		}
	})
}
