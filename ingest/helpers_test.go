package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/ent/company"
	"github.com/peoplegraph/peoplegraph/ent/eventdefinition"
	"github.com/peoplegraph/peoplegraph/ent/eventoccurrence"
	"github.com/peoplegraph/peoplegraph/ent/identity"
	"github.com/peoplegraph/peoplegraph/ent/membership"
	"github.com/peoplegraph/peoplegraph/ent/pageview"
	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// msg is one Segment message (or a request body) as a test writes it.
type msg = map[string]any

// env is the real router on a test database, with helpers to post Segment calls and to
// read what was stored.
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

// ctx reads and writes as an admin of the test app (tenancy policies apply).
func (e *env) ctx() context.Context {
	return viewer.NewContext(context.Background(), viewer.Viewer{AppID: e.App.App.ID, Role: viewer.RoleAdmin})
}

func (e *env) client() *ent.Client { return e.DB.Client }

// response is a recorded answer of the router.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map; it fails the test when the body is not JSON.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %q", r.Status, err, r.Body)
	}
	return out
}

// reqOption adjusts a request before it is sent.
type reqOption func(*http.Request)

// noAuth sends the request without any credentials.
func noAuth() reqOption { return func(r *http.Request) { r.Header.Del("Authorization") } }

func basicAuth(key string) reqOption {
	return func(r *http.Request) { r.Header.Del("Authorization"); r.SetBasicAuth(key, "") }
}

func bearer(key string) reqOption {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
}

func header(name, value string) reqOption {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// bodyOf encodes a test body: raw bytes and strings as they are, anything else as JSON.
func bodyOf(t testing.TB, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encode body: %v", err)
	}
	return out
}

func gzipped(t testing.TB, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// post sends body to path ("/v1/identify", …) with the app's SEGMENT key as HTTP Basic
// user name, unless an option says otherwise.
func (e *env) post(path string, body any, opts ...reqOption) response {
	e.t.Helper()
	return e.postRaw(path, bodyOf(e.t, body), opts...)
}

func (e *env) postRaw(path string, body []byte, opts ...reqOption) response {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e.App.SegmentSecret, "")
	for _, o := range opts {
		o(req)
	}
	rec := e.Do(req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// mustPost posts and fails the test unless the answer is 200 {"success":true,…}.
func (e *env) mustPost(path string, body any, opts ...reqOption) map[string]any {
	e.t.Helper()
	res := e.post(path, body, opts...)
	if res.Status != http.StatusOK {
		e.t.Fatalf("POST %s: %d %s", path, res.Status, res.Body)
	}
	out := res.JSON(e.t)
	if out["success"] != true {
		e.t.Fatalf("POST %s: success is not true: %s", path, res.Body)
	}
	return out
}

// batchResult is the answer to /v1/batch.
type batchResult struct {
	Success  bool `json:"success"`
	Accepted int  `json:"accepted"`
	Rejected []struct {
		Index     int    `json:"index"`
		MessageID string `json:"messageId"`
		Code      string `json:"code"`
		Message   string `json:"message"`
	} `json:"rejected"`
}

// batch posts msgs as one /v1/batch request and requires a 200.
func (e *env) batch(msgs ...msg) batchResult {
	e.t.Helper()
	items := make([]any, len(msgs))
	for i, m := range msgs {
		items[i] = m
	}
	return e.batchBody(msg{"batch": items})
}

func (e *env) batchBody(body msg, opts ...reqOption) batchResult {
	e.t.Helper()
	res := e.post("/v1/batch", body, opts...)
	if res.Status != http.StatusOK {
		e.t.Fatalf("POST /v1/batch: %d %s", res.Status, res.Body)
	}
	var out batchResult
	if err := json.Unmarshal(res.Body, &out); err != nil {
		e.t.Fatalf("batch answer: %v: %s", err, res.Body)
	}
	if !out.Success {
		e.t.Fatalf("batch answer without success: %s", res.Body)
	}
	return out
}

// call posts one message to its own endpoint (/v1/<type>) and requires a 200.
func (e *env) call(m msg) {
	e.t.Helper()
	typ, _ := m["type"].(string)
	e.mustPost("/v1/"+typ, m)
}

// expectError checks an error answer: the status, and a body that is exactly
// {"success":false,"code":code,"message":"…"}.
func expectError(t testing.TB, res response, status int, code string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", res.Status, status, code, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	body := res.JSON(t)
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "code,message,success" {
		t.Errorf("error body has keys %v, want exactly code, message, success: %s", keys, res.Body)
	}
	if body["success"] != false {
		t.Errorf("success = %v, want false", body["success"])
	}
	if body["code"] != code {
		t.Errorf("code = %v, want %q: %s", body["code"], code, res.Body)
	}
	if m, ok := body["message"].(string); !ok || m == "" {
		t.Errorf("message = %#v, want a non-empty string", body["message"])
	}
}

// userByUserID is the profile an identifier finds, through the identities table (the
// way ingestion looks users up), or nil.
func (e *env) userByUserID(userID string) *ent.User {
	e.t.Helper()
	return e.userByIdentity(identity.KindUSER_ID, userID)
}

func (e *env) userByAnonymousID(anonymousID string) *ent.User {
	e.t.Helper()
	return e.userByIdentity(identity.KindANONYMOUS_ID, anonymousID)
}

func (e *env) userByIdentity(kind identity.Kind, value string) *ent.User {
	e.t.Helper()
	ids, err := e.client().Identity.Query().
		Where(identity.KindEQ(kind), identity.Value(value)).All(e.ctx())
	if err != nil {
		e.t.Fatalf("find identity %s %q: %v", kind, value, err)
	}
	switch len(ids) {
	case 0:
		return nil
	case 1:
	default:
		e.t.Fatalf("%d identities for %s %q", len(ids), kind, value)
	}
	u, err := e.client().User.Get(e.ctx(), ids[0].UserID)
	if err != nil {
		e.t.Fatalf("user %d of %s %q: %v", ids[0].UserID, kind, value, err)
	}
	return u
}

// mustUser is userByUserID that fails the test when there is no such user.
func (e *env) mustUser(userID string) *ent.User {
	e.t.Helper()
	u := e.userByUserID(userID)
	if u == nil {
		e.t.Fatalf("no user with userId %q", userID)
	}
	return u
}

func (e *env) mustAnonymous(anonymousID string) *ent.User {
	e.t.Helper()
	u := e.userByAnonymousID(anonymousID)
	if u == nil {
		e.t.Fatalf("no user with anonymousId %q", anonymousID)
	}
	return u
}

func (e *env) userCount() int {
	e.t.Helper()
	n, err := e.client().User.Query().Count(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// identitiesOf lists "KIND:value" of a user's identities, sorted.
func (e *env) identitiesOf(userID int) []string {
	e.t.Helper()
	ids, err := e.client().Identity.Query().Where(identity.UserID(userID)).All(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, 0, len(ids))
	for _, i := range ids {
		out = append(out, string(i.Kind)+":"+i.Value)
	}
	sort.Strings(out)
	return out
}

func (e *env) pageViewsOf(userID int) []*ent.PageView {
	e.t.Helper()
	pvs, err := e.client().PageView.Query().Where(pageview.UserID(userID)).
		Order(ent.Asc(pageview.FieldTimestamp), ent.Asc(pageview.FieldID)).All(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	return pvs
}

func (e *env) occurrencesOf(userID int) []*ent.EventOccurrence {
	e.t.Helper()
	occ, err := e.client().EventOccurrence.Query().Where(eventoccurrence.UserID(userID)).
		Order(ent.Asc(eventoccurrence.FieldTimestamp), ent.Asc(eventoccurrence.FieldID)).All(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	return occ
}

// groupsOf lists the groupIds of the companies a user belongs to, sorted.
func (e *env) groupsOf(userID int) []string {
	e.t.Helper()
	ms, err := e.client().Membership.Query().Where(membership.UserID(userID)).WithCompany().All(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Edges.Company.GroupID)
	}
	sort.Strings(out)
	return out
}

func (e *env) company(groupID string) *ent.Company {
	e.t.Helper()
	c, err := e.client().Company.Query().Where(company.GroupID(groupID)).Only(e.ctx())
	if err != nil {
		e.t.Fatalf("company %q: %v", groupID, err)
	}
	return c
}

func (e *env) eventDefinition(name string) *ent.EventDefinition {
	e.t.Helper()
	d, err := e.client().EventDefinition.Query().Where(eventdefinition.Name(name)).Only(e.ctx())
	if err != nil {
		e.t.Fatalf("event definition %q: %v", name, err)
	}
	return d
}

// occurrenceCount is how many occurrences an event has (what the API reports as the
// event definition's occurrences: they are counted from the occurrence rows).
func (e *env) occurrenceCount(event string) int {
	e.t.Helper()
	return e.count(e.client().EventOccurrence.Query().Where(eventoccurrence.EventDefinitionID(e.eventDefinition(event).ID)))
}

// definition is the attribute definition of key in scope (USER, COMPANY), or of an
// event's property when event is given; nil when there is none.
func (e *env) definition(scope attributedefinition.Scope, key string, event ...string) *ent.AttributeDefinition {
	e.t.Helper()
	q := e.client().AttributeDefinition.Query().Where(attributedefinition.ScopeEQ(scope), attributedefinition.Key(key))
	if len(event) > 0 {
		q = q.Where(attributedefinition.EventDefinitionID(e.eventDefinition(event[0]).ID))
	}
	defs, err := q.All(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	switch len(defs) {
	case 0:
		return nil
	case 1:
		return defs[0]
	}
	e.t.Fatalf("%d definitions of %s %q", len(defs), scope, key)
	return nil
}

// defineAttribute creates a definition the way an admin would.
func (e *env) defineAttribute(scope attributedefinition.Scope, key string, typ attributedefinition.Type) *ent.AttributeDefinition {
	e.t.Helper()
	return e.client().AttributeDefinition.Create().
		SetScope(scope).SetKey(key).SetName(key).SetType(typ).
		SaveX(e.ctx())
}

func (e *env) count(q interface {
	Count(context.Context) (int, error)
}) int {
	e.t.Helper()
	n, err := q.Count(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// iso writes a time as Segment's libraries do.
func iso(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// sameInstant compares a stored time with an expected one (databases keep microseconds).
func sameInstant(t testing.TB, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is not set, want %s", what, want)
		return
	}
	if d := got.Sub(want); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("%s = %s, want %s", what, got.UTC(), want.UTC())
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
