package ingest_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"

	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// deliveries collects the client's callbacks, so a test can wait until every message
// was delivered (or given up) before closing the client: a client closed while it
// waits to retry drops the batch.
type deliveries struct {
	results chan error
}

func newDeliveries() *deliveries { return &deliveries{results: make(chan error, 10000)} }

func (d *deliveries) Success(analytics.Message)              { d.results <- nil }
func (d *deliveries) Failure(_ analytics.Message, err error) { d.results <- err }

func (d *deliveries) wait(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for i := 0; i < n; i++ {
		select {
		case err := <-d.results:
			if err != nil {
				t.Fatalf("the client gave up on a message: %v", err)
			}
		case <-timeout:
			t.Fatalf("only %d of %d messages were delivered", i, n)
		}
	}
}

// segmentClient is analytics-go pointed at a real HTTP server running the router.
func segmentClient(t *testing.T, e *env, batchSize int, cb analytics.Callback) analytics.Client {
	t.Helper()
	srv := httptest.NewServer(e.Handler)
	t.Cleanup(srv.Close)
	c, err := analytics.NewWithConfig(e.App.SegmentSecret, analytics.Config{
		Endpoint:   srv.URL,
		BatchSize:  batchSize,
		Interval:   time.Hour, // batches leave when full, or at Close
		Callback:   cb,
		RetryAfter: func(int) time.Duration { return 5 * time.Millisecond },
		Logger:     analytics.StdLogger(log.New(io.Discard, "", 0)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func enqueue(t *testing.T, c analytics.Client, msgs ...analytics.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := c.Enqueue(m); err != nil {
			t.Fatalf("enqueue %T: %v", m, err)
		}
	}
}

// TestAnalyticsGoClient: Segment's Go library, unchanged, stores what it sends.
func TestAnalyticsGoClient(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		d := newDeliveries()
		c := segmentClient(t, e, 2, d)
		at := time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)
		msgs := []analytics.Message{
			analytics.Identify{AnonymousId: "go-anon", Timestamp: at,
				Traits:  analytics.NewTraits().SetEmail("gopher@example.com").SetName("Go Pher").Set("plan", "pro"),
				Context: &analytics.Context{IP: net.ParseIP("203.0.113.9"), Locale: "en-US", UserAgent: chromeUA}},
			analytics.Page{UserId: "gopher", Name: "Docs", Timestamp: at.Add(time.Minute),
				Properties: analytics.NewProperties().SetURL("https://example.com/docs").SetTitle("Docs").SetPath("/docs").Set("section", "api")},
			analytics.Screen{UserId: "gopher", Name: "Home", Timestamp: at.Add(2 * time.Minute)},
			analytics.Track{UserId: "gopher", Event: "Compiled", Timestamp: at.Add(3 * time.Minute),
				Properties: analytics.NewProperties().SetRevenue(9.99).Set("ok", true)},
			analytics.Group{UserId: "gopher", GroupId: "go-team", Timestamp: at,
				Traits: analytics.NewTraits().SetName("Go Team").Set("employees", 42).Set("industry", "software")},
			analytics.Alias{PreviousId: "go-anon", UserId: "gopher", Timestamp: at.Add(4 * time.Minute)},
		}
		enqueue(t, c, msgs...)
		if err := c.Close(); err != nil { // Close flushes
			t.Fatal(err)
		}
		d.wait(t, len(msgs))

		u := e.mustUser("gopher")
		if e.mustAnonymous("go-anon").ID != u.ID || e.userCount() != 1 {
			t.Fatalf("%d users; the anonymous identify was not merged by the alias", e.userCount())
		}
		if str(u.Email) != "gopher@example.com" || str(u.FirstName) != "Go" || str(u.LastName) != "Pher" ||
			str(u.IPAddress) != "203.0.113.9" || str(u.Language) != "en-US" || str(u.BrowserFamily) != "Chrome" {
			t.Errorf("profile: email %s name %s %s ip %s language %s browser %s", str(u.Email), str(u.FirstName),
				str(u.LastName), str(u.IPAddress), str(u.Language), str(u.BrowserFamily))
		}
		if u.Attributes["plan"] != "pro" {
			t.Errorf("attributes %v", u.Attributes)
		}
		if u.PageViews != 2 {
			t.Errorf("pageViews %d", u.PageViews)
		}
		sameInstant(t, "lastSeen", u.LastSeen, at.Add(2*time.Minute))
		sameInstant(t, "firstSeen", u.FirstSeen, at)
		pvs := e.pageViewsOf(u.ID)
		if len(pvs) != 2 || str(pvs[0].URL) != "https://example.com/docs" || str(pvs[0].Title) != "Docs" ||
			str(pvs[0].Name) != "Docs" || pvs[0].Properties["section"] != "api" || str(pvs[1].Name) != "Home" || pvs[1].Kind != "SCREEN" {
			t.Errorf("page views: %v", pvs)
		}
		occ := e.occurrencesOf(u.ID)
		if len(occ) != 1 || occ[0].Name != "Compiled" || !reflect.DeepEqual(occ[0].Properties, map[string]any{"revenue": "9.99", "ok": "true"}) {
			t.Errorf("occurrences: %v", occ)
		}
		co := e.company("go-team")
		if str(co.Name) != "Go Team" || co.Employees == nil || *co.Employees != 42 || co.Attributes["industry"] != "software" {
			t.Errorf("company %+v", co)
		}
		if g := e.groupsOf(u.ID); !reflect.DeepEqual(g, []string{"go-team"}) {
			t.Errorf("groups %v", g)
		}
	})
}

// retryMessages are n calls alternating page and track for one user.
func retryMessages(n int) []analytics.Message {
	out := make([]analytics.Message, 0, n)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			out = append(out, analytics.Page{UserId: "retry-user", Name: fmt.Sprintf("page %d", i)})
		} else {
			out = append(out, analytics.Track{UserId: "retry-user", Event: "Retried", Properties: analytics.NewProperties().Set("i", i)})
		}
	}
	return out
}

// checkRetriedCounts: whatever the retries, every message counted exactly once.
func checkRetriedCounts(t *testing.T, e *env, n int) {
	t.Helper()
	u := e.mustUser("retry-user")
	if u.PageViews != n/2 || len(e.pageViewsOf(u.ID)) != n/2 {
		t.Errorf("pageViews %d, %d rows; want %d", u.PageViews, len(e.pageViewsOf(u.ID)), n/2)
	}
	if got := e.occurrenceCount("Retried"); got != n/2 {
		t.Errorf("%d occurrences, want %d", got, n/2)
	}
	if got := e.count(e.client().ProcessedMessage.Query()); got != n {
		t.Errorf("%d message ids remembered, want %d", got, n)
	}
	if e.userCount() != 1 {
		t.Errorf("%d users", e.userCount())
	}
}

// failFirst wraps the router so that the first n requests to /v1/batch fail in the way
// fail says; the rest reach the router untouched. It counts every batch request.
func failFirst(n int64, requests *atomic.Int64, fail func(w http.ResponseWriter, r *http.Request, next http.Handler)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v1/batch" {
				next.ServeHTTP(w, r)
				return
			}
			if requests.Add(1) <= n {
				fail(w, r, next)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestClientRetriesAfter503: the first requests are refused before reaching the router;
// the library retries and every message is stored once.
func TestClientRetriesAfter503(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		const failures, messages, batchSize = 3, 20, 5
		var requests atomic.Int64
		e := newEnv(t, db, apitest.Options{Wrap: failFirst(failures, &requests, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"success":false,"code":"unavailable","message":"injected"}`, http.StatusServiceUnavailable)
		})})
		d := newDeliveries()
		c := segmentClient(t, e, batchSize, d)
		enqueue(t, c, retryMessages(messages)...)
		d.wait(t, messages)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if got := requests.Load(); got != messages/batchSize+failures {
			t.Errorf("%d requests, want %d batches + %d retries", got, messages/batchSize, failures)
		}
		checkRetriedCounts(t, e, messages)
	})
}

// TestClientRetriesAfterLostResponse: the first requests are committed, but their
// answer is lost (a 503 written after the real handler ran, or a dropped connection).
// The library sends the same batch again; deduplication keeps every count exact.
func TestClientRetriesAfterLostResponse(t *testing.T) {
	lose := map[string]func(w http.ResponseWriter, r *http.Request, next http.Handler){
		"503 after commit": func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				panic(fmt.Sprintf("the real handler answered %d: %s", rec.Code, rec.Body))
			}
			http.Error(w, "lost", http.StatusServiceUnavailable)
		},
		"connection dropped after commit": func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				panic(fmt.Sprintf("the real handler answered %d: %s", rec.Code, rec.Body))
			}
			panic(http.ErrAbortHandler) // the server closes the connection without answering
		},
	}
	for name, fail := range lose {
		t.Run(name, func(t *testing.T) {
			dbtest.Run(t, func(t *testing.T, db *storage.DB) {
				const failures, messages, batchSize = 4, 40, 10
				var requests atomic.Int64
				e := newEnv(t, db, apitest.Options{Wrap: failFirst(failures, &requests, fail)})
				d := newDeliveries()
				c := segmentClient(t, e, batchSize, d)
				enqueue(t, c, retryMessages(messages)...)
				d.wait(t, messages)
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				if got := requests.Load(); got != messages/batchSize+failures {
					t.Errorf("%d requests, want %d batches + %d retries", got, messages/batchSize, failures)
				}
				checkRetriedCounts(t, e, messages)
			})
		})
	}
}

// TestClientManyBatchesConcurrently: the library sends its batches concurrently; a few
// hundred messages for a handful of users end up counted exactly.
func TestClientManyBatchesConcurrently(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		const users, perUser = 5, 60
		e := newEnv(t, db)
		d := newDeliveries()
		c := segmentClient(t, e, 25, d)
		var wg sync.WaitGroup
		for u := 0; u < users; u++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perUser; i++ {
					_ = c.Enqueue(analytics.Page{UserId: fmt.Sprintf("many-%d", u), AnonymousId: fmt.Sprintf("dev-%d", u)})
				}
			}()
		}
		wg.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		d.wait(t, users*perUser)
		for u := 0; u < users; u++ {
			if n := e.mustUser(fmt.Sprintf("many-%d", u)).PageViews; n != perUser {
				t.Errorf("many-%d: pageViews %d, want %d", u, n, perUser)
			}
		}
		if e.userCount() != users {
			t.Errorf("%d users, want %d", e.userCount(), users)
		}
	})
}
