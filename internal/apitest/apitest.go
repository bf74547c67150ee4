// Package apitest drives the real router in tests: one app (or more) with live keys,
// and helpers to call GraphQL and the REST endpoints over httptest.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/server"
	"github.com/peoplegraph/peoplegraph/storage"
)

// Env is a server on a test database.
type Env struct {
	DB      *storage.DB
	Server  *server.Server
	Handler http.Handler
	// App is the first app, created with the Env.
	App *apps.Created
}

// Options adjust the server under test.
type Options struct {
	// Wrap wraps the router (fault injection, delays).
	Wrap func(http.Handler) http.Handler
	// AuthCacheTTL overrides the authenticator's cache (default: the production TTL).
	AuthCacheTTL time.Duration
	// Config edits the server configuration (defaults: server.DefaultConfig).
	Config func(*server.Config)
}

// New builds the real server on db with one app, "Test".
func New(t testing.TB, db *storage.DB, opts Options) *Env {
	t.Helper()
	created, err := apps.Create(context.Background(), db.Client, "Test", apps.Secrets{})
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	deps := server.Deps{
		DB:            db,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticator: auth.NewAuthenticator(db.Client, opts.AuthCacheTTL),
	}
	cfg := server.DefaultConfig()
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	srv, err := server.New(cfg, deps)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	h := srv.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	return &Env{DB: db, Server: srv, Handler: h, App: created}
}

// NewApp creates another app on the same database.
func (e *Env) NewApp(t testing.TB, name string) *apps.Created {
	t.Helper()
	created, err := apps.Create(context.Background(), e.DB.Client, name, apps.Secrets{})
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	return created
}

// GraphQLResponse is a decoded GraphQL answer.
type GraphQLResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []GraphQLError  `json:"errors"`
}

// GraphQLError is one entry of "errors".
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e GraphQLError) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// GraphQL posts query with vars, authenticated with key ("" for none).
func (e *Env) GraphQL(t testing.TB, key, query string, vars map[string]any) GraphQLResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	var out GraphQLResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("GraphQL answer is not JSON (%d): %s", rec.Code, rec.Body.String())
	}
	out.Status = rec.Code
	return out
}

// MustGraphQL is GraphQL that fails the test on any error and decodes data into out.
func (e *Env) MustGraphQL(t testing.TB, key, query string, vars map[string]any, out any) {
	t.Helper()
	res := e.GraphQL(t, key, query, vars)
	if len(res.Errors) > 0 || res.Status != http.StatusOK {
		t.Fatalf("GraphQL %d: %+v", res.Status, res.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatalf("decode data: %v: %s", err, res.Data)
		}
	}
}

// Do sends a request to the router and returns the recorded answer.
func (e *Env) Do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	return rec
}
