package reliability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/server"
	"github.com/peoplegraph/peoplegraph/storage"
)

// liveServer is the real server (server.New + Serve) on a 127.0.0.1 listener.
type liveServer struct {
	URL  string
	Logs *logCounter

	cancel context.CancelFunc
	served chan error
	once   sync.Once
	err    error
}

func startServer(t *testing.T, db *storage.DB) *liveServer {
	t.Helper()
	logs := newLogCounter()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	srv, err := server.New(cfg, server.Deps{DB: db, Logger: slog.New(logs)})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &liveServer{URL: "http://" + ln.Addr().String(), Logs: logs, cancel: cancel, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { _ = s.Stop(30 * time.Second) })
	return s
}

// Running fails the test when Serve has returned although nobody stopped it.
func (s *liveServer) Running(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.served:
		s.once.Do(func() { s.err = err })
		t.Fatalf("the server stopped by itself: Serve returned %v", err)
	default:
	}
}

// Stop cancels the server's context (what SIGTERM does in cmd/peoplegraph) and waits
// for Serve to return.
func (s *liveServer) Stop(timeout time.Duration) error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.served:
		case <-time.After(timeout):
			s.err = fmt.Errorf("Serve did not return within %s of the shutdown", timeout)
		}
	})
	return s.err
}

// get sends a GET and returns the status, or 0 and the error.
func get(c *http.Client, url string) (int, error) {
	res, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// logCounter is a slog.Handler that counts the server's records, and the status codes
// of its request lines, and keeps an example of every warning and error.
type logCounter struct {
	mu       sync.Mutex
	levels   map[slog.Level]int
	statuses map[int]int
	problems map[string]int
	example  map[string]string
}

func newLogCounter() *logCounter {
	return &logCounter{levels: map[slog.Level]int{}, statuses: map[int]int{}, problems: map[string]int{}, example: map[string]string{}}
}

func (h *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logCounter) WithGroup(string) slog.Handler            { return h }

func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	var status int64
	var detail string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "status":
			status = a.Value.Int64()
		case "error", "path":
			detail += " " + a.Key + "=" + a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.levels[r.Level]++
	if r.Message == "request" {
		h.statuses[int(status)]++
	}
	if r.Level >= slog.LevelWarn {
		key := r.Level.String() + " " + r.Message
		h.problems[key]++
		if _, ok := h.example[key]; !ok {
			h.example[key] = strings.TrimSpace(detail)
		}
	}
	return nil
}

// Statuses is how many requests the server answered with each status.
func (h *logCounter) Statuses() map[int]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int]int, len(h.statuses))
	for k, v := range h.statuses {
		out[k] = v
	}
	return out
}

// Summary lists the warnings and errors, with one example each.
func (h *logCounter) Summary() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.problems))
	for k := range h.problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %5d × %s (e.g. %s)", h.problems[k], k, h.example[k])
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}

// isConnError reports whether err is a transport failure (refused, reset, closed before
// an answer), as opposed to an answer with a status.
func isConnError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return err != nil && (errors.As(err, &ne) || errors.As(err, &oe) ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "server closed"))
}
