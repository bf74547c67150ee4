package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/ent/identity"
	"github.com/peoplegraph/peoplegraph/ent/user"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// concurrently runs fn(i) for i in [0, n) at once (after a common start) and waits.
func concurrently(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// postOK posts from a goroutine: it reports a failure with t.Errorf (not Fatal).
func (e *env) postOK(t *testing.T, path string, body any, opts ...reqOption) {
	res := e.postRaw(path, bodyOf(t, body), opts...)
	if res.Status != http.StatusOK {
		t.Errorf("POST %s: %d %s", path, res.Status, res.Body)
	}
}

// TestConcurrentFirstCallsCreateOneUser: 50 concurrent first calls for one new userId
// (each with its own messageId and device) make one user and one USER_ID identity.
func TestConcurrentFirstCallsCreateOneUser(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		const n = 50
		concurrently(n, func(i int) {
			path, body := "/v1/page", msg{"userId": "racer", "anonymousId": fmt.Sprintf("device-%d", i)}
			if i%5 == 0 { // some as batches, which skip group commit
				path, body = "/v1/batch", msg{"batch": []any{msg{"type": "page", "userId": "racer", "anonymousId": fmt.Sprintf("device-%d", i)}}}
			}
			e.postOK(t, path, body)
		})
		if got := e.count(e.client().User.Query()); got != 1 {
			t.Fatalf("%d users for one userId", got)
		}
		if got := e.count(e.client().Identity.Query().Where(identity.KindEQ(identity.KindUSER_ID))); got != 1 {
			t.Errorf("%d USER_ID identities", got)
		}
		u := e.mustUser("racer")
		if u.PageViews != n {
			t.Errorf("pageViews %d, want %d", u.PageViews, n)
		}
		if got := len(e.identitiesOf(u.ID)); got != n+1 {
			t.Errorf("%d identities, want %d devices + the userId", got, n)
		}
	})
}

// TestConcurrentFirstCallsOfAnAnonymousVisitor: the same, for a new anonymousId.
func TestConcurrentFirstCallsOfAnAnonymousVisitor(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		concurrently(30, func(i int) {
			e.postOK(t, "/v1/batch", msg{"batch": []any{msg{"type": "page", "anonymousId": "lurker"}}})
		})
		if got := e.userCount(); got != 1 {
			t.Fatalf("%d users for one anonymousId", got)
		}
		if u := e.mustAnonymous("lurker"); u.PageViews != 30 {
			t.Errorf("pageViews %d", u.PageViews)
		}
	})
}

// TestConcurrentDuplicates: the same page message 10 times at once counts once.
func TestConcurrentDuplicates(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		page := msg{"type": "page", "userId": "dup-racer", "messageId": "the-one", "properties": msg{"path": "/x"}}
		concurrently(10, func(i int) {
			if i%2 == 0 {
				e.postOK(t, "/v1/page", page)
			} else {
				e.postOK(t, "/v1/batch", msg{"batch": []any{page}})
			}
		})
		u := e.mustUser("dup-racer")
		if u.PageViews != 1 || len(e.pageViewsOf(u.ID)) != 1 {
			t.Errorf("pageViews %d, %d rows; want 1", u.PageViews, len(e.pageViewsOf(u.ID)))
		}
		if e.userCount() != 1 {
			t.Errorf("%d users", e.userCount())
		}
	})
}

// TestConcurrentDefinitions: many batches at once naming the same events, event
// properties, traits and company traits create one definition each.
func TestConcurrentDefinitions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		const workers, events, keys = 16, 4, 5
		concurrently(workers, func(w int) {
			var batch []any
			traits, props := msg{}, msg{}
			for k := 0; k < keys; k++ {
				traits[fmt.Sprintf("trait_%d", k)] = w
				props[fmt.Sprintf("prop_%d", k)] = w
			}
			for ev := 0; ev < events; ev++ {
				// Different orders in different workers.
				name := fmt.Sprintf("Event %d", (ev+w)%events)
				batch = append(batch, msg{"type": "track", "userId": fmt.Sprintf("w%d", w), "event": name, "properties": props})
			}
			batch = append(batch,
				msg{"type": "identify", "userId": fmt.Sprintf("w%d", w), "traits": traits},
				msg{"type": "group", "userId": fmt.Sprintf("w%d", w), "groupId": "shared", "traits": traits})
			e.postOK(t, "/v1/batch", msg{"batch": batch})
		})
		if got := e.count(e.client().EventDefinition.Query()); got != events {
			t.Errorf("%d event definitions, want %d", got, events)
		}
		for ev := 0; ev < events; ev++ {
			name := fmt.Sprintf("Event %d", ev)
			if n := e.occurrenceCount(name); n != workers {
				t.Errorf("%s occurred %d times, want %d", name, n, workers)
			}
		}
		defs := e.client().AttributeDefinition.Query().AllX(e.ctx())
		if len(defs) != keys*(events+2) {
			t.Errorf("%d attribute definitions, want %d", len(defs), keys*(events+2))
		}
		seen := map[string]int{}
		for _, d := range defs {
			ev := 0
			if d.EventDefinitionID != nil {
				ev = *d.EventDefinitionID
			}
			seen[fmt.Sprintf("%s/%d/%s", d.Scope, ev, d.Key)]++
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%d definitions of %s", n, k)
			}
		}
		if got := e.count(e.client().Company.Query()); got != 1 {
			t.Errorf("%d companies", got)
		}
		if got := e.count(e.client().Membership.Query()); got != workers {
			t.Errorf("%d memberships, want %d", got, workers)
		}
	})
}

// TestConcurrentAliasesAndSignIns: sign-ins and aliases racing on overlapping ids end
// with every id finding exactly one profile and no request failing.
func TestConcurrentAliasesAndSignIns(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		concurrently(24, func(i int) {
			var m msg
			switch i % 3 {
			case 0:
				m = msg{"type": "page", "anonymousId": "tab-1"}
			case 1:
				m = msg{"type": "identify", "anonymousId": "tab-1", "userId": "signer"}
			case 2:
				m = msg{"type": "alias", "previousId": "tab-1", "userId": "signer"}
			}
			e.postOK(t, "/v1/batch", msg{"batch": []any{m}})
		})
		u := e.mustUser("signer")
		if e.mustAnonymous("tab-1").ID != u.ID {
			t.Error("tab-1 and signer find different profiles")
		}
		if got := e.userCount(); got != 1 {
			t.Errorf("%d users", got)
		}
		if u.PageViews != 8 {
			t.Errorf("pageViews %d, want 8", u.PageViews)
		}
	})
}

// changeType is an admin's type change as the API performs it: exclusive definitions
// lock, new type, stored values converted (unconvertible ones removed), one transaction.
func changeType(ctx context.Context, db *storage.DB, def int, to attributedefinition.Type) error {
	tx, err := db.Client.Tx(ctx)
	if err != nil {
		return err
	}
	fail := func(err error) error { _ = tx.Rollback(); return err }
	d, err := tx.AttributeDefinition.Get(ctx, def)
	if err != nil {
		return fail(err)
	}
	if err := storage.LockDefinitions(ctx, tx, db.Dialect, d.AppID, false); err != nil {
		return fail(err)
	}
	if err := tx.AttributeDefinition.UpdateOneID(def).SetType(to).Exec(ctx); err != nil {
		return fail(err)
	}
	users, err := tx.User.Query().Order(user.ByID()).All(ctx)
	if err != nil {
		return fail(err)
	}
	for _, u := range users {
		v, ok := u.Attributes[d.Key]
		if !ok {
			continue
		}
		attrs := u.Attributes
		if out, ok := attribute.Convert(attribute.Type(d.Type), attribute.Definition{Type: attribute.Type(to)}, v); ok {
			attrs[d.Key] = out
		} else {
			delete(attrs, d.Key)
		}
		if err := tx.User.UpdateOne(u).SetAttributes(attrs).Exec(ctx); err != nil {
			return fail(err)
		}
	}
	return tx.Commit()
}

// TestBatchesRacingATypeChange: identify batches keep writing "score" while an admin
// changes its definition from STRING to INTEGER. Every batch either ran before the change
// (its text is converted) or after it (it writes numbers): no text may be left.
func TestBatchesRacingATypeChange(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		def := e.defineAttribute(attributedefinition.ScopeUSER, "score", attributedefinition.TypeSTRING)
		const writers, rounds = 6, 8
		concurrently(writers+1, func(w int) {
			if w == writers {
				if err := changeType(e.ctx(), db, def.ID, attributedefinition.TypeINTEGER); err != nil {
					t.Errorf("type change: %v", err)
				}
				return
			}
			for r := 0; r < rounds; r++ {
				e.postOK(t, "/v1/batch", msg{"batch": []any{
					msg{"type": "identify", "userId": fmt.Sprintf("scorer-%d-%d", w, r), "traits": msg{"score": fmt.Sprint(r)}},
				}})
			}
		})
		users := e.client().User.Query().AllX(e.ctx())
		if len(users) != writers*rounds {
			t.Fatalf("%d users, want %d", len(users), writers*rounds)
		}
		for _, u := range users {
			if _, isNumber := u.Attributes["score"].(float64); !isNumber {
				t.Errorf("%s: score %#v survived the type change as text", str(u.UserID), u.Attributes["score"])
			}
		}
	})
}

// TestConcurrentSingleCallsShareTransactions: concurrent single calls are written by
// group commit — fewer transactions than requests (the messages of one transaction share
// its receipt time) — and every call is stored once, answered after its commit.
func TestConcurrentSingleCallsShareTransactions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		const n = 40
		concurrently(n, func(i int) {
			e.postOK(t, "/v1/track", msg{"userId": fmt.Sprintf("u%d", i%7), "event": "Clicked", "messageId": fmt.Sprintf("m%d", i)})
		})
		if got := e.occurrenceCount("Clicked"); got != n {
			t.Fatalf("%d occurrences stored, want %d", got, n)
		}
		var transactions int
		if err := db.SQL.QueryRowContext(context.Background(),
			`SELECT count(DISTINCT received_at) FROM processed_messages`).Scan(&transactions); err != nil {
			t.Fatal(err)
		}
		if transactions > n/2 {
			t.Errorf("%d concurrent single calls were written in %d transactions: group commit did not group them", n, transactions)
		}
		t.Logf("%d calls, %d transactions", n, transactions)
	})
}
