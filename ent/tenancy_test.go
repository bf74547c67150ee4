package ent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/ent/privacy"
	"github.com/peoplegraph/peoplegraph/ent/user"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// The privacy policies of the tenant mixin scope every query and mutation to the
// viewer's app, whatever the caller asks for.
func TestTenancyPolicies(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		bg := context.Background()
		a, err := apps.Create(bg, db.Client, "A", apps.Secrets{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := apps.Create(bg, db.Client, "B", apps.Secrets{})
		if err != nil {
			t.Fatal(err)
		}
		asA := viewer.NewContext(bg, viewer.Viewer{AppID: a.App.ID, Role: viewer.RoleAdmin})
		asB := viewer.NewContext(bg, viewer.Viewer{AppID: b.App.ID, Role: viewer.RoleAdmin})

		// A create without an app id lands in the viewer's app.
		ua, err := db.Client.User.Create().SetUserID("alice").Save(asA)
		if err != nil {
			t.Fatal(err)
		}
		if ua.AppID != a.App.ID {
			t.Fatalf("created in app %d, want %d", ua.AppID, a.App.ID)
		}
		// A create naming another app is refused.
		if _, err := db.Client.User.Create().SetAppID(a.App.ID).SetUserID("mallory").Save(asB); !isDenied(err) {
			t.Fatalf("create in a foreign app: %v", err)
		}
		// Queries see only the viewer's rows, also by id.
		if n := db.Client.User.Query().CountX(asB); n != 0 {
			t.Fatalf("B sees %d users of A", n)
		}
		if _, err := db.Client.User.Get(asB, ua.ID); err == nil {
			t.Fatal("B got A's user by id")
		}
		if n := db.Client.User.Query().CountX(asA); n != 1 {
			t.Fatalf("A sees %d users", n)
		}
		// Updates and deletes are narrowed to the viewer's rows.
		if n := db.Client.User.Update().Where(user.ID(ua.ID)).SetEmail("x@evil").SaveX(asB); n != 0 {
			t.Fatalf("B updated %d of A's users", n)
		}
		if n := db.Client.User.Delete().Where(user.ID(ua.ID)).ExecX(asB); n != 0 {
			t.Fatalf("B deleted %d of A's users", n)
		}
		if err := db.Client.User.UpdateOneID(ua.ID).SetEmail("x@evil").Exec(asB); err == nil {
			t.Fatal("B updated A's user by id")
		}
		// Apps: each viewer sees its own only; nobody but the server creates one.
		if n := db.Client.App.Query().CountX(asB); n != 1 {
			t.Fatalf("B sees %d apps", n)
		}
		if _, err := db.Client.App.Create().SetName("C").Save(asA); !isDenied(err) {
			t.Fatalf("viewer created an app: %v", err)
		}
		// Without a viewer nothing is readable or writable.
		if _, err := db.Client.User.Query().All(bg); !isDenied(err) {
			t.Fatalf("query without viewer: %v", err)
		}
		if _, err := db.Client.User.Create().SetAppID(a.App.ID).Save(bg); !isDenied(err) {
			t.Fatalf("create without viewer: %v", err)
		}
		got := db.Client.User.GetX(asA, ua.ID)
		if got.Email != nil {
			t.Fatalf("A's user was changed by B: %v", *got.Email)
		}
	})
}

func isDenied(err error) bool {
	return errors.Is(err, privacy.Deny)
}
