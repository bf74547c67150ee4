package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/server"
	"github.com/peoplegraph/peoplegraph/storage"
)

// Ingestion is limited per key: over the limit the answer is 429 with Retry-After (which
// Segment's clients honour), and another key is not affected.
func TestIngestionRateLimitPerKey(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		env := apitest.New(t, db, apitest.Options{Config: func(c *server.Config) { c.IngestRateLimit = 3 }})
		other := env.NewApp(t, "Other")
		post := func(key string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/v1/page", strings.NewReader(`{"anonymousId":"a1"}`))
			req.SetBasicAuth(key, "")
			return env.Do(req)
		}
		limited := 0
		for range 10 {
			rec := post(env.App.SegmentSecret)
			if rec.Code == http.StatusTooManyRequests {
				limited++
				var body struct {
					Success bool
					Code    string
				}
				json.Unmarshal(rec.Body.Bytes(), &body)
				if body.Success || body.Code != "rate_limited" || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("429 answer: %s %v", rec.Body.String(), rec.Header())
				}
			} else if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
		}
		// 10 requests within a second against a limit of 3 (a window boundary may let a
		// few more through, never all).
		if limited == 0 {
			t.Fatal("no request was limited")
		}
		if rec := post(other.SegmentSecret); rec.Code != http.StatusOK {
			t.Fatalf("another key was limited: %d", rec.Code)
		}
	})
}
