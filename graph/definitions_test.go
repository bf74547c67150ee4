package graph_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/identity"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

type definition struct {
	ID                   string
	Scope                string
	Key                  string
	Name                 string
	Type                 string
	EventName            *string
	Choices              []string
	AllowMultiple        bool
	CreatedAutomatically bool
	RejectedCount        int
	LastRejectedValue    any
}

const definitionFields = `id scope key name type eventName choices allowMultiple createdAutomatically rejectedCount lastRejectedValue`

const createDefinition = `mutation($input: CreateAttributeDefinitionInput!) {
	createAttributeDefinition(input: $input) { ` + definitionFields + ` } }`

const updateDefinition = `mutation($id: ID!, $input: UpdateAttributeDefinitionInput!) {
	updateAttributeDefinition(id: $id, input: $input) { definition { ` + definitionFields + ` } converted removed } }`

type change struct {
	Definition definition
	Converted  int
	Removed    int
}

func (e *env) definitions(scope string, eventName any) map[string]definition {
	e.t.Helper()
	var out struct{ AttributeDefinitions []definition }
	e.gql(`query($scope: AttributeScope!, $event: String) { attributeDefinitions(scope: $scope, eventName: $event) { `+definitionFields+` } }`,
		vars{"scope": scope, "event": eventName}, &out)
	m := map[string]definition{}
	for _, d := range out.AttributeDefinitions {
		m[d.Key+"@"+str(d.EventName)] = d
	}
	return m
}

func (e *env) update(id string, input vars) change {
	e.t.Helper()
	var out struct{ UpdateAttributeDefinition change }
	e.gql(updateDefinition, vars{"id": id, "input": input}, &out)
	return out.UpdateAttributeDefinition
}

// stored reads the raw JSON text of a user's attributes (every digit, as stored).
func (e *env) storedAttributes(userID string) string {
	e.t.Helper()
	q := `SELECT attributes FROM users WHERE app_id = ? AND user_id = ?`
	if e.DB.Dialect == dialect.Postgres {
		q = `SELECT attributes::text FROM users WHERE app_id = $1 AND user_id = $2`
	}
	var doc string
	if err := e.DB.SQL.QueryRowContext(context.Background(), q, e.App.App.ID, userID).Scan(&doc); err != nil {
		e.t.Fatalf("read attributes of %s: %v", userID, err)
	}
	return doc
}

func (e *env) attributesOf(userID string) map[string]any {
	e.t.Helper()
	var out struct {
		User struct{ Attributes []attrValue }
	}
	e.gql(`query($u: String) { user(userId: $u) { attributes { key type value } } }`, vars{"u": userID}, &out)
	m := map[string]any{}
	for _, a := range out.User.Attributes {
		m[a.Key] = a.Value
	}
	return m
}

func TestCreateAttributeDefinition(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		var out struct{ CreateAttributeDefinition definition }
		e.gql(createDefinition, vars{"input": vars{"scope": "USER", "key": "tier", "name": "Tier", "type": "FIXED",
			"choices": []string{"gold", "silver"}, "allowMultiple": true}}, &out)
		d := out.CreateAttributeDefinition
		if d.Key != "tier" || d.Name != "Tier" || d.Type != "FIXED" || !slices.Equal(d.Choices, []string{"gold", "silver"}) ||
			!d.AllowMultiple || d.CreatedAutomatically || d.EventName != nil || d.Scope != "USER" {
			t.Errorf("created: %+v", d)
		}
		// An EVENT definition for an event never seen creates its event definition.
		e.gql(createDefinition, vars{"input": vars{"scope": "EVENT", "key": "amount", "type": "FLOAT", "eventName": "Order Completed"}}, &out)
		if str(out.CreateAttributeDefinition.EventName) != "Order Completed" || out.CreateAttributeDefinition.Name != "amount" {
			t.Errorf("event definition: %+v", out.CreateAttributeDefinition)
		}
		var events struct {
			EventDefinitions []struct {
				Name        string
				Occurrences int
			}
		}
		e.gql(`{ eventDefinitions { name occurrences } }`, nil, &events)
		if len(events.EventDefinitions) != 1 || events.EventDefinitions[0].Name != "Order Completed" || events.EventDefinitions[0].Occurrences != 0 {
			t.Errorf("eventDefinitions: %+v", events)
		}
		// The same key may exist once per scope (and per event).
		e.gql(createDefinition, vars{"input": vars{"scope": "COMPANY", "key": "tier", "type": "STRING"}}, &out)
		e.gql(createDefinition, vars{"input": vars{"scope": "EVENT", "key": "tier", "type": "STRING", "eventName": "Order Completed"}}, &out)

		for _, c := range []struct {
			input vars
			field string
		}{
			{vars{"scope": "USER", "key": "tier", "type": "STRING"}, "input.key"},
			{vars{"scope": "USER", "key": " ", "type": "STRING"}, "input.key"},
			{vars{"scope": "USER", "key": "bad\x00key", "type": "STRING"}, "input.key"},
			{vars{"scope": "USER", "key": "k", "name": " ", "type": "STRING"}, "input.name"},
			{vars{"scope": "USER", "key": "k", "type": "FIXED"}, "input.choices"},
			{vars{"scope": "USER", "key": "k", "type": "FIXED", "choices": []string{"a", "a"}}, "input.choices"},
			{vars{"scope": "USER", "key": "k", "type": "FIXED", "choices": []string{""}}, "input.choices"},
			{vars{"scope": "USER", "key": "k", "type": "STRING", "choices": []string{"a"}}, "input.choices"},
			{vars{"scope": "USER", "key": "k", "type": "STRING", "allowMultiple": true}, "input.allowMultiple"},
			{vars{"scope": "EVENT", "key": "k", "type": "STRING"}, "input.eventName"},
			{vars{"scope": "USER", "key": "k", "type": "STRING", "eventName": "Order Completed"}, "input.eventName"},
		} {
			if err, _ := e.gqlErr("BAD_USER_INPUT", createDefinition, vars{"input": c.input}); err.Extensions["field"] != c.field {
				t.Errorf("%v: %+v", c.input, err)
			}
		}
		// Listing: by scope, sorted by key; eventName narrows EVENT and only EVENT.
		if got := e.definitions("EVENT", "Order Completed"); len(got) != 2 {
			t.Errorf("EVENT of Order Completed: %+v", got)
		}
		if got := e.definitions("EVENT", "Unknown"); len(got) != 0 {
			t.Errorf("EVENT of an unknown event: %+v", got)
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", `{ attributeDefinitions(scope: USER, eventName: "x") { id } }`, nil); err.Extensions["field"] != "eventName" {
			t.Errorf("eventName with USER: %+v", err)
		}
	})
}

// TestChangeAttributeType: a type change converts every stored value of the key in its
// scope, removes the values that cannot be converted and reports both counts; other
// scopes and events keep their values of the same key; numbers keep every digit.
func TestChangeAttributeType(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(
			identify("u1", "", msg{"score": "42", "plan": "pro"}),
			identify("u2", "", msg{"score": " 7 "}),
			identify("u3", "", msg{"score": "abc", "plan": "Enterprise"}),
			identify("u4", "", msg{"score": 12.5, "plan": "free"}),
			identify("u5", "", msg{"score": "9007199254740993"}),
			identify("u6", "", msg{"other": "x"}),
			group("u1", "g1", msg{"score": "abc"}),
			track("u1", "Played", "2024-05-01T10:00:00Z", msg{"score": "1.5"}),
			track("u2", "Played", "2024-05-01T10:00:00Z", msg{"score": "x"}),
			track("u1", "Other", "2024-05-01T10:00:00Z", msg{"score": "y"}),
		)
		defs := e.definitions("USER", nil)
		score := defs["score@<nil>"]
		if score.Type != "STRING" || !score.CreatedAutomatically {
			t.Fatalf("score: %+v", score)
		}
		// STRING → INTEGER.
		c := e.update(score.ID, vars{"type": "INTEGER", "name": "Score"})
		if c.Converted != 3 || c.Removed != 2 || c.Definition.Type != "INTEGER" || c.Definition.Name != "Score" || c.Definition.CreatedAutomatically {
			t.Errorf("change: %+v", c)
		}
		for u, want := range map[string]any{"u1": float64(42), "u2": float64(7), "u3": nil, "u4": nil} {
			if got := e.attributesOf(u)["score"]; got != want {
				t.Errorf("%s score = %v, want %v", u, got, want)
			}
		}
		if doc := e.storedAttributes("u5"); !strings.Contains(doc, "9007199254740993") {
			t.Errorf("u5 lost digits: %s", doc)
		}
		if got := e.attributesOf("u3")["plan"]; got != "Enterprise" {
			t.Errorf("other keys of a converted user changed: %v", got)
		}
		// The company's and the events' score are other definitions: untouched.
		var co struct{ Company struct{ Score any } }
		e.gql(`{ company(groupId: "g1") { score: attribute(key: "score") } }`, nil, &co)
		if co.Company.Score != "abc" {
			t.Errorf("company score: %v", co.Company.Score)
		}
		// Ingestion now types the key as INTEGER.
		e.batch(identify("u6", "", msg{"score": "77"}), identify("u6", "", msg{"score": "nope"}))
		if got := e.attributesOf("u6")["score"]; got != float64(77) {
			t.Errorf("ingested after the change: %v", got)
		}
		if d := e.definitions("USER", nil)["score@<nil>"]; d.RejectedCount != 1 || d.LastRejectedValue != "nope" {
			t.Errorf("rejections after the change: %+v", d)
		}

		// EVENT scope: the properties of that event's occurrences only.
		played := e.definitions("EVENT", "Played")["score@Played"]
		c = e.update(played.ID, vars{"type": "FLOAT"})
		if c.Converted != 1 || c.Removed != 1 || str(c.Definition.EventName) != "Played" {
			t.Errorf("event change: %+v", c)
		}
		var ev struct {
			User struct {
				Played, Other struct {
					Edges []struct {
						Node struct{ Properties map[string]any }
					}
				}
			}
		}
		e.gql(`{ user(userId: "u1") { played: events(name: "Played") { edges { node { properties } } }
			other: events(name: "Other") { edges { node { properties } } } } }`, nil, &ev)
		if got := ev.User.Played.Edges[0].Node.Properties["score"]; got != 1.5 {
			t.Errorf("Played score: %v", got)
		}
		if got := ev.User.Other.Edges[0].Node.Properties["score"]; got != "y" {
			t.Errorf("Other score: %v", got)
		}

		// FIXED: values among the choices stay; changing the choices drops the others.
		plan := e.definitions("USER", nil)["plan@<nil>"]
		c = e.update(plan.ID, vars{"type": "FIXED", "choices": []string{"pro", "free"}})
		if c.Converted != 2 || c.Removed != 1 || !slices.Equal(c.Definition.Choices, []string{"pro", "free"}) {
			t.Errorf("to FIXED: %+v", c)
		}
		c = e.update(plan.ID, vars{"choices": []string{"pro"}})
		if c.Converted != 1 || c.Removed != 1 || c.Definition.Type != "FIXED" {
			t.Errorf("new choices: %+v", c)
		}
		// Back to STRING: nothing to remove; choices go.
		c = e.update(plan.ID, vars{"type": "STRING"})
		if c.Converted != 1 || c.Removed != 0 || c.Definition.Choices != nil {
			t.Errorf("to STRING: %+v", c)
		}
		// A rename alone converts nothing.
		c = e.update(plan.ID, vars{"name": "Plan"})
		if c.Converted != 0 || c.Removed != 0 || c.Definition.Name != "Plan" {
			t.Errorf("rename: %+v", c)
		}
		for _, bad := range []struct {
			input vars
			field string
		}{
			{vars{"choices": []string{"a"}}, "input.choices"},
			{vars{"type": "FIXED"}, "input.choices"},
			{vars{"allowMultiple": true}, "input.allowMultiple"},
			{vars{"name": ""}, "input.name"},
		} {
			if err, _ := e.gqlErr("BAD_USER_INPUT", updateDefinition, vars{"id": plan.ID, "input": bad.input}); err.Extensions["field"] != bad.field {
				t.Errorf("%v: %+v", bad.input, err)
			}
		}
		e.gqlErr("NOT_FOUND", updateDefinition, vars{"id": 1, "input": vars{"name": "x"}})

		// Deleting a definition deletes its values.
		var del struct{ DeleteAttributeDefinition bool }
		e.gql(`mutation($id: ID!) { deleteAttributeDefinition(id: $id) }`, vars{"id": score.ID}, &del)
		if !del.DeleteAttributeDefinition {
			t.Error("not deleted")
		}
		for _, u := range []string{"u1", "u2", "u5", "u6"} {
			if _, ok := e.attributesOf(u)["score"]; ok {
				t.Errorf("%s still has score", u)
			}
		}
		if _, ok := e.definitions("USER", nil)["score@<nil>"]; ok {
			t.Error("definition still listed")
		}
		e.gqlErr("NOT_FOUND", `mutation($id: ID!) { deleteAttributeDefinition(id: $id) }`, vars{"id": score.ID})
		if got := e.attributesOf("u1")["plan"]; got != "pro" {
			t.Errorf("other definitions' values: %v", got)
		}
	})
}

// TestChangeAttributeTypeInPages converts more rows than one page holds. The users are
// written with Ent directly: ingesting a thousand new users is slow on SQLite.
func TestChangeAttributeTypeInPages(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		var created struct{ CreateAttributeDefinition definition }
		e.gql(createDefinition, vars{"input": vars{"scope": "USER", "key": "n", "type": "STRING"}}, &created)
		builders := make([]*ent.UserCreate, 0, 1101)
		for i := range 1101 {
			v := any(fmt.Sprint(i))
			if i%100 == 0 {
				v = "not a number"
			}
			builders = append(builders, e.client().User.Create().
				SetUserID(fmt.Sprintf("u%04d", i)).
				SetAttributes(map[string]any{"n": v, "keep": "me"}))
		}
		for i := 0; i < len(builders); i += 250 {
			users, err := e.client().User.CreateBulk(builders[i:min(i+250, len(builders))]...).Save(e.ctx())
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]*ent.IdentityCreate, len(users))
			for j, u := range users {
				ids[j] = e.client().Identity.Create().SetKind(identity.KindUSER_ID).SetValue(*u.UserID).SetUserID(u.ID)
			}
			if err := e.client().Identity.CreateBulk(ids...).Exec(e.ctx()); err != nil {
				t.Fatal(err)
			}
		}
		c := e.update(created.CreateAttributeDefinition.ID, vars{"type": "INTEGER"})
		if c.Converted != 1101-12 || c.Removed != 12 {
			t.Errorf("converted %d, removed %d", c.Converted, c.Removed)
		}
		if got := e.attributesOf("u1100"); got["n"] != nil || got["keep"] != "me" {
			t.Errorf("u1100: %v", got)
		}
		if got := e.attributesOf("u1099"); got["n"] != float64(1099) || got["keep"] != "me" {
			t.Errorf("u1099: %v", got)
		}
	})
}

// TestTypeChangeDuringIngestion runs a type change while batches write the key: when
// both are done, every stored value has the new type, whichever came first.
func TestTypeChangeDuringIngestion(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(identify("u0", "", msg{"level": "1"}))
		level := e.definitions("USER", nil)["level@<nil>"]
		var wg sync.WaitGroup
		errs := make(chan string, 100)
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 15 {
					var msgs []msg
					for j := range 10 {
						msgs = append(msgs, identify(fmt.Sprintf("w%d-%d", w, j), "", msg{"level": fmt.Sprint(i), "note": "x"}))
					}
					items := make([]any, len(msgs))
					for k := range msgs {
						items[k] = msgs[k]
					}
					if code := e.postBatch(items); code != 200 && code != 503 {
						errs <- fmt.Sprintf("batch: %d", code)
					}
				}
			}()
		}
		var out struct{ UpdateAttributeDefinition change }
		res := e.GraphQL(t, e.App.AdminSecret, updateDefinition, vars{"id": level.ID, "input": vars{"type": "INTEGER"}})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(res.Errors) > 0 {
			t.Fatalf("update: %+v", res.Errors)
		}
		_ = out
		q := `SELECT user_id, attributes FROM users WHERE app_id = ?`
		if db.Dialect == dialect.Postgres {
			q = `SELECT user_id, attributes::text FROM users WHERE app_id = $1`
		}
		rows, err := db.SQL.Query(q, e.App.App.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var u sql.NullString
			var doc string
			if err := rows.Scan(&u, &doc); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(doc, `"level":"`) || strings.Contains(doc, `"level": "`) {
				t.Errorf("%s holds a STRING level after the change to INTEGER: %s", u.String, doc)
			}
		}
	})
}

func TestEventDefinitions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(
			track("u1", "Signed Up", "2024-05-01T10:00:00Z", msg{"plan": "pro"}),
			track("u1", "Clicked", "2024-05-01T11:00:00Z", nil),
			track("u2", "Clicked", "2024-05-02T11:00:00Z", nil),
		)
		type eventDef struct {
			ID, Name    string
			Occurrences int
			LastSeen    *string
		}
		list := func() map[string]eventDef {
			var out struct{ EventDefinitions []eventDef }
			e.gql(`{ eventDefinitions { id name occurrences lastSeen } }`, nil, &out)
			m := map[string]eventDef{}
			var names []string
			for _, d := range out.EventDefinitions {
				m[d.Name] = d
				names = append(names, d.Name)
			}
			if !slices.IsSorted(names) {
				t.Errorf("not sorted by name: %v", names)
			}
			return m
		}
		defs := list()
		if c := defs["Clicked"]; c.Occurrences != 2 || str(c.LastSeen) != "2024-05-02T11:00:00Z" || defs["Signed Up"].Occurrences != 1 {
			t.Errorf("definitions: %+v", defs)
		}
		const rename = `mutation($id: ID!, $name: String!) { renameEventDefinition(id: $id, name: $name) { id name occurrences } }`
		var renamed struct{ RenameEventDefinition eventDef }
		e.gql(rename, vars{"id": defs["Clicked"].ID, "name": "Button Clicked"}, &renamed)
		if renamed.RenameEventDefinition.Name != "Button Clicked" || renamed.RenameEventDefinition.Occurrences != 2 {
			t.Errorf("renamed: %+v", renamed)
		}
		var ev struct {
			User struct{ Events struct{ TotalCount int } }
		}
		e.gql(`{ user(userId: "u2") { events(name: "Button Clicked") { totalCount } } }`, nil, &ev)
		if ev.User.Events.TotalCount != 1 {
			t.Errorf("occurrences under the new name: %+v", ev)
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", rename, vars{"id": defs["Clicked"].ID, "name": "Signed Up"}); err.Extensions["field"] != "name" {
			t.Errorf("rename onto another event: %+v", err)
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", rename, vars{"id": defs["Clicked"].ID, "name": "  "}); err.Extensions["field"] != "name" {
			t.Errorf("empty name: %+v", err)
		}

		const del = `mutation($id: ID!, $occ: Boolean) { deleteEventDefinition(id: $id, deleteOccurrences: $occ) }`
		if err, _ := e.gqlErr("BAD_USER_INPUT", del, vars{"id": defs["Signed Up"].ID}); err.Extensions["field"] != "deleteOccurrences" {
			t.Errorf("delete with occurrences: %+v", err)
		}
		var ok struct{ DeleteEventDefinition bool }
		e.gql(del, vars{"id": defs["Signed Up"].ID, "occ": true}, &ok)
		if !ok.DeleteEventDefinition {
			t.Error("not deleted")
		}
		if _, still := list()["Signed Up"]; still {
			t.Error("still listed")
		}
		if got := e.definitions("EVENT", "Signed Up"); len(got) != 0 {
			t.Errorf("its attribute definitions: %+v", got)
		}
		var all struct {
			User struct{ Events struct{ TotalCount int } }
		}
		e.gql(`{ user(userId: "u1") { events { totalCount } } }`, nil, &all)
		if all.User.Events.TotalCount != 1 {
			t.Errorf("u1's occurrences: %+v", all)
		}
		// An event without occurrences goes without the flag.
		var created struct{ CreateAttributeDefinition definition }
		e.gql(createDefinition, vars{"input": vars{"scope": "EVENT", "key": "k", "type": "STRING", "eventName": "Planned"}}, &created)
		e.gql(del, vars{"id": list()["Planned"].ID}, &ok)
		e.gqlErr("NOT_FOUND", del, vars{"id": defs["Signed Up"].ID, "occ": true})
	})
}
