package ingest_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// TestUnknownUsersAreCreated: a call never fails for an unknown user (PRODUCT.md 2.1.1).
func TestUnknownUsersAreCreated(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.call(msg{"type": "track", "userId": "known-by-id", "event": "Hello"})
		e.call(msg{"type": "page", "anonymousId": "visitor"})
		e.call(msg{"type": "identify", "userId": 12345}) // a number is taken as its decimal text

		u := e.mustUser("known-by-id")
		if str(u.UserID) != "known-by-id" || !reflect.DeepEqual(e.identitiesOf(u.ID), []string{"USER_ID:known-by-id"}) {
			t.Errorf("userId user: %s %v", str(u.UserID), e.identitiesOf(u.ID))
		}
		a := e.mustAnonymous("visitor")
		if a.UserID != nil || !reflect.DeepEqual(e.identitiesOf(a.ID), []string{"ANONYMOUS_ID:visitor"}) || a.PageViews != 1 {
			t.Errorf("anonymous user: %s %v", str(a.UserID), e.identitiesOf(a.ID))
		}
		if n := e.mustUser("12345"); str(n.UserID) != "12345" {
			t.Errorf("numeric userId stored as %s", str(n.UserID))
		}
		// The previous id is an identified user and the new userId is unknown: the
		// profile is found by both from now on.
		e.call(msg{"type": "identify", "userId": "u-11", "traits": msg{"email": "u11@example.com"}})
		e.call(msg{"type": "alias", "previousId": "u-11", "userId": "u-11-renamed"})
		if e.mustUser("u-11-renamed").ID != e.mustUser("u-11").ID {
			t.Error("alias to a new userId of an identified user made two profiles")
		}
		if n := e.userCount(); n != 4 {
			t.Errorf("%d users, want 4", n)
		}
	})
}

// TestAnonymousVisitorSignsIn: an anonymous profile that gets a userId becomes that
// user's profile; no duplicate (PRODUCT.md 2.1.2).
func TestAnonymousVisitorSignsIn(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.call(msg{"type": "page", "anonymousId": "device-1", "properties": msg{"path": "/pricing"}})
		e.call(msg{"type": "track", "anonymousId": "device-1", "event": "Viewed Pricing"})
		before := e.mustAnonymous("device-1")

		e.call(msg{"type": "identify", "anonymousId": "device-1", "userId": "ada", "traits": msg{"email": "ada@example.com"}})
		u := e.mustUser("ada")
		if u.ID != before.ID {
			t.Fatalf("signing in created profile %d instead of using %d", u.ID, before.ID)
		}
		if str(u.UserID) != "ada" || u.PageViews != 1 || len(e.occurrencesOf(u.ID)) != 1 || str(u.Email) != "ada@example.com" {
			t.Errorf("signed-in profile: userId %s pageViews %d", str(u.UserID), u.PageViews)
		}
		if got := e.identitiesOf(u.ID); !reflect.DeepEqual(got, []string{"ANONYMOUS_ID:device-1", "USER_ID:ada"}) {
			t.Errorf("identities %v", got)
		}
		if n := e.userCount(); n != 1 {
			t.Errorf("%d users", n)
		}

		// The same in one batch: anonymous calls, then the identify, then both ids.
		e.batch(
			msg{"type": "page", "anonymousId": "device-2"},
			msg{"type": "identify", "anonymousId": "device-2", "userId": "grace"},
			msg{"type": "page", "userId": "grace"},
			msg{"type": "page", "anonymousId": "device-2"},
		)
		g := e.mustUser("grace")
		if g.ID != e.mustAnonymous("device-2").ID || g.PageViews != 3 {
			t.Errorf("batch sign-in: pageViews %d", g.PageViews)
		}
		if n := e.userCount(); n != 2 {
			t.Errorf("%d users, want 2", n)
		}
	})
}

// TestSeveralAnonymousIDs: one user, several devices (PRODUCT.md 2.1.4).
func TestSeveralAnonymousIDs(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.call(msg{"type": "identify", "userId": "multi", "anonymousId": "laptop"})
		e.call(msg{"type": "page", "userId": "multi", "anonymousId": "phone"})
		e.call(msg{"type": "page", "anonymousId": "phone"})  // found through the phone's id alone
		e.call(msg{"type": "page", "anonymousId": "laptop"}) // and the laptop's
		u := e.mustUser("multi")
		if got := e.identitiesOf(u.ID); !reflect.DeepEqual(got, []string{"ANONYMOUS_ID:laptop", "ANONYMOUS_ID:phone", "USER_ID:multi"}) {
			t.Errorf("identities %v", got)
		}
		if u.PageViews != 3 || e.userCount() != 1 {
			t.Errorf("pageViews %d, %d users", u.PageViews, e.userCount())
		}

		// A device that browsed anonymously before the user signed in on it: its
		// anonymous profile joins the user's.
		e.call(msg{"type": "page", "anonymousId": "tablet", "properties": msg{"path": "/tablet"}})
		e.call(msg{"type": "track", "userId": "multi", "anonymousId": "tablet", "event": "Signed In"})
		u = e.mustUser("multi")
		if e.mustAnonymous("tablet").ID != u.ID || u.PageViews != 4 || e.userCount() != 1 {
			t.Errorf("tablet profile not joined: pageViews %d, %d users", u.PageViews, e.userCount())
		}

		// An anonymousId already used by another identified user stays with that user:
		// two identified people are never merged without an alias.
		e.call(msg{"type": "identify", "userId": "other", "anonymousId": "shared"})
		e.call(msg{"type": "page", "userId": "multi", "anonymousId": "shared"})
		if e.mustAnonymous("shared").ID != e.mustUser("other").ID || e.mustUser("multi").ID == e.mustUser("other").ID {
			t.Error("a shared device merged two identified users")
		}
	})
}

// sendAll posts each message to its own endpoint, in order.
func (e *env) sendAll(msgs []msg) {
	e.t.Helper()
	for _, m := range msgs {
		e.call(m)
	}
}

// TestAliasMergesProfiles: PRODUCT.md 2.1.3 over separate requests.
func TestAliasMergesProfiles(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		e.sendAll([]msg{
			{"type": "identify", "userId": "old", "timestamp": iso(t0), "traits": msg{"email": "old@example.com", "plan": "free", "only_old": "x", "city_note": nil}},
			{"type": "page", "userId": "old", "timestamp": iso(t0.Add(time.Hour))},
			{"type": "page", "userId": "old", "timestamp": iso(t0.Add(2 * time.Hour))},
			{"type": "track", "userId": "old", "event": "Old Event", "timestamp": iso(t0.Add(3 * time.Hour))},
			{"type": "group", "userId": "old", "groupId": "shared-co"},
			{"type": "group", "userId": "old", "groupId": "old-co"},
		})
		e.sendAll([]msg{
			{"type": "identify", "userId": "new", "timestamp": iso(t0.Add(48 * time.Hour)), "traits": msg{"plan": "pro", "firstName": "Neu"}},
			{"type": "page", "userId": "new", "timestamp": iso(t0.Add(72 * time.Hour))},
			{"type": "track", "userId": "new", "event": "New Event", "timestamp": iso(t0.Add(72 * time.Hour))},
			{"type": "group", "userId": "new", "groupId": "shared-co"},
		})
		oldID, newID := e.mustUser("old").ID, e.mustUser("new").ID

		e.call(msg{"type": "alias", "previousId": "old", "userId": "new", "timestamp": iso(t0.Add(96 * time.Hour))})

		u := e.mustUser("new")
		if u.ID != newID || e.mustUser("old").ID != newID {
			t.Fatalf("after alias: old finds %d, new finds %d; want both %d", e.mustUser("old").ID, u.ID, newID)
		}
		if n := e.count(e.client().User.Query()); n != 1 {
			t.Errorf("%d users after the merge", n)
		}
		if _, err := e.client().User.Get(e.ctx(), oldID); err == nil {
			t.Error("the merged-away profile still exists")
		}
		if u.PageViews != 3 {
			t.Errorf("pageViews = %d, want 2 + 1", u.PageViews)
		}
		if len(e.pageViewsOf(u.ID)) != 3 {
			t.Errorf("%d page view rows", len(e.pageViewsOf(u.ID)))
		}
		var events []string
		for _, o := range e.occurrencesOf(u.ID) {
			events = append(events, o.Name)
		}
		if !reflect.DeepEqual(events, []string{"Old Event", "New Event"}) {
			t.Errorf("occurrences %v", events)
		}
		if g := e.groupsOf(u.ID); !reflect.DeepEqual(g, []string{"old-co", "shared-co"}) {
			t.Errorf("groups %v", g)
		}
		if n := e.count(e.client().Membership.Query()); n != 2 {
			t.Errorf("%d memberships", n)
		}
		sameInstant(t, "firstSeen", u.FirstSeen, t0)
		sameInstant(t, "lastSeen", u.LastSeen, t0.Add(72*time.Hour))
		// Attributes the target lacks are copied; the target's own win.
		if !reflect.DeepEqual(u.Attributes, map[string]any{"plan": "pro", "only_old": "x"}) {
			t.Errorf("attributes %v", u.Attributes)
		}
		if str(u.Email) != "old@example.com" || str(u.FirstName) != "Neu" || str(u.UserID) != "new" {
			t.Errorf("standard fields: email %s first name %s userId %s", str(u.Email), str(u.FirstName), str(u.UserID))
		}

		// Later calls with either id land on the merged profile.
		e.call(msg{"type": "page", "userId": "old"})
		e.call(msg{"type": "page", "userId": "new"})
		if u := e.mustUser("new"); u.PageViews != 5 || e.userCount() != 1 {
			t.Errorf("after the alias, pageViews %d and %d users", u.PageViews, e.userCount())
		}
	})
}

// TestAliasOfAnAnonymousID: the classic alias(anonymousId, userId) after sign-up.
func TestAliasOfAnAnonymousID(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		// The target exists and has its own history.
		e.call(msg{"type": "page", "anonymousId": "anon-9"})
		e.call(msg{"type": "page", "anonymousId": "anon-9"})
		e.call(msg{"type": "identify", "userId": "u-9", "traits": msg{"email": "u9@example.com"}})
		e.call(msg{"type": "alias", "previousId": "anon-9", "userId": "u-9"})
		u := e.mustUser("u-9")
		if e.mustAnonymous("anon-9").ID != u.ID || u.PageViews != 2 || e.userCount() != 1 {
			t.Errorf("alias of an anonymous id: pageViews %d, %d users", u.PageViews, e.userCount())
		}

		// The target does not exist yet: the anonymous profile becomes it.
		e.call(msg{"type": "page", "anonymousId": "anon-10"})
		anon := e.mustAnonymous("anon-10")
		e.call(msg{"type": "alias", "previousId": "anon-10", "userId": "u-10"})
		if u := e.mustUser("u-10"); u.ID != anon.ID || str(u.UserID) != "u-10" || u.PageViews != 1 {
			t.Errorf("alias to a new userId: id %d (anon %d) userId %s", u.ID, anon.ID, str(u.UserID))
		}

		// Neither exists: one profile that both find.
		e.call(msg{"type": "alias", "previousId": "ghost-prev", "userId": "ghost"})
		if e.mustUser("ghost").ID != e.mustUser("ghost-prev").ID {
			t.Error("alias of two unknown ids made two profiles")
		}
		// The previous id is an identified user and the new userId is unknown: the
		// profile is found by both from now on.
		e.call(msg{"type": "identify", "userId": "u-11", "traits": msg{"email": "u11@example.com"}})
		e.call(msg{"type": "alias", "previousId": "u-11", "userId": "u-11-renamed"})
		if e.mustUser("u-11-renamed").ID != e.mustUser("u-11").ID {
			t.Error("alias to a new userId of an identified user made two profiles")
		}
		if n := e.userCount(); n != 4 {
			t.Errorf("%d users, want 4", n)
		}
	})
}

// TestAliasInsideOneBatch: the merge happens in message order within one request.
func TestAliasInsideOneBatch(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		t0 := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
		e.batch(
			msg{"type": "page", "anonymousId": "b-anon", "timestamp": iso(t0)},
			msg{"type": "identify", "anonymousId": "b-anon", "traits": msg{"coupon": "SPRING"}},
			msg{"type": "group", "anonymousId": "b-anon", "groupId": "b-co"},
			msg{"type": "track", "userId": "b-user", "event": "Signed Up", "timestamp": iso(t0.Add(time.Hour))},
			msg{"type": "identify", "userId": "b-user", "traits": msg{"plan": "trial"}},
			msg{"type": "alias", "previousId": "b-anon", "userId": "b-user"},
			msg{"type": "page", "anonymousId": "b-anon", "timestamp": iso(t0.Add(2 * time.Hour))},
			msg{"type": "track", "userId": "b-anon", "event": "After Alias"},
		)
		u := e.mustUser("b-user")
		if e.mustAnonymous("b-anon").ID != u.ID || e.mustUser("b-anon").ID != u.ID || e.userCount() != 1 {
			t.Fatalf("one batch with an alias left %d users", e.userCount())
		}
		if u.PageViews != 2 || len(e.pageViewsOf(u.ID)) != 2 || len(e.occurrencesOf(u.ID)) != 2 {
			t.Errorf("pageViews %d, %d page views, %d occurrences", u.PageViews, len(e.pageViewsOf(u.ID)), len(e.occurrencesOf(u.ID)))
		}
		if !reflect.DeepEqual(u.Attributes, map[string]any{"coupon": "SPRING", "plan": "trial"}) {
			t.Errorf("attributes %v", u.Attributes)
		}
		if g := e.groupsOf(u.ID); !reflect.DeepEqual(g, []string{"b-co"}) {
			t.Errorf("groups %v", g)
		}
		sameInstant(t, "firstSeen", u.FirstSeen, t0)
		sameInstant(t, "lastSeen", u.LastSeen, t0.Add(2*time.Hour))
	})
}

// TestAliasChainAndRepeat: a → b then b → c ends in one profile; repeating an alias
// (a new messageId) changes nothing.
func TestAliasChainAndRepeat(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for _, id := range []string{"a", "b", "c"} {
			e.call(msg{"type": "page", "userId": id})
		}
		e.call(msg{"type": "alias", "previousId": "a", "userId": "b"})
		e.call(msg{"type": "alias", "previousId": "b", "userId": "c"})
		e.call(msg{"type": "alias", "previousId": "a", "userId": "c"})
		e.call(msg{"type": "alias", "previousId": "a", "userId": "b"}) // b already is c's
		c := e.mustUser("c")
		for _, id := range []string{"a", "b"} {
			if e.mustUser(id).ID != c.ID {
				t.Errorf("%s finds another profile than c", id)
			}
		}
		if c.PageViews != 3 || e.userCount() != 1 {
			t.Errorf("pageViews %d, %d users", c.PageViews, e.userCount())
		}
	})
}
