// Package bench measures ingestion against the database's own ceiling, in one run on
// one machine: the real server on loopback, a load generator in the same process, and
// the same rows written by plain batched SQL as the baseline. Results are printed as a
// table and as one JSON line per figure, so runs can be compared across commits.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/server"
	"github.com/peoplegraph/peoplegraph/storage"
)

// Config is what one run measures.
type Config struct {
	DatabaseURL   string
	Duration      time.Duration // per phase
	Senders       int           // concurrent batch senders
	BatchSize     int
	SingleSenders int // concurrent single-call senders
	Users         int // pool the messages draw their users from
	// Phases to run (batch, single, sql); empty runs all of them.
	Phases []string
	// CPUProfile, when set, receives a CPU profile of the measured phases (not of the
	// warm-up), server and load generator together.
	CPUProfile io.Writer
	Out        io.Writer
}

// Figure is one measured number.
type Figure struct {
	Name     string  `json:"name"`
	Dialect  string  `json:"dialect"`
	Events   int64   `json:"events"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"events_per_sec"`
	P50ms    float64 `json:"p50_ms,omitempty"`
	P99ms    float64 `json:"p99_ms,omitempty"`
	RSSMB    float64 `json:"rss_mb,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	RatioTo  string  `json:"ratio_to,omitempty"`
	Requests int64   `json:"requests,omitempty"`
	Errors   int64   `json:"errors,omitempty"`
	// FirstError is the first error of the phase, so that a count of errors can be read.
	FirstError string `json:"first_error,omitempty"`
}

// Run measures every phase and prints the figures.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	app, err := apps.Create(ctx, db.Client, fmt.Sprintf("bench-%d", time.Now().UnixNano()), apps.Secrets{})
	if err != nil {
		return err
	}
	cfg0 := server.DefaultConfig()
	cfg0.IngestRateLimit = 0 // the benchmark is the load; it must not be throttled
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	base, err := startServer(srvCtx, cfg0, db)
	if err != nil {
		return err
	}

	gen := &generator{users: cfg.Users, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	post := func(path string, body []byte) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
		req.SetBasicAuth(app.SegmentSecret, "")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	// Warm up: create the user pool, event names and definitions, so the phases measure
	// the steady state "most calls hit existing users".
	for i := 0; i < cfg.Users; i += cfg.BatchSize {
		if err := post("/v1/batch", gen.batch(cfg.BatchSize, true)); err != nil {
			return fmt.Errorf("warm up: %w", err)
		}
	}

	// A table that grew this much would have been analyzed by autovacuum in a running
	// server; without fresh statistics the planner sees the new app as empty and scans.
	if _, err := db.SQL.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	run := func(phase string) bool { return len(cfg.Phases) == 0 || slices.Contains(cfg.Phases, phase) }
	var figures []Figure
	var batch, single, batchSQL, perCommit Figure
	if run("batch") {
		batch = load(ctx, "batch ingestion", cfg.Senders, cfg.Duration, func() (int, error) {
			return cfg.BatchSize, post("/v1/batch", gen.batch(cfg.BatchSize, false))
		})
		batch.RSSMB = rssMB()
		figures = append(figures, batch)
	}
	if run("single") {
		single = load(ctx, "single calls", cfg.SingleSenders, cfg.Duration, func() (int, error) {
			path, body := gen.single()
			return 1, post(path, body)
		})
		figures = append(figures, single)
	}
	if run("sql") {
		ceiling := baseline{db: db, appID: app.App.ID, gen: gen}
		batchSQL = load(ctx, "plain batched SQL", cfg.Senders, cfg.Duration, func() (int, error) {
			return cfg.BatchSize, ceiling.batch(ctx, cfg.BatchSize)
		})
		perCommit = load(ctx, "plain SQL, commit per message", cfg.SingleSenders, cfg.Duration, func() (int, error) {
			return 1, ceiling.batch(ctx, 1)
		})
		figures = append(figures, batchSQL, perCommit)
		for i := range figures {
			switch figures[i].Name {
			case batch.Name:
				figures[i].Ratio, figures[i].RatioTo = batch.PerSec/batchSQL.PerSec, batchSQL.Name
			case single.Name:
				figures[i].Ratio, figures[i].RatioTo = single.PerSec/perCommit.PerSec, perCommit.Name
			}
		}
	}
	for i := range figures {
		figures[i].Dialect = db.Dialect
	}
	print(cfg.Out, figures)
	return nil
}

// load runs fn from n goroutines for d and reports events per second and latency.
func load(ctx context.Context, name string, n int, d time.Duration, fn func() (int, error)) Figure {
	var events, requests, errs atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				k, err := fn()
				mine = append(mine, time.Since(t))
				requests.Add(1)
				if err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				events.Add(int64(k))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	f := Figure{Name: name, Events: events.Load(), Seconds: secs, PerSec: float64(events.Load()) / secs,
		P50ms: percentileMs(lat, .50), P99ms: percentileMs(lat, .99), Requests: requests.Load(), Errors: errs.Load()}
	if e, ok := firstErr.Load().(string); ok {
		f.FirstError = e
	}
	return f
}

// startServer serves the real server on a loopback port until ctx ends and returns its
// base URL.
func startServer(ctx context.Context, cfg server.Config, db *storage.DB) (string, error) {
	srv, err := server.New(cfg, server.Deps{DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go srv.Serve(ctx, ln)
	return "http://" + ln.Addr().String(), nil
}

// percentileMs is the nearest-rank percentile p of ds, in milliseconds.
func percentileMs(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i].Microseconds()) / 1000
}

func print(w io.Writer, figures []Figure) {
	fmt.Fprintf(w, "%-32s %-8s %10s %12s %9s %9s %8s %8s  %s\n", "phase", "dialect", "events", "events/s", "p50 ms", "p99 ms", "RSS MB", "errors", "ratio")
	for _, f := range figures {
		ratio := ""
		if f.RatioTo != "" {
			ratio = fmt.Sprintf("%.2f× %s", f.Ratio, f.RatioTo)
		}
		fmt.Fprintf(w, "%-32s %-8s %10d %12.0f %9.2f %9.2f %8.0f %8d  %s\n", f.Name, f.Dialect, f.Events, f.PerSec, f.P50ms, f.P99ms, f.RSSMB, f.Errors, ratio)
	}
	for _, f := range figures {
		b, _ := json.Marshal(f)
		fmt.Fprintln(w, string(b))
	}
}

// rssMB is the resident memory of this process (server and load generator together).
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// generator makes the realistic mix: identify 10%, page 45%, track 40%, group 5%;
// ten custom traits of mixed types; twenty event names.
type generator struct {
	users int
	run   string
	seq   atomic.Int64
}

var eventNames = func() []string {
	out := make([]string, 20)
	for i := range out {
		out[i] = fmt.Sprintf("Event %02d", i)
	}
	return out
}()

func (g *generator) id() string { return g.run + "-" + strconv.FormatInt(g.seq.Add(1), 36) }

// appendMessage writes one message of type typ for user. The bodies are written by hand,
// not by encoding/json over maps, so that the load generator, which shares the machine
// with the server and the database, costs as little CPU as a real load tool would.
func (g *generator) appendMessage(b []byte, typ string, user int, withType bool) []byte {
	b = append(b, '{')
	if withType {
		b = append(b, `"type":"`...)
		b = append(b, typ...)
		b = append(b, `",`...)
	}
	b = append(b, `"messageId":"`...)
	b = append(b, g.id()...)
	b = append(b, `","userId":"user-`...)
	b = strconv.AppendInt(b, int64(user), 10)
	b = append(b, `","timestamp":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","context":{"ip":"203.0.113.7","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36","locale":"en-US"}`...)
	switch typ {
	case "identify":
		b = append(b, `,"traits":{"email":"user`...)
		b = strconv.AppendInt(b, int64(user), 10)
		b = append(b, `@example.com","name":"Ada Lovelace","plan":"`...)
		b = append(b, []string{"free", "pro", "team"}[user%3]...)
		b = append(b, `","seats":`...)
		b = strconv.AppendInt(b, int64(user%50), 10)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, float64(user%1000)/7, 'g', -1, 64)
		b = append(b, `,"beta":`...)
		b = strconv.AppendBool(b, user%2 == 0)
		b = append(b, `,"signed_up":"2024-05-01T10:00:00Z","country_code":"DE","referrer":"ads","age":`...)
		b = strconv.AppendInt(b, int64(user%80), 10)
		b = append(b, `,"tags":["a","b"],"company_size":"11-50"}`...)
	case "page":
		b = append(b, `,"name":"Pricing","properties":{"url":"https://example.com/pricing","path":"/pricing","title":"Pricing","referrer":"https://google.com/"}`...)
	case "track":
		b = append(b, `,"event":"`...)
		b = append(b, eventNames[rand.IntN(len(eventNames))]...)
		b = append(b, `","properties":{"value":`...)
		b = strconv.AppendInt(b, int64(rand.IntN(100)), 10)
		b = append(b, `,"currency":"EUR","plan":"pro"}`...)
	case "group":
		b = append(b, `,"groupId":"company-`...)
		b = strconv.AppendInt(b, int64(user%500), 10)
		b = append(b, `","traits":{"name":"Acme","employees":42,"industry":"tools"}`...)
	}
	return append(b, '}')
}

func (g *generator) pickType() string {
	switch r := rand.IntN(100); {
	case r < 10:
		return "identify"
	case r < 55:
		return "page"
	case r < 95:
		return "track"
	default:
		return "group"
	}
}

// batch is one /v1/batch body; warm batches identify consecutive users of the pool.
func (g *generator) batch(n int, warm bool) []byte {
	b := make([]byte, 0, n*512)
	b = append(b, `{"batch":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if warm {
			b = g.appendMessage(b, "identify", int(g.seq.Load())%g.users, true)
			continue
		}
		b = g.appendMessage(b, g.pickType(), rand.IntN(g.users), true)
	}
	b = append(b, `],"sentAt":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

// single is one /v1/page or /v1/track call.
func (g *generator) single() (path string, body []byte) {
	typ := []string{"page", "track"}[rand.IntN(2)]
	return "/v1/" + typ, g.appendMessage(make([]byte, 0, 512), typ, rand.IntN(g.users), false)
}
