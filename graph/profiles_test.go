package graph_test

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

const userFields = `id userId anonymousIds email firstName lastName phone gender country region city
	userAgent os deviceName deviceType language resolution ipAddress browserFamily browserVersion
	timezone currentUrl pageViews firstSeen lastSeen`

type attrValue struct {
	Key   string
	Type  string
	Value any
}

type profile struct {
	ID             string
	UserID         *string
	AnonymousIDs   []string `json:"anonymousIds"`
	Email          *string
	FirstName      *string
	LastName       *string
	Phone          *string
	Gender         *string
	Country        *string
	Region         *string
	City           *string
	UserAgent      *string
	OS             *string `json:"os"`
	DeviceName     *string
	DeviceType     *string
	Language       *string
	Resolution     *string
	IPAddress      *string `json:"ipAddress"`
	BrowserFamily  *string
	BrowserVersion *string
	Timezone       *string
	CurrentURL     *string `json:"currentUrl"`
	PageViews      int
	FirstSeen      *string
	LastSeen       *string
	Attributes     []attrValue
	Plan           any
	Companies      struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				GroupID    string
				Name       *string
				Employees  *int
				Attributes []attrValue
			}
		}
	}
	PageViewHistory struct {
		TotalCount int
		Edges      []struct {
			Node struct{ URL, Timestamp string }
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}
	Events struct {
		Edges []struct {
			Node struct {
				Name       string
				Timestamp  string
				Properties map[string]any
			}
		}
	}
	Clicked struct{ TotalCount int }
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestUserProfile(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		// An admin types custom_integer before the first identify.
		e.gql(`mutation { createAttributeDefinition(input: {scope: USER, key: "custom_integer", type: INTEGER}) { id } }`, nil, nil)
		e.batch(
			msg{
				"type": "identify", "userId": "u1", "anonymousId": "anon-1",
				"timestamp": "2024-05-01T09:00:00Z",
				"traits": msg{
					"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "phone": "+44 1",
					"gender": "female", "address": msg{"country": "UK", "state": "England", "city": "London"},
					"custom_integer": "123", "custom_integer_new": 999, "plan": "pro",
				},
				"context": msg{
					"ip": "192.0.2.1", "locale": "en-GB", "timezone": "Europe/London",
					"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
					"page":      msg{"url": "https://app.example.com/settings"},
					"screen":    msg{"width": 1920, "height": 1080},
					"device":    msg{"type": "desktop", "name": "Ada's Mac"},
				},
			},
			identify("u1", "anon-2", nil),
			page("u1", "https://example.com/1", "2024-05-01T10:00:00Z"),
			page("u1", "https://example.com/2", "2024-05-01T11:00:00Z"),
			page("u1", "https://example.com/3", "2024-05-01T12:00:00Z"),
			track("u1", "Signed Up", "2024-05-01T10:30:00Z", msg{"plan": "pro"}),
			track("u1", "Clicked", "2024-05-01T11:30:00Z", msg{"button": "a"}),
			track("u1", "Clicked", "2024-05-01T12:30:00Z", msg{"button": "b"}),
			group("u1", "g1", msg{"name": "Acme", "employees": 10, "industry": "tech"}),
		)
		var out struct{ User profile }
		e.gql(`query { user(userId: "u1") { `+userFields+`
			attributes { key type value }
			plan: attribute(key: "plan")
			companies { totalCount edges { node { groupId name employees attributes { key type value } } } }
			pageViewHistory(first: 2) { totalCount edges { node { url timestamp } } pageInfo { hasNextPage endCursor } }
			events { edges { node { name timestamp properties } } }
			clicked: events(name: "Clicked") { totalCount }
		} }`, nil, &out)
		u := out.User
		for _, c := range []struct{ name, got, want string }{
			{"userId", str(u.UserID), "u1"},
			{"email", str(u.Email), "ada@example.com"},
			{"firstName", str(u.FirstName), "Ada"},
			{"lastName", str(u.LastName), "Lovelace"},
			{"phone", str(u.Phone), "+44 1"},
			{"gender", str(u.Gender), "female"},
			{"country", str(u.Country), "UK"},
			{"region", str(u.Region), "England"},
			{"city", str(u.City), "London"},
			{"ipAddress", str(u.IPAddress), "192.0.2.1"},
			{"language", str(u.Language), "en-GB"},
			{"timezone", str(u.Timezone), "Europe/London"},
			{"currentUrl", str(u.CurrentURL), "https://app.example.com/settings"},
			{"resolution", str(u.Resolution), "1920x1080"},
			{"deviceType", str(u.DeviceType), "desktop"},
			{"deviceName", str(u.DeviceName), "Ada's Mac"},
			{"browserFamily", str(u.BrowserFamily), "Chrome"},
		} {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
			}
		}
		if u.UserAgent == nil || u.OS == nil || u.BrowserVersion == nil {
			t.Errorf("userAgent, os and browserVersion are set from the user agent: %+v", u)
		}
		if !slices.Equal(u.AnonymousIDs, []string{"anon-1", "anon-2"}) {
			t.Errorf("anonymousIds = %v", u.AnonymousIDs)
		}
		if u.PageViews != 3 || u.FirstSeen == nil || u.LastSeen == nil || *u.LastSeen != "2024-05-01T12:00:00Z" {
			t.Errorf("pageViews %d, firstSeen %v, lastSeen %v", u.PageViews, str(u.FirstSeen), str(u.LastSeen))
		}
		// Attributes are sorted by key and typed by their definitions (PRODUCT.md 3).
		want := []attrValue{
			{"custom_integer", "INTEGER", float64(123)},
			{"custom_integer_new", "STRING", "999"},
			{"plan", "STRING", "pro"},
		}
		if fmt.Sprint(u.Attributes) != fmt.Sprint(want) {
			t.Errorf("attributes = %v, want %v", u.Attributes, want)
		}
		if u.Plan != "pro" {
			t.Errorf("attribute(key: plan) = %v", u.Plan)
		}
		if u.Companies.TotalCount != 1 || len(u.Companies.Edges) != 1 {
			t.Fatalf("companies: %+v", u.Companies)
		}
		c := u.Companies.Edges[0].Node
		if c.GroupID != "g1" || str(c.Name) != "Acme" || c.Employees == nil || *c.Employees != 10 ||
			fmt.Sprint(c.Attributes) != fmt.Sprint([]attrValue{{"industry", "STRING", "tech"}}) {
			t.Errorf("company: %+v", c)
		}
		// Page views and events are newest first.
		ph := u.PageViewHistory
		if ph.TotalCount != 3 || len(ph.Edges) != 2 || !ph.PageInfo.HasNextPage ||
			ph.Edges[0].Node.URL != "https://example.com/3" || ph.Edges[1].Node.URL != "https://example.com/2" {
			t.Errorf("pageViewHistory: %+v", ph)
		}
		var next struct {
			User struct {
				PageViewHistory struct {
					Edges []struct{ Node struct{ URL string } }
				}
			}
		}
		e.gql(`query($after: Cursor) { user(userId: "u1") { pageViewHistory(first: 2, after: $after) { edges { node { url } } } } }`,
			vars{"after": ph.PageInfo.EndCursor}, &next)
		if got := next.User.PageViewHistory.Edges; len(got) != 1 || got[0].Node.URL != "https://example.com/1" {
			t.Errorf("second page of pageViewHistory: %+v", got)
		}
		var names []string
		for _, ev := range u.Events.Edges {
			names = append(names, ev.Node.Name+"@"+ev.Node.Timestamp)
		}
		if !slices.Equal(names, []string{"Clicked@2024-05-01T12:30:00Z", "Clicked@2024-05-01T11:30:00Z", "Signed Up@2024-05-01T10:30:00Z"}) {
			t.Errorf("events: %v", names)
		}
		if u.Events.Edges[0].Node.Properties["button"] != "b" {
			t.Errorf("event properties: %v", u.Events.Edges[0].Node.Properties)
		}
		if u.Clicked.TotalCount != 2 {
			t.Errorf("events(name: Clicked) totalCount = %d", u.Clicked.TotalCount)
		}
	})
}

func TestUserLookup(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(
			identify("u1", "anon-1", msg{"email": "shared@example.com"}),
			identify("u-old", "", msg{"email": "old@example.com"}),
			identify("u2", "", msg{"email": "shared@example.com"}),
			page("u2", "https://example.com", "2024-05-01T10:00:00Z"),
			msg{"type": "alias", "previousId": "u-old", "userId": "u1"},
		)
		var byUserID struct{ User struct{ ID, UserID string } }
		e.gql(`{ user(userId: "u1") { id userId } }`, nil, &byUserID)
		id := byUserID.User.ID
		for _, c := range []struct {
			query, wantUserID string
		}{
			{`{ user(id: "` + id + `") { userId } }`, "u1"},
			{`{ user(anonymousId: "anon-1") { userId } }`, "u1"},
			// A userId merged by alias finds the merged profile.
			{`{ user(userId: "u-old") { userId } }`, "u1"},
			// Several users share the email: the one seen last.
			{`{ user(email: "shared@example.com") { userId } }`, "u2"},
		} {
			var out struct{ User struct{ UserID string } }
			e.gql(c.query, nil, &out)
			if out.User.UserID != c.wantUserID {
				t.Errorf("%s: userId %q, want %q", c.query, out.User.UserID, c.wantUserID)
			}
		}
		// Exactly one argument.
		if err, _ := e.gqlErr("BAD_USER_INPUT", `{ user { id } }`, nil); err.Extensions["field"] != "id" {
			t.Errorf("no argument: %+v", err)
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", `{ user(userId: "u1", email: "x") { id } }`, nil); err.Extensions["field"] != "email" {
			t.Errorf("two arguments: %+v", err)
		}
		for _, q := range []string{
			`{ user(userId: "nobody") { id } }`,
			`{ user(anonymousId: "nobody") { id } }`,
			`{ user(email: "nobody@example.com") { id } }`,
			`{ user(id: 1) { id } }`,
		} {
			if _, data := e.gqlErr("NOT_FOUND", q, nil); string(data) != `{"user":null}` {
				t.Errorf("%s: data %s", q, data)
			}
		}
	})
}

type userPage struct {
	Users struct {
		TotalCount int
		Edges      []struct {
			Cursor string
			Node   struct {
				UserID   string
				Email    *string
				LastSeen *string
			}
		}
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       string
		}
	}
}

func (p userPage) ids() []string {
	var ids []string
	for _, e := range p.Users.Edges {
		ids = append(ids, e.Node.UserID)
	}
	return ids
}

// TestUsersPagination pages through users ordered by a field some users lack, forward
// and backward, in both directions; every user appears once and those without a value
// come last.
func TestUsersPagination(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(
			identify("u0", "", nil),
			identify("u1", "", msg{"email": "d@example.com"}),
			identify("u2", "", msg{"email": "b@example.com"}),
			identify("u3", "", msg{"email": "a@example.com"}),
			identify("u4", "", msg{"email": "c@example.com"}),
			identify("u5", "", nil),
			identify("u6", "", nil),
			page("u1", "https://example.com", "2024-05-01T10:00:00Z"),
			page("u2", "https://example.com", "2024-05-02T10:00:00Z"),
			page("u3", "https://example.com", "2024-05-03T10:00:00Z"),
			page("u4", "https://example.com", "2024-05-04T10:00:00Z"),
		)
		const q = `query($first: Int, $after: Cursor, $last: Int, $before: Cursor, $order: UserOrder) {
			users(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
				totalCount edges { cursor node { userId email lastSeen } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
		forward := func(order vars, size int) []string {
			var all []string
			after := any(nil)
			for i := 0; i < 10; i++ {
				var p userPage
				e.gql(q, vars{"first": size, "after": after, "order": order}, &p)
				if p.Users.TotalCount != 7 {
					t.Fatalf("totalCount %d", p.Users.TotalCount)
				}
				all = append(all, p.ids()...)
				if !p.Users.PageInfo.HasNextPage {
					return all
				}
				after = p.Users.PageInfo.EndCursor
			}
			t.Fatalf("pages do not end: %v", all)
			return nil
		}
		backward := func(order vars, size int) []string {
			var all []string
			before := any(nil)
			for i := 0; i < 10; i++ {
				var p userPage
				e.gql(q, vars{"last": size, "before": before, "order": order}, &p)
				all = append(p.ids(), all...)
				if !p.Users.PageInfo.HasPreviousPage {
					return all
				}
				before = p.Users.PageInfo.StartCursor
			}
			t.Fatalf("pages do not end: %v", all)
			return nil
		}
		nullsLast := func(got []string, withValue []string) {
			t.Helper()
			if len(got) != 7 || !slices.Equal(got[:len(withValue)], withValue) {
				t.Errorf("order: got %v, want %v then the others", got, withValue)
			}
			rest := slices.Clone(got[len(withValue):])
			sort.Strings(rest)
			if !slices.Equal(rest, []string{"u0", "u5", "u6"}) {
				t.Errorf("users without a value: %v", rest)
			}
		}
		for _, c := range []struct {
			order vars
			want  []string // the users with a value, in order; the others follow
		}{
			{vars{"field": "LAST_SEEN", "direction": "DESC"}, []string{"u4", "u3", "u2", "u1"}},
			{vars{"field": "LAST_SEEN", "direction": "ASC"}, []string{"u1", "u2", "u3", "u4"}},
			{vars{"field": "EMAIL", "direction": "ASC"}, []string{"u3", "u2", "u4", "u1"}},
			{vars{"field": "EMAIL", "direction": "DESC"}, []string{"u1", "u4", "u2", "u3"}},
		} {
			for _, size := range []int{1, 2, 3, 7} {
				got := forward(c.order, size)
				nullsLast(got, c.want)
				if back := backward(c.order, size); !slices.Equal(back, got) {
					t.Errorf("%v size %d: backward %v, forward %v", c.order, size, back, got)
				}
			}
		}
		// Without orderBy: creation order; PAGE_VIEWS and CREATED_AT page too.
		for _, order := range []vars{nil, {"field": "PAGE_VIEWS", "direction": "DESC"}, {"field": "CREATED_AT"}} {
			got := forward(order, 2)
			if len(got) != 7 {
				t.Errorf("%v: %v", order, got)
			}
			if back := backward(order, 3); !slices.Equal(back, got) {
				t.Errorf("%v: backward %v, forward %v", order, back, got)
			}
		}
		// Cursors work when the query does not select the ordering field.
		want := forward(vars{"field": "LAST_SEEN", "direction": "DESC"}, 7)
		var ids []string
		var after any
		for range 4 {
			var p struct {
				Users struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct{ EndCursor string }
				}
			}
			e.gql(`query($after: Cursor) { users(first: 2, after: $after, orderBy: {field: LAST_SEEN, direction: DESC}) {
				edges { node { id } } pageInfo { endCursor } } }`, vars{"after": after}, &p)
			for _, edge := range p.Users.Edges {
				ids = append(ids, edge.Node.ID)
			}
			after = p.Users.PageInfo.EndCursor
		}
		var all userPage
		e.gql(`{ users(orderBy: {field: LAST_SEEN, direction: DESC}) { edges { node { userId } } } }`, nil, &all)
		if len(ids) != 7 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 7 || !slices.Equal(all.ids(), want) {
			t.Errorf("narrow selection: %d ids, order %v, want %v", len(ids), all.ids(), want)
		}
		// The filter (a placeholder until segmentation): by email.
		var f userPage
		e.gql(`{ users(filter: {field: {field: EMAIL, operator: EQUALS, value: "a@example.com"}}) { totalCount edges { node { userId } } } }`, nil, &f)
		if f.Users.TotalCount != 1 || !slices.Equal(f.ids(), []string{"u3"}) {
			t.Errorf("filter: %+v", f)
		}
		// A cursor of one order is refused by another.
		var p userPage
		e.gql(q, vars{"first": 2, "order": vars{"field": "EMAIL"}}, &p)
		err, _ := e.gqlErr("BAD_USER_INPUT", q, vars{"first": 2, "after": p.Users.PageInfo.EndCursor, "order": vars{"field": "LAST_SEEN"}})
		if err.Extensions["field"] != "after" {
			t.Errorf("foreign cursor: %+v", err)
		}
		err, _ = e.gqlErr("BAD_USER_INPUT", q, vars{"first": 2, "after": "not a cursor"})
		if err.Extensions["field"] != "after" {
			t.Errorf("garbage cursor: %+v", err)
		}
	})
}

func TestPageSizes(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		var msgs []msg
		for i := range 55 {
			msgs = append(msgs, identify(fmt.Sprintf("u%02d", i), "", nil), group(fmt.Sprintf("u%02d", i), "g1", nil))
		}
		e.batch(msgs...)
		var out struct {
			Users struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
				PageInfo   struct{ HasNextPage bool }
			}
			Company struct {
				Users struct {
					Edges    []struct{ Node struct{ ID string } }
					PageInfo struct{ HasNextPage bool }
				}
			}
		}
		// Without first or last a connection has 50 nodes, nested ones too.
		e.gql(`{ users { totalCount edges { node { id } } pageInfo { hasNextPage } }
			company(groupId: "g1") { users { edges { node { id } } pageInfo { hasNextPage } } } }`, nil, &out)
		if out.Users.TotalCount != 55 || len(out.Users.Edges) != 50 || !out.Users.PageInfo.HasNextPage {
			t.Errorf("default page: total %d, %d edges, next %v", out.Users.TotalCount, len(out.Users.Edges), out.Users.PageInfo.HasNextPage)
		}
		if len(out.Company.Users.Edges) != 50 || !out.Company.Users.PageInfo.HasNextPage {
			t.Errorf("nested default page: %d edges", len(out.Company.Users.Edges))
		}
		e.gql(`{ users(first: 500) { edges { node { id } } } }`, nil, &out)
		if len(out.Users.Edges) != 55 {
			t.Errorf("first: 500 → %d edges", len(out.Users.Edges))
		}
		for _, c := range []struct{ query, field string }{
			{`{ users(first: 501) { totalCount } }`, "first"},
			{`{ users(last: 501) { totalCount } }`, "last"},
			{`{ users(first: -1) { totalCount } }`, "first"},
			{`{ users(first: 1, last: 1) { totalCount } }`, "last"},
			{`{ companies(first: 1000) { totalCount } }`, "first"},
			{`{ user(userId: "u01") { companies(first: 501) { totalCount } } }`, "first"},
			{`{ user(userId: "u01") { events(first: 501) { totalCount } } }`, "first"},
			{`{ user(userId: "u01") { pageViewHistory(first: 501) { totalCount } } }`, "first"},
			{`query($n: Int) { company(groupId: "g1") { users(first: $n) { totalCount } } }`, "first"},
			{`fragment F on Company { users(last: 600) { totalCount } } { company(groupId: "g1") { ...F } }`, "last"},
		} {
			res := e.GraphQL(t, e.App.AdminSecret, c.query, vars{"n": 10_000})
			if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != c.field || string(res.Data) != "null" && len(res.Data) != 0 {
				t.Errorf("%s: %d %+v data %s", c.query, res.Status, res.Errors, res.Data)
			}
		}
	})
}

func TestCompanies(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(
			group("u1", "g1", msg{"name": "Acme", "plan": "gold", "employees": 12, "address": msg{"country": "FR", "city": "Paris"}}),
			group("u2", "g1", nil),
			group("u3", "g1", nil),
			group("u1", "g2", msg{"name": "Gamma"}),
			group("u4", "g3", nil), // no name
		)
		type companies struct {
			Companies struct {
				TotalCount int
				Edges      []struct{ Node struct{ GroupID string } }
			}
		}
		groupIDs := func(c companies) []string {
			var ids []string
			for _, e := range c.Companies.Edges {
				ids = append(ids, e.Node.GroupID)
			}
			return ids
		}
		var c companies
		e.gql(`{ companies(orderBy: {field: NAME}) { totalCount edges { node { groupId } } } }`, nil, &c)
		if !slices.Equal(groupIDs(c), []string{"g1", "g2", "g3"}) || c.Companies.TotalCount != 3 {
			t.Errorf("by name: %v", groupIDs(c))
		}
		e.gql(`{ companies(orderBy: {field: NAME, direction: DESC}, first: 2) { edges { node { groupId } } } }`, nil, &c)
		if !slices.Equal(groupIDs(c), []string{"g2", "g1"}) {
			t.Errorf("by name desc: %v", groupIDs(c))
		}
		e.gql(`{ companies(filter: {nameContains: "acm"}) { totalCount edges { node { groupId } } } }`, nil, &c)
		if !slices.Equal(groupIDs(c), []string{"g1"}) {
			t.Errorf("nameContains: %v", groupIDs(c))
		}
		e.gql(`{ companies(filter: {groupId: "g3"}) { totalCount edges { node { groupId } } } }`, nil, &c)
		if !slices.Equal(groupIDs(c), []string{"g3"}) {
			t.Errorf("groupId: %v", groupIDs(c))
		}
		var one struct {
			Company struct {
				ID, GroupID, Name, Country, City string
				Employees                        int
				Attributes                       []attrValue
				Plan                             any
				Users                            struct {
					TotalCount int
					Edges      []struct{ Node struct{ UserID string } }
				}
			}
		}
		e.gql(`{ company(groupId: "g1") { id groupId name employees country city attributes { key type value }
			plan: attribute(key: "plan") users(first: 2) { totalCount edges { node { userId } } } } }`, nil, &one)
		co := one.Company
		if co.Name != "Acme" || co.Employees != 12 || co.Country != "FR" || co.City != "Paris" || co.Plan != "gold" ||
			fmt.Sprint(co.Attributes) != fmt.Sprint([]attrValue{{"plan", "STRING", "gold"}}) {
			t.Errorf("company: %+v", co)
		}
		if co.Users.TotalCount != 3 || len(co.Users.Edges) != 2 {
			t.Errorf("users: %+v", co.Users)
		}
		var byID struct{ Company struct{ GroupID string } }
		e.gql(`query($id: ID) { company(id: $id) { groupId } }`, vars{"id": co.ID}, &byID)
		if byID.Company.GroupID != "g1" {
			t.Errorf("by id: %+v", byID)
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", `{ company(id: 1, groupId: "g1") { id } }`, nil); err.Extensions["field"] != "groupId" {
			t.Errorf("two arguments: %+v", err)
		}
		e.gqlErr("NOT_FOUND", `{ company(groupId: "nope") { id } }`, nil)
		// Nested connections ordered by a nullable field page correctly too.
		var nested struct {
			User struct {
				Companies struct {
					Edges []struct{ Node struct{ GroupID string } }
				}
			}
		}
		e.gql(`{ user(userId: "u1") { companies(orderBy: {field: NAME, direction: DESC}) { edges { node { groupId } } } } }`, nil, &nested)
		if len(nested.User.Companies.Edges) != 2 || nested.User.Companies.Edges[0].Node.GroupID != "g2" {
			t.Errorf("user companies by name desc: %+v", nested)
		}
	})
}

// TestNodeResolvesEveryType: node(id) answers every type of the schema by its global id.
func TestNodeResolvesEveryType(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(
			identify("u1", "", msg{"email": "a@example.com"}),
			page("u1", "https://example.com", "2024-05-01T10:00:00Z"),
			track("u1", "Clicked", "2024-05-01T10:00:00Z", msg{"k": "v"}),
			group("u1", "g1", nil),
		)
		e.gql(`mutation { addTrustedDomain(domain: "example.com") { id } }`, nil, nil)
		var ids struct {
			App     struct{ ID string }
			APIKeys []struct{ ID string } `json:"apiKeys"`
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
			TrustedDomains       []struct{ ID string }
			EventDefinitions     []struct{ ID string }
			AttributeDefinitions []struct{ ID string }
		}
		e.gql(`{ app { id } apiKeys { id } trustedDomains { id } eventDefinitions { id }
			attributeDefinitions(scope: EVENT) { id }
			user(userId: "u1") { id pageViewHistory { edges { node { id } } } events { edges { node { id } } }
				companies { edges { node { id } } } } }`, nil, &ids)
		for typ, id := range map[string]string{
			"App":                 ids.App.ID,
			"ApiKey":              ids.APIKeys[0].ID,
			"User":                ids.User.ID,
			"PageView":            ids.User.PageViewHistory.Edges[0].Node.ID,
			"EventOccurrence":     ids.User.Events.Edges[0].Node.ID,
			"Company":             ids.User.Companies.Edges[0].Node.ID,
			"TrustedDomain":       ids.TrustedDomains[0].ID,
			"EventDefinition":     ids.EventDefinitions[0].ID,
			"AttributeDefinition": ids.AttributeDefinitions[0].ID,
		} {
			var out struct {
				Node struct {
					Typename string `json:"__typename"`
					ID       string
				}
			}
			e.gql(`query($id: ID!) { node(id: $id) { __typename id } }`, vars{"id": id}, &out)
			if out.Node.Typename != typ || out.Node.ID != id {
				t.Errorf("node(%s) = %+v, want a %s", id, out.Node, typ)
			}
		}
		var many struct{ Nodes []*struct{ ID string } }
		e.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, vars{"ids": []string{ids.User.ID, ids.App.ID}}, &many)
		if len(many.Nodes) != 2 || many.Nodes[0] == nil || many.Nodes[0].ID != ids.User.ID {
			t.Errorf("nodes: %+v", many.Nodes)
		}
	})
}
