package ingest_test

import (
	"reflect"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// aBitOfEverything is a request that touches every counter and table once.
func aBitOfEverything(prefix string) []msg {
	return []msg{
		{"type": "identify", "userId": "dup", "messageId": prefix + "-1", "traits": msg{"visits": "1", "email": "dup@example.com"}},
		{"type": "page", "userId": "dup", "messageId": prefix + "-2", "properties": msg{"path": "/"}},
		{"type": "screen", "userId": "dup", "messageId": prefix + "-3", "name": "Home"},
		{"type": "track", "userId": "dup", "messageId": prefix + "-4", "event": "Bought", "properties": msg{"sku": "A"}},
		{"type": "group", "userId": "dup", "messageId": prefix + "-5", "groupId": "dup-co", "traits": msg{"employees": 5}},
		{"type": "alias", "userId": "dup", "messageId": prefix + "-6", "previousId": "dup-old"},
	}
}

type snapshot struct {
	PageViews, PageViewRows, Occurrences, Memberships, Users, Companies int
	Attributes                                                          map[string]any
}

func (e *env) snapshot(userID string) snapshot {
	e.t.Helper()
	u := e.mustUser(userID)
	return snapshot{
		PageViews:    u.PageViews,
		PageViewRows: len(e.pageViewsOf(u.ID)),
		Occurrences:  len(e.occurrencesOf(u.ID)),
		Memberships:  len(e.groupsOf(u.ID)),
		Users:        e.userCount(),
		Companies:    e.count(e.client().Company.Query()),
		Attributes:   u.Attributes,
	}
}

var onceOfEverything = snapshot{PageViews: 2, PageViewRows: 2, Occurrences: 1, Memberships: 1, Users: 1, Companies: 1,
	Attributes: map[string]any{"visits": "1"}}

// TestSameRequestTwice: a retried request changes nothing and is still answered 200.
func TestSameRequestTwice(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		msgs := aBitOfEverything("m")
		first := e.batch(msgs...)
		second := e.batch(msgs...)
		if first.Accepted != 6 || second.Accepted != 6 || len(second.Rejected) != 0 {
			t.Errorf("answers: %+v then %+v", first, second)
		}
		if got := e.snapshot("dup"); !reflect.DeepEqual(got, onceOfEverything) {
			t.Errorf("after a retry: %+v, want %+v", got, onceOfEverything)
		}
		if n := e.occurrenceCount("Bought"); n != 1 {
			t.Errorf("Bought occurred %d times", n)
		}
		// Single calls too.
		for _, m := range msgs {
			e.call(m)
		}
		if got := e.snapshot("dup"); !reflect.DeepEqual(got, onceOfEverything) {
			t.Errorf("after single-call retries: %+v", got)
		}
	})
}

// TestSameMessageTwiceInOneBatch: a library that resends inside one batch.
func TestSameMessageTwiceInOneBatch(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		msgs := aBitOfEverything("m")
		res := e.batch(append(msgs, msgs...)...)
		if res.Accepted != 12 || len(res.Rejected) != 0 {
			t.Errorf("answer %+v", res)
		}
		if got := e.snapshot("dup"); !reflect.DeepEqual(got, onceOfEverything) {
			t.Errorf("%+v, want %+v", got, onceOfEverything)
		}
	})
}

// TestSameMessageIDWithOtherContent: the messageId decides, not the content; the first
// version wins.
func TestSameMessageIDWithOtherContent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.batch(aBitOfEverything("m")...)
		changed := []msg{
			{"type": "identify", "userId": "dup", "messageId": "m-1", "traits": msg{"visits": "2", "email": "changed@example.com", "extra": "x"}},
			{"type": "page", "userId": "dup", "messageId": "m-2", "properties": msg{"path": "/changed"}},
			{"type": "track", "userId": "dup", "messageId": "m-3", "event": "Other"},     // was a screen
			{"type": "track", "userId": "dup", "messageId": "m-4", "event": "Bought"},    // same event again
			{"type": "group", "userId": "dup", "messageId": "m-5", "groupId": "else-co"}, // another company
			{"type": "page", "userId": "somebody", "messageId": "m-6"},                   // another user
		}
		e.batch(changed...)
		want := onceOfEverything
		if got := e.snapshot("dup"); !reflect.DeepEqual(got, want) {
			t.Errorf("%+v, want %+v", got, want)
		}
		if u := e.mustUser("dup"); str(u.Email) != "dup@example.com" {
			t.Errorf("email changed to %s", str(u.Email))
		}
		if e.userByUserID("somebody") != nil {
			t.Error("a duplicate messageId created a user")
		}
		if n := e.count(e.client().EventDefinition.Query()); n != 1 {
			t.Errorf("%d event definitions", n)
		}
		if pv := e.pageViewsOf(e.mustUser("dup").ID); str(pv[0].Path) != "/" {
			t.Errorf("page view path %s", str(pv[0].Path))
		}
	})
}

// TestMessageIDsArePerApp: two apps may use the same messageId.
func TestMessageIDsArePerApp(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		other := e.NewApp(t, "Other")
		m := msg{"type": "page", "userId": "same", "messageId": "shared-id"}
		e.call(m)
		e.mustPost("/v1/page", m, basicAuth(other.SegmentSecret))
		if e.mustUser("same").PageViews != 1 {
			t.Error("first app")
		}
		ctx := viewer.NewContext(t.Context(), viewer.Viewer{AppID: other.App.ID, Role: viewer.RoleAdmin})
		users := e.client().User.Query().AllX(ctx)
		if len(users) != 1 || users[0].PageViews != 1 {
			t.Errorf("the other app's copy was dropped as a duplicate: %v", users)
		}
	})
}

// TestMessagesWithoutMessageID are all stored: without an id there is nothing to
// deduplicate on.
func TestMessagesWithoutMessageID(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		m := msg{"type": "page", "userId": "no-ids"}
		e.call(m)
		e.call(m)
		e.batch(m, m)
		if n := e.mustUser("no-ids").PageViews; n != 4 {
			t.Errorf("pageViews %d, want 4", n)
		}
	})
}
