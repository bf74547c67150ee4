package ingest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/ent/eventdefinition"
	"github.com/peoplegraph/peoplegraph/ingest"
	"github.com/peoplegraph/peoplegraph/ingest/signature"
	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

func identifyMsg(userID string) msg {
	return msg{"type": "identify", "userId": userID, "traits": msg{"email": userID + "@example.com"}}
}

// TestRESTContract walks the table of PRODUCT.md 2: every refusal has its status and
// its code, and a body that is exactly {"success":false,"code":…,"message":…}.
func TestRESTContract(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		big := strings.Repeat("x", ingest.MaxMessageBytes)
		manyMessages := make([]any, ingest.MaxBatchMessages+1)
		for i := range manyMessages {
			manyMessages[i] = msg{"type": "page", "anonymousId": "a"}
		}
		hugeBatch := make([]any, 0, 40)
		for i := 0; i < 40; i++ { // 40 × ~16 KB: each message fine, the request not
			hugeBatch = append(hugeBatch, msg{"type": "track", "userId": "u", "event": "e", "properties": msg{"p": strings.Repeat("y", 16<<10)}})
		}

		cases := []struct {
			name   string
			path   string
			body   any
			opts   []reqOption
			status int
			code   string
		}{
			// Authentication.
			{"no credentials", "/v1/identify", identifyMsg("u1"), []reqOption{noAuth()}, 401, "unauthenticated"},
			{"empty Basic user name", "/v1/identify", identifyMsg("u1"), []reqOption{basicAuth("")}, 401, "unauthenticated"},
			{"unknown key (Basic)", "/v1/identify", identifyMsg("u1"), []reqOption{basicAuth("pgs_not-a-key-of-this-server")}, 403, "invalid_key"},
			{"unknown key (Bearer)", "/v1/identify", identifyMsg("u1"), []reqOption{noAuth(), bearer("pgs_not-a-key-of-this-server")}, 403, "invalid_key"},
			{"unknown key (writeKey)", "/v1/identify", msg{"type": "identify", "userId": "u1", "writeKey": "nope"}, []reqOption{noAuth()}, 403, "invalid_key"},
			{"ADMIN key", "/v1/identify", identifyMsg("u1"), []reqOption{basicAuth(e.App.AdminSecret)}, 403, "invalid_key"},
			{"ADMIN key as Bearer", "/v1/batch", msg{"batch": []any{identifyMsg("u1")}}, []reqOption{noAuth(), bearer(e.App.AdminSecret)}, 403, "invalid_key"},

			// Body and validation.
			{"body not JSON", "/v1/identify", "this is not json", nil, 400, "invalid_request"},
			{"empty body", "/v1/track", "", nil, 400, "invalid_request"},
			{"truncated JSON", "/v1/identify", `{"type":"identify","userId":"u1"`, nil, 400, "invalid_request"},
			{"trailing data", "/v1/identify", `{"type":"identify","userId":"u1"} {}`, nil, 400, "invalid_request"},
			{"JSON array instead of object", "/v1/identify", `[{"type":"identify","userId":"u1"}]`, nil, 400, "invalid_request"},
			{"batch is not an array", "/v1/batch", msg{"batch": msg{"type": "identify"}}, nil, 400, "invalid_request"},
			{"batch missing", "/v1/batch", msg{"messages": []any{identifyMsg("u1")}}, nil, 400, "invalid_request"},
			{"batch context not an object", "/v1/batch", msg{"batch": []any{identifyMsg("u1")}, "context": "x"}, nil, 400, "invalid_request"},
			{"traits not an object", "/v1/identify", msg{"userId": "u1", "traits": "rich"}, nil, 400, "invalid_request"},
			{"properties an array", "/v1/track", msg{"userId": "u1", "event": "e", "properties": []any{1}}, nil, 400, "invalid_request"},
			{"context a number", "/v1/page", msg{"userId": "u1", "context": 3}, nil, 400, "invalid_request"},
			{"userId an object", "/v1/identify", msg{"userId": msg{"id": 1}}, nil, 400, "invalid_request"},
			{"userId a boolean", "/v1/identify", msg{"userId": true}, nil, 400, "invalid_request"},
			{"event a number", "/v1/track", msg{"userId": "u1", "event": 12}, nil, 400, "invalid_request"},
			{"unknown type", "/v1/webhook", msg{"type": "purchase", "userId": "u1"}, nil, 400, "invalid_request"},
			{"webhook without type", "/v1/webhook", msg{"userId": "u1"}, nil, 400, "invalid_request"},
			{"type contradicts the endpoint", "/v1/identify", msg{"type": "track", "userId": "u1", "event": "e"}, nil, 400, "invalid_request"},
			{"neither userId nor anonymousId", "/v1/identify", msg{"traits": msg{"email": "x@example.com"}}, nil, 400, "invalid_request"},
			{"blank userId", "/v1/page", msg{"userId": "   "}, nil, 400, "invalid_request"},
			{"track without event", "/v1/track", msg{"userId": "u1"}, nil, 400, "invalid_request"},
			{"track with empty event", "/v1/track", msg{"userId": "u1", "event": ""}, nil, 400, "invalid_request"},
			{"group without groupId", "/v1/group", msg{"userId": "u1", "traits": msg{"name": "Acme"}}, nil, 400, "invalid_request"},
			{"alias without previousId", "/v1/alias", msg{"userId": "u1"}, nil, 400, "invalid_request"},
			{"alias without userId", "/v1/alias", msg{"previousId": "a1", "anonymousId": "a1"}, nil, 400, "invalid_request"},
			{"bad timestamp", "/v1/identify", msg{"userId": "u1", "timestamp": "yesterday"}, nil, 400, "invalid_request"},
			{"timestamp a number", "/v1/identify", msg{"userId": "u1", "timestamp": 1700000000}, nil, 400, "invalid_request"},
			{"bad originalTimestamp", "/v1/page", msg{"userId": "u1", "originalTimestamp": "2024-13-45T00:00:00Z"}, nil, 400, "invalid_request"},
			{"bad sentAt", "/v1/page", msg{"userId": "u1", "sentAt": "soon"}, nil, 400, "invalid_request"},
			{"messageId over 100 characters", "/v1/identify", msg{"userId": "u1", "messageId": strings.Repeat("m", 101)}, nil, 400, "invalid_request"},
			{"messageId an object", "/v1/identify", msg{"userId": "u1", "messageId": msg{}}, nil, 400, "invalid_request"},
			{"invalid gzip", "/v1/identify", "not gzip at all", []reqOption{header("Content-Encoding", "gzip")}, 400, "invalid_request"},

			// Limits.
			{"message over 32 KB", "/v1/identify", msg{"userId": "u1", "traits": msg{"bio": big}}, nil, 400, "too_large"},
			{"request over 500 KB", "/v1/batch", msg{"batch": hugeBatch}, nil, 400, "too_large"},
			{"more than 2,500 messages", "/v1/batch", msg{"batch": manyMessages}, nil, 400, "too_large"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := e.post(c.path, c.body, c.opts...)
				expectError(t, res, c.status, c.code)
			})
		}
		if n := e.userCount(); n != 0 {
			t.Errorf("refused requests stored %d users", n)
		}
	})
}

// TestLimitsAreInclusive: exactly 2,500 messages, and a message just under 32 KB, are fine.
func TestLimitsAreInclusive(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		items := make([]msg, ingest.MaxBatchMessages)
		for i := range items {
			items[i] = msg{"type": "page", "anonymousId": fmt.Sprintf("a%d", i%10), "messageId": fmt.Sprintf("m%d", i)}
		}
		res := e.batch(items...)
		if res.Accepted != ingest.MaxBatchMessages || len(res.Rejected) != 0 {
			t.Fatalf("accepted %d, rejected %v", res.Accepted, res.Rejected)
		}
		if n := e.mustAnonymous("a3").PageViews; n != ingest.MaxBatchMessages/10 {
			t.Errorf("pageViews of a3 = %d, want %d", n, ingest.MaxBatchMessages/10)
		}

		// A message of exactly 32 KB.
		m := msg{"type": "identify", "userId": "big", "traits": msg{"bio": ""}}
		bio := strings.Repeat("x", ingest.MaxMessageBytes-len(bodyOf(t, m)))
		m["traits"].(msg)["bio"] = bio
		if n := len(bodyOf(t, m)); n != ingest.MaxMessageBytes {
			t.Fatalf("test message is %d bytes", n)
		}
		e.call(m)
		if got, _ := e.mustUser("big").Attributes["bio"].(string); got != bio {
			t.Errorf("bio stored with %d bytes, want %d", len(got), len(bio))
		}
	})
}

// TestEveryWayToPassTheKey: HTTP Basic (key as user name, empty password), Bearer, and
// writeKey in the body of a single call and of a batch.
func TestEveryWayToPassTheKey(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		key := e.App.SegmentSecret
		e.mustPost("/v1/identify", identifyMsg("basic"), basicAuth(key))
		e.mustPost("/v1/identify", identifyMsg("bearer"), noAuth(), bearer(key))
		single := identifyMsg("writekey-single")
		single["writeKey"] = key
		e.mustPost("/v1/identify", single, noAuth())
		e.mustPost("/v1/batch", msg{"writeKey": key, "batch": []any{identifyMsg("writekey-batch")}}, noAuth())
		// Basic with the key as user name and a password Segment's libraries never send.
		e.mustPost("/v1/identify", identifyMsg("basic-password"), func(r *http.Request) { r.SetBasicAuth(key, "ignored") })
		for _, id := range []string{"basic", "bearer", "writekey-single", "writekey-batch", "basic-password"} {
			if u := e.mustUser(id); str(u.Email) != id+"@example.com" {
				t.Errorf("user %s: email %s", id, str(u.Email))
			}
		}
	})
}

// TestKeysOfAnotherAppWriteThere: a message goes to the app of the key that sent it.
func TestKeysOfAnotherAppWriteThere(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		other := e.NewApp(t, "Other")
		e.mustPost("/v1/identify", identifyMsg("u-other"), basicAuth(other.SegmentSecret))
		if u := e.userByUserID("u-other"); u != nil {
			t.Fatalf("the first app sees a user sent with the other app's key")
		}
		otherCtx := viewer.NewContext(t.Context(), viewer.Viewer{AppID: other.App.ID, Role: viewer.RoleAdmin})
		if n := e.client().User.Query().CountX(otherCtx); n != 1 {
			t.Fatalf("other app has %d users", n)
		}
	})
}

// TestRevokedKeyIsRefused: a key revoked in the database is refused once the
// authenticator's cache has expired (here at once).
func TestRevokedKeyIsRefused(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, apitest.Options{AuthCacheTTL: time.Nanosecond})
		e.mustPost("/v1/identify", identifyMsg("before"))
		n := e.client().ApiKey.Update().
			Where(apikey.KindEQ(apikey.KindSEGMENT)).
			SetRevokedAt(time.Now().UTC()).
			SaveX(e.ctx())
		if n != 1 {
			t.Fatalf("revoked %d keys", n)
		}
		for _, opt := range []reqOption{basicAuth(e.App.SegmentSecret), bearer(e.App.SegmentSecret)} {
			expectError(t, e.post("/v1/identify", identifyMsg("after"), noAuth(), opt), 403, "key_revoked")
		}
		expectError(t, e.post("/v1/batch", msg{"writeKey": e.App.SegmentSecret, "batch": []any{identifyMsg("after")}}, noAuth()), 403, "key_revoked")
		if e.userByUserID("after") != nil {
			t.Error("a revoked key stored a user")
		}
	})
}

// TestBatchWithInvalidMessages: the valid messages of a batch are stored, the others are
// listed with their index, messageId and code, and the answer is 200.
func TestBatchWithInvalidMessages(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		res := e.batch(
			msg{"type": "identify", "userId": "ok-1", "messageId": "m0", "traits": msg{"plan": "pro"}},
			msg{"type": "identify", "messageId": "m1"},                    // no ids
			msg{"type": "track", "userId": "ok-1", "messageId": "m2"},     // no event
			msg{"type": "page", "anonymousId": "ok-2", "messageId": "m3"}, // fine
			msg{"type": "group", "userId": "ok-1", "messageId": "m4"},     // no groupId
			msg{"type": "alias", "userId": "ok-1", "messageId": "m5"},     // no previousId
			msg{"type": "sing", "userId": "ok-1", "messageId": "m6"},      // unknown type
			msg{"type": "page", "userId": "ok-1", "timestamp": "noon"},    // bad time, no messageId
			msg{"type": "page", "userId": "ok-1", "messageId": strings.Repeat("9", 101)},
			msg{"type": "identify", "userId": "ok-1", "messageId": "m9", "traits": msg{"bio": strings.Repeat("b", ingest.MaxMessageBytes)}},
			msg{"type": "track", "userId": "ok-3", "event": "Signed Up", "messageId": "m10"},
		)
		if res.Accepted != 3 {
			t.Errorf("accepted = %d, want 3", res.Accepted)
		}
		want := map[int]string{1: "invalid_request", 2: "invalid_request", 4: "invalid_request", 5: "invalid_request",
			6: "invalid_request", 7: "invalid_request", 8: "invalid_request", 9: "too_large"}
		if len(res.Rejected) != len(want) {
			t.Errorf("rejected %d messages, want %d: %+v", len(res.Rejected), len(want), res.Rejected)
		}
		for _, r := range res.Rejected {
			if want[r.Index] != r.Code {
				t.Errorf("rejection of index %d: code %q, want %q", r.Index, r.Code, want[r.Index])
			}
			if r.Message == "" {
				t.Errorf("rejection of index %d has no message", r.Index)
			}
		}
		if u := e.mustUser("ok-1"); u.Attributes["plan"] != "pro" || u.PageViews != 0 {
			t.Errorf("ok-1: attributes %v, pageViews %d", u.Attributes, u.PageViews)
		}
		if u := e.mustAnonymous("ok-2"); u.PageViews != 1 {
			t.Errorf("ok-2: pageViews %d", u.PageViews)
		}
		if occ := e.occurrencesOf(e.mustUser("ok-3").ID); len(occ) != 1 || occ[0].Name != "Signed Up" {
			t.Errorf("ok-3 occurrences: %v", occ)
		}
		if n := e.userCount(); n != 3 {
			t.Errorf("%d users, want 3", n)
		}
	})
}

// TestBatchRejectionsCarryTheMessageID checks the rejected entries' JSON field names,
// which Segment-side tooling reads.
func TestBatchRejectionsCarryTheMessageID(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		res := e.post("/v1/batch", msg{"batch": []any{msg{"type": "track", "userId": "u", "messageId": "no-event"}}})
		if res.Status != 200 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		body := res.JSON(t)
		rejected := body["rejected"].([]any)
		r := rejected[0].(map[string]any)
		if r["index"].(fmt.Stringer).String() != "0" || r["messageId"] != "no-event" || r["code"] != "invalid_request" || r["message"] == "" {
			t.Errorf("rejection = %v", r)
		}
		if body["accepted"].(fmt.Stringer).String() != "0" {
			t.Errorf("accepted = %v", body["accepted"])
		}
		// An all-valid batch still lists an (empty) array.
		res = e.post("/v1/batch", msg{"batch": []any{identifyMsg("u")}})
		if !bytes.Contains(res.Body, []byte(`"rejected":[]`)) {
			t.Errorf("all-valid batch answer: %s", res.Body)
		}
	})
}

// TestGzipBody: Content-Encoding: gzip is accepted, and the 500 KB limit applies to
// the decompressed body.
func TestGzipBody(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		body := bodyOf(t, msg{"batch": []any{identifyMsg("zipped"), msg{"type": "page", "userId": "zipped"}}})
		res := e.postRaw("/v1/batch", gzipped(t, body), header("Content-Encoding", "gzip"))
		if res.Status != 200 {
			t.Fatalf("gzip batch: %d %s", res.Status, res.Body)
		}
		if u := e.mustUser("zipped"); u.PageViews != 1 || str(u.Email) != "zipped@example.com" {
			t.Errorf("zipped user: pageViews %d email %s", u.PageViews, str(u.Email))
		}
		bomb := bodyOf(t, msg{"type": "identify", "userId": "bomb", "traits": msg{"pad": strings.Repeat(" ", ingest.MaxRequestBytes)}})
		expectError(t, e.postRaw("/v1/identify", gzipped(t, bomb), header("Content-Encoding", "gzip")), 400, "too_large")
		if e.userByUserID("bomb") != nil {
			t.Error("the gzip bomb was stored")
		}
	})
}

// TestTrustedDomains: Origin, else Referer, else context.page.url (properties.url for
// page calls) must match a trusted pattern; messages without a domain pass; an app
// without trusted domains accepts every domain.
func TestTrustedDomains(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		// Before the first request, so the per-app settings cache starts with them.
		for _, d := range []string{"example.com", "*.shop.test"} {
			e.client().TrustedDomain.Create().SetDomain(d).SaveX(e.ctx())
		}
		type tc struct {
			name string
			path string
			body msg
			opts []reqOption
			ok   bool
		}
		withPage := func(m msg, url string) msg {
			m["context"] = msg{"page": msg{"url": url}}
			return m
		}
		cases := []tc{
			{"Origin trusted exactly", "/v1/identify", identifyMsg("o1"), []reqOption{header("Origin", "https://example.com")}, true},
			{"Origin with port and upper case", "/v1/identify", identifyMsg("o2"), []reqOption{header("Origin", "https://EXAMPLE.com:8443")}, true},
			{"Origin subdomain of an exact pattern", "/v1/identify", identifyMsg("o3"), []reqOption{header("Origin", "https://www.example.com")}, false},
			{"Origin untrusted", "/v1/identify", identifyMsg("o4"), []reqOption{header("Origin", "https://evil.test")}, false},
			{"Origin matching a wildcard", "/v1/identify", identifyMsg("o5"), []reqOption{header("Origin", "https://eu.shop.test")}, true},
			{"Origin matching a wildcard two levels down", "/v1/identify", identifyMsg("o6"), []reqOption{header("Origin", "https://a.b.shop.test")}, true},
			{"wildcard does not match its apex", "/v1/identify", identifyMsg("o7"), []reqOption{header("Origin", "https://shop.test")}, false},
			{"lookalike suffix", "/v1/identify", identifyMsg("o8"), []reqOption{header("Origin", "https://evilshop.test")}, false},
			{"Referer untrusted", "/v1/track", msg{"userId": "r1", "event": "e"}, []reqOption{header("Referer", "https://evil.test/page?x=1")}, false},
			{"Referer trusted", "/v1/track", msg{"userId": "r2", "event": "e"}, []reqOption{header("Referer", "https://example.com/page")}, true},
			{"Origin decides over Referer", "/v1/track", msg{"userId": "r3", "event": "e"}, []reqOption{header("Origin", "https://example.com"), header("Referer", "https://evil.test/")}, true},
			{"Origin untrusted, Referer trusted", "/v1/track", msg{"userId": "r4", "event": "e"}, []reqOption{header("Origin", "https://evil.test"), header("Referer", "https://example.com/")}, false},
			{"context.page.url untrusted", "/v1/identify", withPage(identifyMsg("c1"), "https://evil.test/signup"), nil, false},
			{"context.page.url trusted", "/v1/identify", withPage(identifyMsg("c2"), "https://x.shop.test/signup"), nil, true},
			{"Origin beats context.page.url", "/v1/identify", withPage(identifyMsg("c3"), "https://evil.test/"), []reqOption{header("Origin", "https://example.com")}, true},
			{"page properties.url untrusted", "/v1/page", msg{"userId": "p1", "properties": msg{"url": "https://evil.test/"}}, nil, false},
			{"page properties.url trusted", "/v1/page", msg{"userId": "p2", "properties": msg{"url": "https://example.com/"}}, nil, true},
			{"server-side call without any domain", "/v1/track", msg{"userId": "s1", "event": "e"}, nil, true},
			{"webhook from an untrusted page", "/v1/webhook", withPage(msg{"type": "page", "userId": "w1"}, "https://evil.test/"), nil, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := e.post(c.path, c.body, c.opts...)
				if c.ok {
					if res.Status != 200 {
						t.Fatalf("refused: %d %s", res.Status, res.Body)
					}
					return
				}
				expectError(t, res, 403, "domain_not_trusted")
			})
		}
		for _, id := range []string{"o3", "o4", "o7", "o8", "r1", "r4", "c1", "p1", "w1"} {
			if e.userByUserID(id) != nil {
				t.Errorf("user %s from an untrusted domain was stored", id)
			}
		}

		// A batch without Origin/Referer: each message is judged by its own page URL.
		res := e.batch(
			withPage(identifyMsg("b-good"), "https://example.com/"),
			withPage(msg{"type": "identify", "userId": "b-bad", "messageId": "bad-1"}, "https://evil.test/"),
			identifyMsg("b-server"),
		)
		if res.Accepted != 2 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 ||
			res.Rejected[0].Code != "domain_not_trusted" || res.Rejected[0].MessageID != "bad-1" {
			t.Errorf("batch answer: %+v", res)
		}
		if e.userByUserID("b-bad") != nil || e.userByUserID("b-good") == nil || e.userByUserID("b-server") == nil {
			t.Error("the batch stored the wrong messages")
		}
		// A batch from an untrusted Origin is refused as a whole.
		expectError(t, e.post("/v1/batch", msg{"batch": []any{identifyMsg("b-origin")}}, header("Origin", "https://evil.test")), 403, "domain_not_trusted")

		// An app without trusted domains accepts every domain.
		open := e.NewApp(t, "Open")
		res2 := e.post("/v1/identify", identifyMsg("anywhere"), basicAuth(open.SegmentSecret), header("Origin", "https://evil.test"))
		if res2.Status != 200 {
			t.Errorf("app without trusted domains refused: %d %s", res2.Status, res2.Body)
		}
	})
}

// TestTrustedDomainAddedLaterApplies: the per-app settings are cached for a few seconds
// only, so a domain added while the server runs is enforced soon after.
func TestTrustedDomainAddedLaterApplies(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.mustPost("/v1/identify", identifyMsg("early"), header("Origin", "https://evil.test"))
		e.client().TrustedDomain.Create().SetDomain("example.com").SaveX(e.ctx())
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; ; i++ {
			res := e.post("/v1/identify", identifyMsg(fmt.Sprintf("late-%d", i)), header("Origin", "https://evil.test"))
			if res.Status == 403 {
				expectError(t, res, 403, "domain_not_trusted")
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a trusted domain added 10 s ago is still not enforced (%d)", res.Status)
			}
			time.Sleep(200 * time.Millisecond)
		}
		e.mustPost("/v1/identify", identifyMsg("trusted"), header("Origin", "https://example.com"))
	})
}

func sign(secret, body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// TestWebhook: /v1/webhook takes one message of any type; with a webhook secret set,
// X-Signature must be the hex HMAC-SHA1 of the raw body.
func TestWebhook(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		// Without a secret: any type, no signature needed.
		for _, m := range []msg{
			{"type": "identify", "userId": "w", "traits": msg{"email": "w@example.com"}},
			{"type": "page", "userId": "w", "name": "Home"},
			{"type": "screen", "userId": "w", "name": "Main"},
			{"type": "track", "userId": "w", "event": "Clicked"},
			{"type": "group", "userId": "w", "groupId": "g-w"},
			{"type": "alias", "userId": "w", "previousId": "w-old"},
			{"type": "Track", "userId": "w", "event": "Cased"},
		} {
			if res := e.post("/v1/webhook", m); res.Status != 200 {
				t.Errorf("webhook %v: %d %s", m["type"], res.Status, res.Body)
			}
		}
		u := e.mustUser("w")
		if u.PageViews != 2 || str(u.Email) != "w@example.com" || len(e.occurrencesOf(u.ID)) != 2 || len(e.groupsOf(u.ID)) != 1 {
			t.Errorf("webhook user: pageViews %d email %s", u.PageViews, str(u.Email))
		}
		if e.userByUserID("w-old") == nil {
			t.Error("webhook alias did not make w-old find the user")
		}
	})
}

func TestWebhookSignature(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		secret := []byte("shared webhook secret")
		state, err := signature.NewState(secret)
		if err != nil {
			t.Fatal(err)
		}
		// Before the first request, so the settings cache starts with it.
		e.client().App.UpdateOneID(e.App.App.ID).SetWebhookHmacState(state).ExecX(viewer.SystemContext(t.Context()))

		body := bodyOf(t, msg{"type": "track", "userId": "signed", "event": "Paid", "messageId": "sig-1"})
		expectError(t, e.postRaw("/v1/webhook", body), 403, "bad_signature")
		expectError(t, e.postRaw("/v1/webhook", body, header("X-Signature", "not hex")), 403, "bad_signature")
		expectError(t, e.postRaw("/v1/webhook", body, header("X-Signature", sign([]byte("another secret"), body))), 403, "bad_signature")
		other := bodyOf(t, msg{"type": "track", "userId": "signed", "event": "Refunded"})
		expectError(t, e.postRaw("/v1/webhook", body, header("X-Signature", sign(secret, other))), 403, "bad_signature")
		// The signature is over the raw bytes: re-encoding the same JSON differently breaks it.
		spaced := append([]byte(" "), body...)
		expectError(t, e.postRaw("/v1/webhook", spaced, header("X-Signature", sign(secret, body))), 403, "bad_signature")
		if e.userByUserID("signed") != nil {
			t.Fatal("an unsigned webhook call was stored")
		}

		if res := e.postRaw("/v1/webhook", body, header("X-Signature", sign(secret, body))); res.Status != 200 {
			t.Fatalf("signed webhook: %d %s", res.Status, res.Body)
		}
		if res := e.postRaw("/v1/webhook", spaced, header("X-Signature", strings.ToUpper(sign(secret, spaced)))); res.Status != 200 {
			t.Fatalf("signed webhook, upper-case hex: %d %s", res.Status, res.Body)
		}
		if occ := e.occurrencesOf(e.mustUser("signed").ID); len(occ) != 1 || occ[0].Name != "Paid" {
			t.Errorf("signed webhook stored %d occurrences (the second is a duplicate)", len(occ))
		}
		// The secret protects the webhook only; the other endpoints authenticate by key.
		e.mustPost("/v1/track", msg{"userId": "signed", "event": "Direct"})
	})
}

// TestDatabaseUnavailable: when the database cannot be reached the answer is 503 with
// Retry-After and the code unavailable, whether that shows while authenticating or
// while writing.
func TestDatabaseUnavailable(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		// Warm the key and settings caches, then lose the database: the write fails.
		e.mustPost("/v1/identify", identifyMsg("warm"))
		closeDB(t, db)
		res := e.post("/v1/batch", msg{"batch": []any{identifyMsg("lost")}})
		expectError(t, res, 503, "unavailable")
		if res.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	})
}

// TestDatabaseUnavailableWhileAuthenticating: a key that cannot be looked up is a
// temporary problem too, not a refusal.
func TestDatabaseUnavailableWhileAuthenticating(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		closeDB(t, db)
		for _, path := range []string{"/v1/identify", "/v1/batch", "/v1/webhook"} {
			res := e.post(path, msg{"type": "identify", "userId": "lost", "batch": []any{}})
			expectError(t, res, 503, "unavailable")
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("%s: 503 without Retry-After", path)
			}
		}
	})
}

func closeDB(t *testing.T, db *storage.DB) {
	t.Helper()
	if err := db.SQL.Close(); err != nil {
		t.Fatal(err)
	}
}

// injectFailure makes every insert into event_occurrences fail, so that a request
// fails after most of its writes; the returned func removes the fault.
func injectFailure(t *testing.T, db *storage.DB) (heal func()) {
	t.Helper()
	var create, drop []string
	if db.Dialect == "postgres" {
		create = []string{
			`CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER injected_failure BEFORE INSERT ON event_occurrences FOR EACH ROW EXECUTE FUNCTION injected_failure()`,
		}
		drop = []string{`DROP TRIGGER injected_failure ON event_occurrences`, `DROP FUNCTION injected_failure()`}
	} else {
		create = []string{`CREATE TRIGGER injected_failure BEFORE INSERT ON event_occurrences BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
		drop = []string{`DROP TRIGGER injected_failure`}
	}
	for _, q := range create {
		if _, err := db.SQL.Exec(q); err != nil {
			t.Fatalf("inject failure: %v", err)
		}
	}
	return func() {
		for _, q := range drop {
			if _, err := db.SQL.Exec(q); err != nil {
				t.Fatalf("heal failure: %v", err)
			}
		}
	}
}

// TestFailedWriteLeavesNothingHalfWritten: a request that fails at its last write is
// answered 503 with Retry-After, none of its other writes remain, and the retry of the
// same request stores everything exactly once.
func TestFailedWriteLeavesNothingHalfWritten(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.mustPost("/v1/identify", identifyMsg("existing")) // warm caches, one user
		body := msg{"batch": []any{
			msg{"type": "identify", "userId": "new", "anonymousId": "anon", "messageId": "f1", "traits": msg{"plan": "pro", "name": "Ada Lovelace"}},
			msg{"type": "page", "userId": "new", "messageId": "f2", "properties": msg{"url": "https://example.com/"}},
			msg{"type": "group", "userId": "new", "groupId": "g1", "messageId": "f3", "traits": msg{"industry": "tools"}},
			msg{"type": "alias", "previousId": "existing", "userId": "new", "messageId": "f4"},
			msg{"type": "identify", "userId": "existing", "messageId": "f5", "traits": msg{"email": "changed@example.com"}},
			msg{"type": "track", "userId": "new", "event": "Failed Once", "messageId": "f6", "properties": msg{"step": 1}},
		}}
		heal := injectFailure(t, db)
		res := e.post("/v1/batch", body)
		expectError(t, res, 503, "unavailable")
		if res.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		ctx := e.ctx()
		c := e.client()
		counts := map[string]int{
			"users":                 c.User.Query().CountX(ctx),
			"identities":            c.Identity.Query().CountX(ctx),
			"companies":             c.Company.Query().CountX(ctx),
			"memberships":           c.Membership.Query().CountX(ctx),
			"page views":            c.PageView.Query().CountX(ctx),
			"event definitions":     c.EventDefinition.Query().CountX(ctx),
			"attribute definitions": c.AttributeDefinition.Query().CountX(ctx),
			"processed messages":    c.ProcessedMessage.Query().CountX(ctx),
		}
		want := map[string]int{"users": 1, "identities": 1, "processed messages": 1}
		for k, n := range counts {
			if n != want[k] {
				t.Errorf("after the failed request: %d %s, want %d", n, k, want[k])
			}
		}
		if u := e.mustUser("existing"); str(u.Email) != "existing@example.com" {
			t.Errorf("the failed request changed a user's email to %s", str(u.Email))
		}

		heal()
		again := e.post("/v1/batch", body)
		if again.Status != 200 {
			t.Fatalf("retry: %d %s", again.Status, again.Body)
		}
		u := e.mustUser("new")
		if u.ID != e.mustUser("existing").ID || u.ID != e.mustAnonymous("anon").ID {
			t.Error("the retry did not resolve everyone to one profile")
		}
		if u.PageViews != 1 || str(u.FirstName) != "Ada" || u.Attributes["plan"] != "pro" || str(u.Email) != "changed@example.com" {
			t.Errorf("after the retry: pageViews %d first name %s attributes %v email %s", u.PageViews, str(u.FirstName), u.Attributes, str(u.Email))
		}
		if n := e.occurrenceCount("Failed Once"); n != 1 {
			t.Errorf("event occurrences = %d, want 1", n)
		}
		if n := c.EventDefinition.Query().Where(eventdefinition.Name("Failed Once")).CountX(ctx); n != 1 {
			t.Errorf("%d event definitions", n)
		}
		if g := e.groupsOf(u.ID); len(g) != 1 {
			t.Errorf("groups %v", g)
		}
		// And once more: the request is a duplicate now.
		e.post("/v1/batch", body)
		if u := e.mustUser("new"); u.PageViews != 1 || len(e.occurrencesOf(u.ID)) != 1 {
			t.Errorf("the third send counted again: pageViews %d", u.PageViews)
		}
	})
}
