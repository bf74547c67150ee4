package reliability

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// shutdownRequest is one /v1/batch request of the shutdown test and what came of it.
type shutdownRequest struct {
	ids      []string
	kinds    []string
	status   int // 0: no answer (connection error)
	err      error
	accepted int
	success  bool
	sent     time.Time
	answered time.Time
}

// TestGracefulShutdownUnderLoad: plain HTTP senders post batches with unique message
// ids when the server's context is cancelled (what SIGTERM does). Serve finishes the
// requests in flight and returns. The database, reopened, holds every message of every
// request that got a 2xx; every other request got a retryable status or a connection
// error, so its sender knows to retry it.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) { shutdownUnderLoad(t, dialect) })
	}
}

func shutdownUnderLoad(t *testing.T, dialect string) {
	const senders = 8
	ctx := context.Background()
	dbURL := dbtest.URL(t, dialect)
	db, err := storage.Open(ctx, dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	serverDB := db
	t.Cleanup(func() { serverDB.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app, err := apps.Create(ctx, db.Client, "Shutdown", apps.Secrets{})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, db)
	began := time.Now()

	// Batch sizes cycle through group commit (≤ 20) and transactions of their own.
	sizes := []int{1, 3, 8, 20, 40, 120}
	var answered2xx atomic.Int64
	stop := make(chan struct{})
	results := make([][]shutdownRequest, senders)
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				r := shutdownRequest{}
				var batch []map[string]any
				for j := 0; j < sizes[(s+seq)%len(sizes)]; j++ {
					id := fmt.Sprintf("sd-%d-%05d-%03d", s, seq, j)
					m := map[string]any{"messageId": id, "userId": fmt.Sprintf("sd-user-%d-%d", s, j%7)}
					if j%2 == 0 {
						m["type"], m["properties"] = "page", map[string]any{"url": "https://example.com/" + id}
					} else {
						m["type"], m["event"], m["properties"] = "track", "Shutdown Tested", map[string]any{"j": j}
					}
					batch = append(batch, m)
					r.ids = append(r.ids, id)
					r.kinds = append(r.kinds, m["type"].(string))
				}
				body, _ := json.Marshal(map[string]any{"batch": batch})
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/batch", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.SetBasicAuth(app.SegmentSecret, "")
				r.sent = time.Now()
				res, err := client.Do(req)
				r.answered = time.Now()
				if err != nil {
					r.err = err
				} else {
					r.status = res.StatusCode
					var out struct {
						Success  bool `json:"success"`
						Accepted int  `json:"accepted"`
					}
					if derr := json.NewDecoder(res.Body).Decode(&out); derr != nil && r.status/100 == 2 {
						r.err = fmt.Errorf("2xx with an unreadable body: %w", derr)
					}
					res.Body.Close()
					r.success, r.accepted = out.Success, out.Accepted
					if r.status/100 == 2 {
						answered2xx.Add(1)
					}
				}
				results[s] = append(results[s], r)
				if r.status/100 != 2 {
					time.Sleep(5 * time.Millisecond) // the server is going away: do not spin
				}
			}
		}()
	}

	// Shut down under load: once the senders have had a good number of answers.
	deadline := time.Now().Add(time.Minute)
	for answered2xx.Load() < 40 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests answered before the shutdown", answered2xx.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Running(t)
	now := time.Now()
	t.Logf("load for %s before the shutdown", now.Sub(began).Round(time.Millisecond))
	if err := srv.Stop(30 * time.Second); err != nil {
		t.Errorf("Serve after the shutdown: %v", err)
	}
	shutdownTook := time.Since(now)
	time.Sleep(200 * time.Millisecond) // the senders see the closed listener
	close(stop)
	wg.Wait()
	// The process is gone: close its pool, then look at the database afresh.
	if err := serverDB.Close(); err != nil {
		t.Errorf("close the server's database: %v", err)
	}

	reopened, err := storage.Open(ctx, dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	stored := idCounts(t, reopened.SQL, `SELECT message_id, count(*) FROM processed_messages WHERE app_id = ? GROUP BY message_id`, dialect, app.App.ID)
	pages := idCounts(t, reopened.SQL, `SELECT message_id, count(*) FROM page_views WHERE app_id = ? GROUP BY message_id`, dialect, app.App.ID)
	occurrences := idCounts(t, reopened.SQL, `SELECT message_id, count(*) FROM event_occurrences WHERE app_id = ? GROUP BY message_id`, dialect, app.App.ID)

	var requests, ok, inFlight, unavailable, connErrs, droppedBefore, refusedAfter, committedUnacked, messages, okMessages int
	sent := map[string]bool{}
	for _, rs := range results {
		for _, r := range rs {
			requests++
			messages += len(r.ids)
			for _, id := range r.ids {
				sent[id] = true
			}
			switch {
			case r.status/100 == 2:
				ok++
				okMessages += len(r.ids)
				if r.sent.Before(now) && r.answered.After(now) {
					inFlight++
				}
				if r.err != nil || !r.success || r.accepted != len(r.ids) {
					t.Errorf("2xx answer: success %v, accepted %d of %d, %v", r.success, r.accepted, len(r.ids), r.err)
				}
				for i, id := range r.ids {
					rows := pages
					if r.kinds[i] == "track" {
						rows = occurrences
					}
					if stored[id] != 1 || rows[id] != 1 {
						t.Errorf("message %s of a request answered %d is missing after the shutdown (message id %d×, %s rows %d)",
							id, r.status, stored[id], r.kinds[i], rows[id])
					}
				}
			case r.status == http.StatusServiceUnavailable || r.status == http.StatusTooManyRequests:
				unavailable++
			case r.status == 0 && isConnError(r.err) && r.sent.After(now.Add(shutdownTook)):
				refusedAfter++ // sent after Serve returned: the listener is closed
			case r.status == 0 && isConnError(r.err):
				connErrs++ // sent during the shutdown (the listener closes first), or on a connection it closed
				if r.sent.Before(now) {
					droppedBefore++
				}
			default:
				t.Errorf("a request got %d %v: neither a 2xx nor retryable (503, 429, connection error)", r.status, r.err)
			}
			if r.status/100 != 2 {
				for _, id := range r.ids {
					if stored[id] > 0 {
						committedUnacked++ // allowed: the retry is a duplicate and changes nothing
					}
				}
			}
		}
	}
	for id := range stored {
		if !sent[id] {
			t.Errorf("stored message %s was never sent", id)
		}
	}
	for name, rows := range map[string]map[string]int{"page views": pages, "occurrences": occurrences} {
		for id, n := range rows {
			if n != 1 || stored[id] != 1 {
				t.Errorf("%s: message %s has %d rows (message id stored %d×)", name, id, n, stored[id])
			}
		}
	}
	if inFlight == 0 {
		t.Errorf("no request was in flight when the shutdown began: the test did not test it")
	}
	t.Logf("%s: %d requests (%d messages); %d answered 2xx (%d messages, all stored), %d of them in flight when the shutdown began; "+
		"%d retryable answers, %d connection errors (%d of requests sent before the cancel; %d more refused after Serve returned); %d messages committed without a 2xx (a retry dedups them); Serve returned %s after the cancel; server answers %v, warnings and errors:%s",
		dialect, requests, messages, ok, okMessages, inFlight, unavailable, connErrs, droppedBefore, refusedAfter, committedUnacked,
		shutdownTook.Round(time.Millisecond), srv.Logs.Statuses(), srv.Logs.Summary())
}

// idCounts runs a query of (message_id, count) rows with one app id argument.
func idCounts(t *testing.T, db *sql.DB, query, dialect string, appID int) map[string]int {
	t.Helper()
	if dialect == "postgres" {
		query = strings.Replace(query, "?", "$1", 1)
	}
	rows, err := db.Query(query, appID)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
