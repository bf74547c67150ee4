package ingest_test

import (
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// TestTimestampsOutsideYears1To9999AreInvalid: such times cannot be stored so that both
// databases read them back (SQLite) or at all (PostgreSQL refuses year 0). They are a
// permanent problem, so 400, never a 503 that the client would retry forever.
func TestTimestampsOutsideYears1To9999AreInvalid(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for _, ts := range []string{
			"0000-01-01T00:00:00Z",
			"0001-01-01T00:30:00+01:00", // year 0 in UTC
			"9999-12-31T23:00:00-05:00", // year 10000 in UTC
		} {
			for _, field := range []string{"timestamp", "originalTimestamp", "sentAt"} {
				expectError(t, e.post("/v1/page", msg{"userId": "far", field: ts}), 400, "invalid_request")
			}
			res := e.batchBody(msg{"batch": []any{msg{"type": "page", "userId": "far", "timestamp": ts}, msg{"type": "page", "userId": "near"}}})
			if res.Accepted != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 0 {
				t.Errorf("batch with timestamp %s: %+v", ts, res)
			}
		}
		if e.userByUserID("far") != nil {
			t.Error("a message with an out-of-range time was stored")
		}

		// The extremes that are fine are stored and read back.
		first := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		last := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
		e.call(msg{"type": "page", "userId": "extremes", "timestamp": "0001-01-01T00:00:00Z"})
		e.call(msg{"type": "page", "userId": "extremes", "timestamp": "9999-12-31T23:59:59.999999999Z"})
		u := e.mustUser("extremes")
		sameInstant(t, "firstSeen", u.FirstSeen, first)
		sameInstant(t, "lastSeen", u.LastSeen, last)
		if pvs := e.pageViewsOf(u.ID); len(pvs) != 2 {
			t.Errorf("%d page views", len(pvs))
		}
	})
}

// TestNumbersNoFloatHolds: 1e400 is valid JSON, but a JSON column holding it cannot be
// read back into Go (and PostgreSQL refuses 1e1000000). Such numbers are kept as their
// text, and every row stays readable.
func TestNumbersNoFloatHolds(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.defineAttribute(attributedefinition.ScopeUSER, "blob", attributedefinition.TypeJSON)
		e.defineAttribute(attributedefinition.ScopeUSER, "count", attributedefinition.TypeINTEGER)
		e.defineAttribute(attributedefinition.ScopeCOMPANY, "blob", attributedefinition.TypeJSON)
		body := `{"batch":[
			{"type":"identify","userId":"huge","traits":{"blob":{"n":1e400,"list":[1,-1e999],"ok":2.5},"count":1e1000000,"text":1e400}},
			{"type":"page","userId":"huge","properties":{"n":1e400,"deep":{"m":[1e400]},"fine":1e300}},
			{"type":"group","userId":"huge","groupId":"huge-co","traits":{"blob":1e400,"employees":1e400}}
		]}`
		res := e.post("/v1/batch", body)
		if res.Status != 200 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		u := e.mustUser("huge")
		blob, _ := u.Attributes["blob"].(map[string]any)
		if blob["n"] != "1e400" || blob["ok"] != 2.5 {
			t.Errorf("blob %#v", u.Attributes["blob"])
		}
		if list, _ := blob["list"].([]any); len(list) != 2 || list[0] != 1.0 || list[1] != "-1e999" {
			t.Errorf("blob list %#v", blob["list"])
		}
		if u.Attributes["text"] != "1e400" {
			t.Errorf("text %#v", u.Attributes["text"])
		}
		if _, ok := u.Attributes["count"]; ok {
			t.Errorf("count %#v: 1e1000000 is no int64", u.Attributes["count"])
		}
		d := e.definition(attributedefinition.ScopeUSER, "count")
		if d.RejectedCount != 1 || len(d.LastRejectedValue) == 0 {
			t.Errorf("count rejections: %d, last %s", d.RejectedCount, d.LastRejectedValue)
		}
		pv := e.pageViewsOf(u.ID)[0]
		if pv.Properties["n"] != "1e400" || pv.Properties["fine"] != 1e300 {
			t.Errorf("page view properties %#v", pv.Properties)
		}
		c := e.company("huge-co")
		if c.Attributes["blob"] != "1e400" || c.Employees != nil {
			t.Errorf("company attributes %#v, employees %v", c.Attributes, c.Employees)
		}
	})
}

// TestPageViewTextIsCleaned: NUL in a page's text properties would make PostgreSQL
// refuse the row (and the request would be retried forever).
func TestPageViewTextIsCleaned(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.call(msg{"type": "page", "userId": "nul", "properties": msg{"title": "a\x00b", "url": "https://example.com/\x00", "path": "/p"}})
		pv := e.pageViewsOf(e.mustUser("nul").ID)[0]
		if str(pv.Title) != "a\uFFFDb" || str(pv.URL) != "https://example.com/\uFFFD" || str(pv.Path) != "/p" {
			t.Errorf("title %q url %q path %q", str(pv.Title), str(pv.URL), str(pv.Path))
		}
	})
}
