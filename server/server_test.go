package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

func TestGraphQLAuthentication(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		// No auth cache, so the revocation below is visible to the very next request.
		env := apitest.New(t, db, apitest.Options{AuthCacheTTL: time.Nanosecond})
		ctx := viewer.SystemContext(context.Background())
		revoked := env.NewApp(t, "Revoked")
		_, err := db.Client.ApiKey.Update().
			Where(apikey.AppID(revoked.App.ID), apikey.KindEQ(apikey.KindADMIN)).
			SetRevokedAt(time.Now()).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name   string
			key    string
			status int
			code   string
		}{
			{"no key", "", http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"unknown key", "pga_not-a-key-of-this-server-at-all", http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"revoked key", revoked.AdminSecret, http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"segment key", env.App.SegmentSecret, http.StatusForbidden, "FORBIDDEN"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := env.GraphQL(t, c.key, `{ app { name } }`, nil)
				if res.Status != c.status || len(res.Errors) != 1 || res.Errors[0].Code() != c.code {
					t.Fatalf("got %d %+v, want %d %s", res.Status, res.Errors, c.status, c.code)
				}
				if len(res.Data) > 0 && string(res.Data) != "null" {
					t.Fatalf("data leaked with a refused key: %s", res.Data)
				}
			})
		}

		var out struct{ App struct{ Name string } }
		env.MustGraphQL(t, env.App.AdminSecret, `{ app { name } }`, nil, &out)
		if out.App.Name != "Test" {
			t.Fatalf("app name %q", out.App.Name)
		}
	})
}

func TestGraphQLTenancy(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		env := apitest.New(t, db, apitest.Options{})
		other := env.NewApp(t, "Other")

		type keys struct {
			App     struct{ ID, Name string }
			APIKeys []struct{ ID, Name, Kind, Prefix string } `json:"apiKeys"`
		}
		var a, b keys
		env.MustGraphQL(t, env.App.AdminSecret, `{ app { id name } apiKeys { id name kind prefix } }`, nil, &a)
		env.MustGraphQL(t, other.AdminSecret, `{ app { id name } apiKeys { id name kind prefix } }`, nil, &b)
		if a.App.Name != "Test" || b.App.Name != "Other" {
			t.Fatalf("apps: %+v / %+v", a.App, b.App)
		}
		if len(a.APIKeys) != 2 || len(b.APIKeys) != 2 {
			t.Fatalf("each app has exactly its own two keys: %+v / %+v", a.APIKeys, b.APIKeys)
		}
		for _, k := range b.APIKeys {
			for _, ka := range a.APIKeys {
				if k.ID == ka.ID {
					t.Fatalf("app B sees app A's key %s", k.ID)
				}
			}
		}
		// The node query resolves ids of every type; another app's id is not found.
		res := env.GraphQL(t, other.AdminSecret, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": a.APIKeys[0].ID})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("foreign node: %+v %s", res.Errors, res.Data)
		}
		res = env.GraphQL(t, other.AdminSecret, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": a.App.ID})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "NOT_FOUND" {
			t.Fatalf("foreign app node: %+v %s", res.Errors, res.Data)
		}
		// A secret never appears in GraphQL answers; only its prefix does.
		for _, k := range a.APIKeys {
			if !strings.HasPrefix(env.App.AdminSecret, k.Prefix) && !strings.HasPrefix(env.App.SegmentSecret, k.Prefix) {
				t.Fatalf("prefix %q is not a prefix of a secret", k.Prefix)
			}
			if len(k.Prefix) >= len(env.App.AdminSecret)/2 {
				t.Fatalf("prefix %q shows too much of the secret", k.Prefix)
			}
		}
	})
}

func TestHealthReadinessMetricsPlayground(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		env := apitest.New(t, db, apitest.Options{})
		get := func(path string) *httptest.ResponseRecorder {
			return env.Do(httptest.NewRequest(http.MethodGet, path, nil))
		}
		if rec := get("/healthz"); rec.Code != http.StatusOK {
			t.Fatalf("healthz %d", rec.Code)
		}
		if rec := get("/readyz"); rec.Code != http.StatusOK {
			t.Fatalf("readyz %d", rec.Code)
		}
		page := get("/")
		if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("playground %d %s", page.Code, page.Header().Get("Content-Type"))
		}
		for _, external := range []string{"http://", "https://", `src="//`, `href="//`} {
			if strings.Contains(page.Body.String(), external) {
				t.Fatalf("playground references an external host (%s)", external)
			}
		}
		metrics := get("/metrics").Body.String()
		for _, want := range []string{
			`peoplegraph_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
			"peoplegraph_http_request_duration_seconds_bucket",
			`go_sql_max_open_connections{db_name="peoplegraph"}`,
		} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("metrics lack %q", want)
			}
		}
		// With the database gone, the server is alive but not ready.
		db.SQL.Close()
		if rec := get("/readyz"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("readyz without database: %d", rec.Code)
		}
		if rec := get("/healthz"); rec.Code != http.StatusOK {
			t.Fatalf("healthz without database: %d", rec.Code)
		}
	})
}
