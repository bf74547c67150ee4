package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// msg is one Segment message.
type msg = map[string]any

// vars are GraphQL variables.
type vars = map[string]any

// env is the real router on a test database.
type env struct {
	*apitest.Env
	t *testing.T
}

func newEnv(t *testing.T, db *storage.DB, opts ...apitest.Options) *env {
	t.Helper()
	var o apitest.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return &env{Env: apitest.New(t, db, o), t: t}
}

// ctx reads and writes as an admin of the test app (the tenancy policies apply).
func (e *env) ctx() context.Context {
	return viewer.NewContext(context.Background(), viewer.Viewer{AppID: e.App.App.ID, Role: viewer.RoleAdmin})
}

func (e *env) client() *ent.Client { return e.DB.Client }

// batch posts messages to /v1/batch with the app's SEGMENT key (the real ingestion
// path) and fails the test unless every one is accepted.
func (e *env) batch(msgs ...msg) {
	e.t.Helper()
	e.batchAs(e.App.SegmentSecret, msgs...)
}

func (e *env) batchAs(key string, msgs ...msg) {
	e.t.Helper()
	items := make([]any, len(msgs))
	for i, m := range msgs {
		items[i] = m
	}
	body, _ := json.Marshal(map[string]any{"batch": items})
	req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(key, "")
	rec := e.Do(req)
	var out struct {
		Success  bool  `json:"success"`
		Rejected []any `json:"rejected"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || !out.Success || len(out.Rejected) > 0 {
		e.t.Fatalf("batch: %d %s", rec.Code, rec.Body.String())
	}
}

// postBatch posts a batch body's items and returns the status (safe from goroutines).
func (e *env) postBatch(items []any) int {
	body, _ := json.Marshal(map[string]any{"batch": items})
	req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e.App.SegmentSecret, "")
	return e.Do(req).Code
}

// gql runs a query with the app's ADMIN key, fails on any error and decodes data.
func (e *env) gql(query string, v vars, out any) {
	e.t.Helper()
	e.MustGraphQL(e.t, e.App.AdminSecret, query, v, out)
}

// gqlErr runs a query that must fail with exactly one error of code; it returns the
// error (and the data, raw).
func (e *env) gqlErr(code, query string, v vars) (apitest.GraphQLError, json.RawMessage) {
	e.t.Helper()
	res := e.GraphQL(e.t, e.App.AdminSecret, query, v)
	if len(res.Errors) != 1 || res.Errors[0].Code() != code {
		e.t.Fatalf("want one %s error, got %d %+v (data %s)", code, res.Status, res.Errors, res.Data)
	}
	return res.Errors[0], res.Data
}

// identify returns an identify message.
func identify(userID, anonymousID string, traits msg) msg {
	m := msg{"type": "identify", "traits": traits}
	if userID != "" {
		m["userId"] = userID
	}
	if anonymousID != "" {
		m["anonymousId"] = anonymousID
	}
	return m
}

func page(userID, url, ts string) msg {
	return msg{"type": "page", "userId": userID, "name": "Page " + url, "properties": msg{"url": url}, "timestamp": ts}
}

func track(userID, event, ts string, props msg) msg {
	return msg{"type": "track", "userId": userID, "event": event, "properties": props, "timestamp": ts}
}

func group(userID, groupID string, traits msg) msg {
	return msg{"type": "group", "userId": userID, "groupId": groupID, "traits": traits}
}

// jsonOf is v as compact JSON, for messages.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func has(s, sub string) bool { return strings.Contains(s, sub) }

// toInt is a GraphQL id as the int Ent uses.
func toInt(t *testing.T, id string) int {
	t.Helper()
	n, err := strconv.Atoi(id)
	if err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	return n
}
