package reliability

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/internal/faultproxy"
	"github.com/peoplegraph/peoplegraph/storage"
)

const (
	faultUsers    = 200
	faultMessages = 3000
	faultSenders  = 8
	// outage is how long the database is cut in the middle of the run; flaps are the
	// short cuts that follow it.
	outage    = 2500 * time.Millisecond
	flap      = 300 * time.Millisecond
	flapCount = 2
	// enqueuePace spreads each sender's messages over several seconds, so that traffic
	// flows before, during and after the faults.
	enqueuePace = 20 * time.Millisecond
	replaySlice = 300
)

// requirePostgres skips a PostgreSQL-only test when no test database is configured,
// unless PEOPLEGRAPH_TEST_REQUIRE_POSTGRES says it must run (then it fails).
func requirePostgres(t *testing.T) {
	t.Helper()
	if !slices.Contains(dbtest.Dialects(t), "postgres") { // Dialects fails when it is required
		t.Skipf("%s is not set: this fault-injection test needs PostgreSQL (CI sets it; "+
			"with %s=1 a missing database fails instead of skipping)", dbtest.EnvURL, dbtest.EnvRequirePostgres)
	}
}

// proxied is the real server on a fresh PostgreSQL schema reached through a fault proxy.
type proxied struct {
	dbURL string // the database itself, for checks that must not go through the proxy
	proxy *faultproxy.Proxy
	db    *storage.DB // the server's pool, through the proxy
	app   *apps.Created
	srv   *liveServer
}

func proxiedServer(t *testing.T) *proxied {
	t.Helper()
	ctx := context.Background()
	dbURL := dbtest.URL(t, "postgres")
	proxy, through, err := faultproxy.ForURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	db, err := storage.Open(ctx, through, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	app, err := apps.Create(ctx, db.Client, "Reliability", apps.Secrets{})
	if err != nil {
		t.Fatal(err)
	}
	return &proxied{dbURL: dbURL, proxy: proxy, db: db, app: app, srv: startServer(t, db)}
}

// corpus is the known set of messages: fixed ids, users, types and times, and what the
// database must hold once every one of them was delivered, whatever the retries.
type corpus struct {
	msgs  []analytics.Message
	ids   []string
	kinds []string
	users []int
	times []time.Time
	index map[string]int
}

func relUser(u int) string  { return fmt.Sprintf("rel-user-%03d", u) }
func relAnon(u int) string  { return fmt.Sprintf("rel-anon-%03d", u) }
func relEmail(u int) string { return fmt.Sprintf("rel-%03d@example.com", u) }

func buildCorpus() *corpus {
	rng := rand.New(rand.NewPCG(2024, 7))
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	events := []string{"Signed Up", "Order Completed", "Report Exported", "Invite Sent"}
	c := &corpus{index: map[string]int{}}
	for i := 0; i < faultMessages; i++ {
		u, kind := rng.IntN(faultUsers), []string{"identify", "page", "track"}[rng.IntN(3)]
		if i < faultUsers { // every user is identified once at least
			u, kind = i, "identify"
		}
		id := fmt.Sprintf("rel-%05d", i)
		at := base.Add(time.Duration(i) * 37 * time.Second)
		var m analytics.Message
		switch kind {
		case "identify":
			m = analytics.Identify{Type: kind, MessageId: id, UserId: relUser(u), AnonymousId: relAnon(u), Timestamp: at,
				Traits: analytics.NewTraits().SetEmail(relEmail(u)).SetName(fmt.Sprintf("Rel User%d", u)).Set("plan", []string{"free", "pro"}[u%2])}
		case "page":
			m = analytics.Page{Type: kind, MessageId: id, UserId: relUser(u), AnonymousId: relAnon(u), Name: fmt.Sprintf("Page %d", i%17), Timestamp: at,
				Properties: analytics.NewProperties().SetURL(fmt.Sprintf("https://shop.example.com/p/%d", i)).SetTitle("Product").SetPath(fmt.Sprintf("/p/%d", i))}
		case "track":
			m = analytics.Track{Type: kind, MessageId: id, UserId: relUser(u), AnonymousId: relAnon(u), Event: events[i%len(events)], Timestamp: at,
				Properties: analytics.NewProperties().Set("seq", i).Set("amount", float64(i%50)+0.5)}
		}
		c.msgs = append(c.msgs, m)
		c.ids = append(c.ids, id)
		c.kinds = append(c.kinds, kind)
		c.users = append(c.users, u)
		c.times = append(c.times, at)
		c.index[id] = i
	}
	return c
}

// wireBody is message i as one /v1/batch request body, for direct probes.
func (c *corpus) wireBody(i int) []byte {
	b, err := json.Marshal(map[string]any{"batch": []any{c.msgs[i]}})
	if err != nil {
		panic(err)
	}
	return b
}

func messageID(m analytics.Message) string {
	switch m := m.(type) {
	case analytics.Identify:
		return m.MessageId
	case analytics.Page:
		return m.MessageId
	case analytics.Track:
		return m.MessageId
	}
	return fmt.Sprintf("unexpected %T", m)
}

// tally is a client's analytics.Callback: every enqueued message must be reported once,
// as a success; a failure means the library gave up after its retries — a lost message.
type tally struct {
	mu        sync.Mutex
	enqueued  int
	succeeded int
	failed    []string
	acked     map[string]int
}

func newTally() *tally { return &tally{acked: map[string]int{}} }

func (c *tally) Success(m analytics.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.succeeded++
	c.acked[messageID(m)]++
}

func (c *tally) Failure(m analytics.Message, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = append(c.failed, fmt.Sprintf("%s: %v", messageID(m), err))
}

func (c *tally) settled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.succeeded+len(c.failed) >= c.enqueued
}

// wire wraps the clients' HTTP transport and counts what the server answered them.
type wire struct {
	base http.RoundTripper

	mu           sync.Mutex
	requests     int
	statuses     map[int]int
	noRetryAfter int
	errs         int
	firstErr     string
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := w.base.RoundTrip(r)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests++
	if err != nil {
		w.errs++
		if w.firstErr == "" {
			w.firstErr = err.Error()
		}
		return res, err
	}
	w.statuses[res.StatusCode]++
	if res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
		w.noRetryAfter++
	}
	return res, nil
}

// clientLog keeps what the library reports as dropped.
type clientLog struct {
	mu      sync.Mutex
	dropped []string
}

func (l *clientLog) Logf(string, ...any) {}
func (l *clientLog) Errorf(format string, args ...any) {
	if s := fmt.Sprintf(format, args...); strings.Contains(s, "dropped") {
		l.mu.Lock()
		l.dropped = append(l.dropped, s)
		l.mu.Unlock()
	}
}

// segmentClient is one analytics-go client with its callback.
type segmentClient struct {
	analytics.Client
	tally *tally
}

func (c *segmentClient) send(t *testing.T, m analytics.Message) {
	c.tally.mu.Lock()
	c.tally.enqueued++
	c.tally.mu.Unlock()
	if err := c.Enqueue(m); err != nil {
		c.tally.mu.Lock()
		c.tally.enqueued--
		c.tally.mu.Unlock()
		t.Errorf("enqueue %s: %v", messageID(m), err)
	}
}

// TestDatabaseOutageUnderLoad: eight real Segment clients (analytics-go, which retries)
// send a known set of messages, with duplicates and replays, while the database
// connection is cut for a few seconds and then flaps. During the cut the server answers
// 503 with Retry-After and /readyz fails; after it both recover without a restart. At
// the end every distinct message is stored exactly once: nothing lost, nothing counted
// twice.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	requirePostgres(t)
	began := time.Now()

	env := proxiedServer(t)
	dbURL, proxy, db, app, srv := env.dbURL, env.proxy, env.db, env.app, env.srv
	c := buildCorpus()

	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(transport.CloseIdleConnections)
	w := &wire{base: transport, statuses: map[int]int{}}
	logs := &clientLog{}
	var clients []*segmentClient
	newClient := func(batch int, interval time.Duration) *segmentClient {
		tl := newTally()
		ac, err := analytics.NewWithConfig(app.SegmentSecret, analytics.Config{
			Endpoint:  srv.URL,
			BatchSize: batch,
			Interval:  interval,
			Transport: w,
			Callback:  tl,
			Logger:    logs,
			// Quick retries, but a budget (10 attempts, ~15 s of waiting) well beyond
			// the outage. The library's default backoff is the same curve capped at 10 s
			// (~33 s in all).
			RetryAfter: func(i int) time.Duration { return min(100*time.Millisecond<<i, 3*time.Second) },
		})
		if err != nil {
			t.Fatal(err)
		}
		sc := &segmentClient{Client: ac, tally: tl}
		clients = append(clients, sc)
		return sc
	}
	acked := func() map[string]bool {
		out := map[string]bool{}
		for _, sc := range clients {
			sc.tally.mu.Lock()
			for id := range sc.tally.acked {
				out[id] = true
			}
			sc.tally.mu.Unlock()
		}
		return out
	}
	waitFor := func(what string, limit time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > limit {
				t.Fatalf("%s: not reached within %s", what, limit)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}

	// Senders: message i goes to sender i%8. Small batches go through group commit,
	// the big ones (sender 3 and 7) are transactions of their own. Every batch that
	// meets the outage is retried on its own, so the flush interval sets how many
	// requests pile up on the server while the database is away (see docs/reliability.md).
	shapes := []struct {
		batch    int
		interval time.Duration
	}{{5, 200 * time.Millisecond}, {10, 200 * time.Millisecond}, {20, 250 * time.Millisecond}, {100, time.Second}}
	var progress, duplicates atomic.Int64
	var sending sync.WaitGroup
	var abandon atomic.Bool // the test failed early: senders stop
	t.Cleanup(func() {
		abandon.Store(true)
		sending.Wait()
		for _, sc := range clients {
			_ = sc.Close() // a second Close is harmless
		}
	})
	senders := make([]*segmentClient, faultSenders)
	for s := range senders {
		senders[s] = newClient(shapes[s%len(shapes)].batch, shapes[s%len(shapes)].interval)
	}
	replayer := newClient(50, 250*time.Millisecond)
	for s, sc := range senders {
		sending.Add(1)
		go func() {
			defer sending.Done()
			var mine []int
			for i := s; i < faultMessages; i += faultSenders {
				mine = append(mine, i)
			}
			for k, i := range mine {
				if abandon.Load() {
					return
				}
				sc.send(t, c.msgs[i])
				if k%15 == 7 { // the same message enqueued twice in a row
					sc.send(t, c.msgs[i])
					duplicates.Add(1)
				}
				if k%15 == 14 && k >= 40 { // and one enqueued again much later
					sc.send(t, c.msgs[mine[k-40]])
					duplicates.Add(1)
				}
				progress.Add(1)
				time.Sleep(enqueuePace)
			}
		}()
	}
	replayed := map[string]bool{}
	replay := func(ids []string) {
		for _, id := range ids {
			replayed[id] = true
			replayer.send(t, c.msgs[c.index[id]])
		}
	}
	probe := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	// post sends message i directly, as one /v1/batch request; 0 is a transport error.
	post := func(i int) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/batch", bytes.NewReader(c.wireBody(i)))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(app.SegmentSecret, "")
		res, err := probe.Do(req)
		if err != nil {
			return 0, nil, map[string]any{"error": err.Error()}
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, res.Header, body
	}

	// The outage: once a third of the messages are enqueued and some were acknowledged.
	waitFor("traffic before the outage", time.Minute, func() bool {
		return progress.Load() >= faultMessages/3 && len(acked()) >= replaySlice
	})
	ackedBefore := acked()
	cutAt := time.Now()
	proxy.Cut()
	faults := 1
	status, hdr, body := post(0)
	if hdr == nil {
		hdr = http.Header{}
	}
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || body["code"] != "unavailable" || body["success"] != false {
		t.Errorf("ingestion during the outage: %d Retry-After=%q %v; want 503 with Retry-After, code unavailable",
			status, hdr.Get("Retry-After"), body)
	}
	// A second client replays messages already acknowledged, into the outage.
	var first []string
	for id := range ackedBefore {
		first = append(first, id)
	}
	sort.Strings(first)
	replay(first[:replaySlice])
	if st, err := get(probe, srv.URL+"/readyz"); st != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d %v; want 503", st, err)
	}
	if st, err := get(probe, srv.URL+"/healthz"); st != http.StatusOK {
		t.Errorf("/healthz during the outage: %d %v; the process is alive", st, err)
	}
	srv.Running(t)
	time.Sleep(time.Until(cutAt.Add(outage)))
	// Still down at the end of the outage (nothing heals by itself).
	if st, _ := get(probe, srv.URL+"/readyz"); st != http.StatusServiceUnavailable {
		t.Errorf("/readyz at the end of the outage: %d; want 503", st)
	}
	proxy.Restore()
	readyAfter := waitFor("/readyz after the restore", 30*time.Second, func() bool {
		st, _ := get(probe, srv.URL+"/readyz")
		return st == http.StatusOK
	})
	ingestAfter := waitFor("ingestion after the restore", 30*time.Second, func() bool {
		st, _, _ := post(0) // message 0 again: a duplicate by now, harmless
		return st == http.StatusOK
	})
	srv.Running(t)

	// Flaps: short cuts later in the run.
	for f := 1; f <= flapCount; f++ {
		at := int64(faultMessages*2/3 + f*faultMessages/(3*(flapCount+1)))
		waitFor("traffic before a flap", time.Minute, func() bool { return progress.Load() >= at })
		proxy.Cut()
		faults++
		time.Sleep(flap)
		proxy.Restore()
	}
	sending.Wait()

	// The second replay: messages acknowledged after the outage.
	var second []string
	for id := range acked() {
		if !replayed[id] && !ackedBefore[id] {
			second = append(second, id)
		}
	}
	sort.Strings(second)
	if len(second) > replaySlice {
		second = second[len(second)-replaySlice:]
	}
	replay(second)

	// Every enqueued message is reported before any client is closed: a client closed
	// while a batch waits for its next retry drops it.
	waitFor("every client's callbacks", 90*time.Second, func() bool {
		for _, sc := range clients {
			if !sc.tally.settled() {
				return false
			}
		}
		return true
	})
	for _, sc := range clients {
		if err := sc.Close(); err != nil {
			t.Errorf("close client: %v", err)
		}
	}
	srv.Running(t)
	if err := srv.Stop(30 * time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}

	// What the clients saw.
	var enqueued, succeeded int
	var failures []string
	ackedAll := map[string]bool{}
	for _, sc := range clients {
		enqueued += sc.tally.enqueued
		succeeded += sc.tally.succeeded
		failures = append(failures, sc.tally.failed...)
		for id := range sc.tally.acked {
			ackedAll[id] = true
		}
	}
	if len(failures) > 0 {
		t.Errorf("the client gave up on %d messages (lost on the client side), e.g. %s", len(failures), failures[0])
	}
	if len(logs.dropped) > 0 {
		t.Errorf("the client dropped messages: %v", logs.dropped[0])
	}
	if succeeded != enqueued {
		t.Errorf("%d of %d enqueued messages acknowledged", succeeded, enqueued)
	}
	for _, id := range c.ids {
		if !ackedAll[id] {
			t.Errorf("message %s was never acknowledged", id)
			break
		}
	}
	w.mu.Lock()
	for code, n := range w.statuses {
		if code != http.StatusOK && code != http.StatusServiceUnavailable && code != http.StatusTooManyRequests {
			t.Errorf("the clients got %d answers with status %d; only 200, 503 and 429 are expected", n, code)
		}
	}
	if w.noRetryAfter > 0 {
		t.Errorf("%d answers 503 without Retry-After", w.noRetryAfter)
	}
	if w.statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no client request got a 503: the faults did not hit the traffic (statuses %v)", w.statuses)
	}
	clientStatuses, clientRequests, clientErrs, firstErr := w.statuses, w.requests, w.errs, w.firstErr
	w.mu.Unlock()
	serverStatuses := srv.Logs.Statuses()
	if serverStatuses[http.StatusInternalServerError] > 0 {
		t.Errorf("the server answered 500 %d times (a panic or an unhandled error): %s",
			serverStatuses[http.StatusInternalServerError], srv.Logs.Summary())
	}

	// What the database holds, read directly (not through the proxy).
	lost, doubled := verifyStored(t, dbURL, app.App.ID, c)

	ps, pool := proxy.Stats(), db.SQL.Stats()
	var pages, tracks int
	for _, k := range c.kinds {
		switch k {
		case "page":
			pages++
		case "track":
			tracks++
		}
	}
	t.Logf("messages sent: %d distinct (%d identify, %d page, %d track) for %d users by %d analytics-go clients",
		faultMessages, faultMessages-pages-tracks, pages, tracks, faultUsers, faultSenders)
	t.Logf("enqueued: %d = %d distinct + %d duplicates injected + %d replays (%d during the outage, %d after)",
		enqueued, faultMessages, duplicates.Load(), len(replayed), replaySlice, len(second))
	t.Logf("faults injected: %d (one %s outage, %d flaps of %s); the proxy killed %d live connections and refused %d",
		faults, outage, flapCount, flap, ps.Killed, ps.Refused)
	if firstErr != "" {
		firstErr = " (" + firstErr + ")"
	}
	t.Logf("client requests: %d, statuses %v, transport errors %d%s; 503s seen: %d (all with Retry-After); server answers %v",
		clientRequests, clientStatuses, clientErrs, firstErr, clientStatuses[http.StatusServiceUnavailable], serverStatuses)
	t.Logf("recovery after the restore: /readyz %s, ingestion %s; pool: %d waits for a connection, %s in all; server warnings and errors:%s",
		readyAfter.Round(time.Millisecond), ingestAfter.Round(time.Millisecond), pool.WaitCount, pool.WaitDuration.Round(time.Millisecond), srv.Logs.Summary())
	t.Logf("lost: %d, double-counted: %d; took %s", lost, doubled, time.Since(began).Round(100*time.Millisecond))
}

// verifyStored compares the database with the corpus, message by message, and returns
// how many messages were lost and how many were counted more than once.
func verifyStored(t *testing.T, dbURL string, appID int, c *corpus) (lost, doubled int) {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	processed := idCounts(t, db, `SELECT message_id, count(*) FROM processed_messages WHERE app_id = ? GROUP BY message_id`, "postgres", appID)
	pageRows := idCounts(t, db, `SELECT message_id, count(*) FROM page_views WHERE app_id = ? GROUP BY message_id`, "postgres", appID)
	occRows := idCounts(t, db, `SELECT message_id, count(*) FROM event_occurrences WHERE app_id = ? GROUP BY message_id`, "postgres", appID)

	type expectation struct {
		pages     int
		firstSeen time.Time
		lastSeen  time.Time // of page calls; zero when none
	}
	users := map[string]*expectation{}
	var missing []string
	check := func(what, id string, rows map[string]int, want bool) {
		n := rows[id]
		switch {
		case want && n == 0:
			lost++
			missing = append(missing, what+" "+id)
		case want && n > 1:
			doubled += n - 1
			t.Errorf("%s %s stored %d times", what, id, n)
		case !want && n > 0:
			doubled += n
			t.Errorf("%s row for %s, which is not a %s", what, id, what)
		}
	}
	for i, id := range c.ids {
		check("message id", id, processed, true)
		check("page view", id, pageRows, c.kinds[i] == "page")
		check("occurrence", id, occRows, c.kinds[i] == "track")
		u := relUser(c.users[i])
		e := users[u]
		if e == nil {
			e = &expectation{firstSeen: c.times[i]}
			users[u] = e
		}
		if c.times[i].Before(e.firstSeen) {
			e.firstSeen = c.times[i]
		}
		if c.kinds[i] == "page" {
			e.pages++
			if c.times[i].After(e.lastSeen) {
				e.lastSeen = c.times[i]
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d rows missing, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	for name, rows := range map[string]map[string]int{"message ids": processed, "page views": pageRows, "occurrences": occRows} {
		for id, n := range rows {
			if _, ok := c.index[id]; !ok {
				doubled += n
				t.Errorf("%s: %d rows for unknown message %q", name, n, id)
			}
		}
	}

	rows, err := db.Query(`SELECT coalesce(user_id, ''), page_views, first_seen, last_seen, coalesce(email, '') FROM users WHERE app_id = $1`, appID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var uid, email string
		var pv int
		var first, last sql.NullTime
		if err := rows.Scan(&uid, &pv, &first, &last, &email); err != nil {
			t.Fatal(err)
		}
		e := users[uid]
		if e == nil || seen[uid] {
			t.Errorf("unexpected or duplicate profile %q (pageViews %d)", uid, pv)
			doubled += pv
			continue
		}
		seen[uid] = true
		switch {
		case pv < e.pages:
			lost += e.pages - pv
			t.Errorf("%s: pageViews %d, want %d", uid, pv, e.pages)
		case pv > e.pages:
			doubled += pv - e.pages
			t.Errorf("%s: pageViews %d, want %d", uid, pv, e.pages)
		}
		if !first.Valid || !first.Time.Equal(e.firstSeen) {
			t.Errorf("%s: firstSeen %v, want %v", uid, first.Time, e.firstSeen)
		}
		if e.pages > 0 && (!last.Valid || !last.Time.Equal(e.lastSeen)) {
			t.Errorf("%s: lastSeen %v, want %v", uid, last.Time, e.lastSeen)
		}
		if num := strings.TrimPrefix(uid, "rel-user-"); email != "rel-"+num+"@example.com" {
			t.Errorf("%s: email %q", uid, email)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for uid, e := range users {
		if !seen[uid] {
			lost += e.pages
			t.Errorf("profile %s is missing", uid)
		}
	}
	if lost > 0 || doubled > 0 {
		t.Errorf("lost: %d, double-counted: %d", lost, doubled)
	}
	return lost, doubled
}
