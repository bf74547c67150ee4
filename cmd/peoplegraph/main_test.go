package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
)

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestServeBootstrapsAndAnswersGraphQL(t *testing.T) {
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			const adminKey = "fixed-admin-key-for-the-cli-test"
			env := map[string]string{
				"PEOPLEGRAPH_DATABASE_URL":        dbtest.URL(t, dialect),
				"PEOPLEGRAPH_ADDR":                "127.0.0.1:0",
				"PEOPLEGRAPH_BOOTSTRAP_ADMIN_KEY": adminKey,
				"PEOPLEGRAPH_LOG_LEVEL":           "debug",
			}
			var stdout, stderr syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"serve"}, &stdout, &stderr, envFunc(env)) }()

			addr := waitFor(t, &stderr, regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`), done)
			out := stdout.String()
			segment := regexp.MustCompile(`SEGMENT key[^:]*:\s+(\S+)`).FindStringSubmatch(out)
			if !strings.Contains(out, "ADMIN key") || !strings.Contains(out, "(as configured)") || segment == nil || !strings.HasPrefix(segment[1], "pgs_") {
				t.Fatalf("bootstrap output:\n%s", out)
			}

			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ app { name } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+adminKey)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Data struct{ App struct{ Name string } }
			}
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if body.Data.App.Name != "Default" {
				t.Fatalf("app %+v", body)
			}

			// Ingestion with the secret in each place a client may put it; the logs of the
			// whole run (at debug level) must not hold any secret.
			for _, send := range []func(*http.Request){
				func(r *http.Request) { r.SetBasicAuth(segment[1], "") },
				func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+segment[1]) },
				func(*http.Request) {},
			} {
				body := `{"type":"page","anonymousId":"a1","writeKey":"` + segment[1] + `"}`
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/page", strings.NewReader(body))
				send(req)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("ingest: %d", res.StatusCode)
				}
			}
			var keyOut, keyErr bytes.Buffer
			if err := run(ctx, []string{"keys", "create", "--app", regexp.MustCompile(`\(id (\d+)\)`).FindStringSubmatch(out)[1], "--kind", "ADMIN", "--name", "ci"}, &keyOut, &keyErr, envFunc(env)); err != nil {
				t.Fatal(err, keyErr.String())
			}
			created := parseLines(t, keyOut.String())["PEOPLEGRAPH_ADMIN_KEY"]
			logs := stderr.String() + keyErr.String()
			for _, secret := range []string{adminKey, segment[1], created} {
				if secret == "" || strings.Contains(logs, secret) {
					t.Fatalf("secret %q… appears in the logs (or is empty)", secret[:min(6, len(secret))])
				}
			}
			if !strings.Contains(stderr.String(), `"path":"/v1/page"`) {
				t.Fatal("the logs did not capture the run")
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop after its context ended")
			}
		})
	}
}

func TestAppsAndKeysCommands(t *testing.T) {
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			env := envFunc(map[string]string{"PEOPLEGRAPH_DATABASE_URL": dbtest.URL(t, dialect)})
			var out, errOut bytes.Buffer
			if err := run(ctx, []string{"apps", "create", "Acme", "Inc"}, &out, &errOut, env); err != nil {
				t.Fatal(err, errOut.String())
			}
			lines := parseLines(t, out.String())
			for _, k := range []string{"PEOPLEGRAPH_APP_ID", "PEOPLEGRAPH_ADMIN_KEY", "PEOPLEGRAPH_SEGMENT_KEY"} {
				if lines[k] == "" {
					t.Fatalf("missing %s in\n%s", k, out.String())
				}
			}
			out.Reset()
			if err := run(ctx, []string{"apps", "create", "--json", "Other"}, &out, &errOut, env); err != nil {
				t.Fatal(err)
			}
			var asJSON map[string]string
			if err := json.Unmarshal(out.Bytes(), &asJSON); err != nil || asJSON["PEOPLEGRAPH_ADMIN_KEY"] == "" {
				t.Fatalf("json output %q: %v", out.String(), err)
			}

			out.Reset()
			if err := run(ctx, []string{"keys", "create", "--app", lines["PEOPLEGRAPH_APP_ID"], "--kind", "segment", "--name", "web"}, &out, &errOut, env); err != nil {
				t.Fatal(err)
			}
			key := parseLines(t, out.String())
			if key["PEOPLEGRAPH_KEY_ID"] == "" || !strings.HasPrefix(key["PEOPLEGRAPH_SEGMENT_KEY"], "pgs_") {
				t.Fatalf("keys create: %q", out.String())
			}
			// Revoking through another app's id finds nothing.
			if err := run(ctx, []string{"keys", "revoke", "--app", asJSON["PEOPLEGRAPH_APP_ID"], key["PEOPLEGRAPH_KEY_ID"]}, &out, &errOut, env); err == nil {
				t.Fatal("revoked a key through another app")
			}
			if err := run(ctx, []string{"keys", "revoke", "--app", lines["PEOPLEGRAPH_APP_ID"], key["PEOPLEGRAPH_KEY_ID"]}, &out, &errOut, env); err != nil {
				t.Fatal(err)
			}
			if err := run(ctx, []string{"keys", "revoke", "--app", lines["PEOPLEGRAPH_APP_ID"], key["PEOPLEGRAPH_KEY_ID"]}, &out, &errOut, env); err == nil {
				t.Fatal("revoked twice")
			}
			if err := run(ctx, []string{"keys", "create", "--app", "1", "--kind", "ROOT", "--name", "x"}, &out, &errOut, env); err == nil {
				t.Fatal("accepted kind ROOT")
			}
		})
	}
}

func parseLines(t *testing.T, s string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not a NAME=value line: %q", line)
		}
		m[k] = v
	}
	return m
}

func waitFor(t *testing.T, buf *syncBuffer, re *regexp.Regexp, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, buf.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal(fmt.Sprintf("timed out waiting for %s in\n%s", re, buf.String()))
	return ""
}
