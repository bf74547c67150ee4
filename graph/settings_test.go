package graph_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ingest/signature"
	"github.com/peoplegraph/peoplegraph/internal/apitest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

type apiKey struct {
	ID, Name, Kind, Prefix, CreatedAt string
	RevokedAt, LastUsedAt             *string
}

const createKey = `mutation($name: String!, $kind: ApiKeyKind!) {
	createApiKey(input: {name: $name, kind: $kind}) { apiKey { id name kind prefix createdAt revokedAt } secret } }`

func TestAPIKeys(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		// Revocations are seen at once, not after the production cache's 2 seconds.
		e := newEnv(t, db, apitest.Options{AuthCacheTTL: time.Nanosecond})
		var created struct {
			CreateAPIKey struct {
				APIKey apiKey `json:"apiKey"`
				Secret string
			} `json:"createApiKey"`
		}
		e.gql(createKey, vars{"name": "  Nightly export  ", "kind": "ADMIN"}, &created)
		k := created.CreateAPIKey
		if k.APIKey.Name != "Nightly export" || k.APIKey.Kind != "ADMIN" || !strings.HasPrefix(k.Secret, k.APIKey.Prefix) || k.APIKey.RevokedAt != nil {
			t.Fatalf("created: %+v", k)
		}
		// The secret works, once shown; the list never shows it.
		var app struct{ App struct{ Name string } }
		e.MustGraphQL(t, k.Secret, `{ app { name } }`, nil, &app)
		res := e.GraphQL(t, e.App.AdminSecret, `{ apiKeys { id name kind prefix createdAt revokedAt lastUsedAt } }`, nil)
		if len(res.Errors) > 0 || strings.Contains(string(res.Data), k.Secret) || strings.Contains(string(res.Data), e.App.AdminSecret) {
			t.Fatalf("apiKeys: %+v %s", res.Errors, res.Data)
		}
		var list struct {
			APIKeys []apiKey `json:"apiKeys"`
		}
		e.gql(`{ apiKeys { id name kind prefix createdAt revokedAt lastUsedAt } }`, nil, &list)
		if len(list.APIKeys) != 3 || list.APIKeys[2].ID != k.APIKey.ID {
			t.Fatalf("apiKeys: %+v", list.APIKeys)
		}
		// A SEGMENT key ingests.
		e.gql(createKey, vars{"name": "Website", "kind": "SEGMENT"}, &created)
		e.batchAs(created.CreateAPIKey.Secret, identify("u1", "", nil))

		if err, _ := e.gqlErr("BAD_USER_INPUT", createKey, vars{"name": " ", "kind": "ADMIN"}); err.Extensions["field"] != "input.name" {
			t.Errorf("empty name: %+v", err)
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", createKey, vars{"name": strings.Repeat("n", 201), "kind": "ADMIN"}); err.Extensions["field"] != "input.name" {
			t.Errorf("long name: %+v", err)
		}

		// Revoking: at once, idempotent.
		const revoke = `mutation($id: ID!, $self: Boolean) { revokeApiKey(id: $id, allowSelf: $self) { id revokedAt } }`
		var revoked struct {
			RevokeAPIKey apiKey `json:"revokeApiKey"`
		}
		e.gql(revoke, vars{"id": k.APIKey.ID}, &revoked)
		if revoked.RevokeAPIKey.RevokedAt == nil {
			t.Fatalf("revoked: %+v", revoked)
		}
		first := *revoked.RevokeAPIKey.RevokedAt
		if res := e.GraphQL(t, k.Secret, `{ app { name } }`, nil); res.Status != http.StatusUnauthorized || res.Errors[0].Code() != "UNAUTHENTICATED" {
			t.Errorf("revoked key: %d %+v", res.Status, res.Errors)
		}
		e.gql(revoke, vars{"id": k.APIKey.ID}, &revoked)
		if *revoked.RevokeAPIKey.RevokedAt != first {
			t.Errorf("revoking twice moved revokedAt: %s → %s", first, *revoked.RevokeAPIKey.RevokedAt)
		}

		// The key of the request itself: refused unless allowSelf.
		var mine struct {
			APIKeys []apiKey `json:"apiKeys"`
		}
		e.gql(`{ apiKeys { id prefix } }`, nil, &mine)
		var selfID string
		for _, key := range mine.APIKeys {
			if strings.HasPrefix(e.App.AdminSecret, key.Prefix) {
				selfID = key.ID
			}
		}
		if err, _ := e.gqlErr("BAD_USER_INPUT", revoke, vars{"id": selfID}); err.Extensions["field"] != "id" {
			t.Errorf("self revocation: %+v", err)
		}
		e.gql(`{ app { name } }`, nil, &app) // still works
		e.gql(revoke, vars{"id": selfID, "self": true}, &revoked)
		if res := e.GraphQL(t, e.App.AdminSecret, `{ app { name } }`, nil); res.Status != http.StatusUnauthorized {
			t.Errorf("self-revoked key still works: %d", res.Status)
		}
	})
}

func TestTrustedDomains(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		const add = `mutation($d: String!) { addTrustedDomain(domain: $d) { id domain createdAt } }`
		type domain struct{ ID, Domain string }
		var a, b, again struct{ AddTrustedDomain domain }
		e.gql(add, vars{"d": " Example.COM. "}, &a)
		e.gql(add, vars{"d": "*.example.com"}, &b)
		e.gql(add, vars{"d": "example.com"}, &again)
		if a.AddTrustedDomain.Domain != "example.com" || b.AddTrustedDomain.Domain != "*.example.com" || again.AddTrustedDomain.ID != a.AddTrustedDomain.ID {
			t.Errorf("added: %+v %+v %+v", a, b, again)
		}
		for _, bad := range []string{"", "https://example.com", "exa mple.com", "*.*.com", strings.Repeat("a", 300)} {
			if err, _ := e.gqlErr("BAD_USER_INPUT", add, vars{"d": bad}); err.Extensions["field"] != "domain" {
				t.Errorf("%q: %+v", bad, err)
			}
		}
		var list struct{ TrustedDomains []domain }
		e.gql(`{ trustedDomains { id domain } }`, nil, &list)
		if len(list.TrustedDomains) != 2 || list.TrustedDomains[0].Domain != "*.example.com" || list.TrustedDomains[1].Domain != "example.com" {
			t.Errorf("list: %+v", list)
		}
		const remove = `mutation($id: ID!) { removeTrustedDomain(id: $id) }`
		var removed struct{ RemoveTrustedDomain bool }
		e.gql(remove, vars{"id": a.AddTrustedDomain.ID}, &removed)
		if !removed.RemoveTrustedDomain {
			t.Errorf("removed: %+v", removed)
		}
		e.gqlErr("NOT_FOUND", remove, vars{"id": a.AddTrustedDomain.ID})
		e.gql(`{ trustedDomains { id domain } }`, nil, &list)
		if len(list.TrustedDomains) != 1 || list.TrustedDomains[0].Domain != "*.example.com" {
			t.Errorf("after removal: %+v", list)
		}
	})
}

func hmacHex(secret, body string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhookSecret(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		secretSet := func() bool {
			var out struct {
				App struct{ WebhookSecretSet bool }
			}
			e.gql(`{ app { webhookSecretSet } }`, nil, &out)
			return out.App.WebhookSecretSet
		}
		// The stored state verifies signatures made with the secret, and nothing else.
		stored := func() []byte {
			app, err := e.client().App.Get(e.ctx(), e.App.App.ID)
			if err != nil {
				t.Fatal(err)
			}
			if app.WebhookHmacState == nil {
				return nil
			}
			if bytes.Contains(*app.WebhookHmacState, []byte("s3cret-value")) {
				t.Fatalf("the secret itself is stored")
			}
			return *app.WebhookHmacState
		}
		const body = `{"type":"track","userId":"u1","event":"Signed Up"}`
		if secretSet() {
			t.Fatal("a new app has a webhook secret")
		}
		var ok struct{ SetWebhookSecret bool }
		e.gql(`mutation { setWebhookSecret(secret: "s3cret-value") }`, nil, &ok)
		if !ok.SetWebhookSecret || !secretSet() {
			t.Fatal("secret not set")
		}
		if st := stored(); !signature.Verify(st, []byte(body), hmacHex("s3cret-value", body)) || signature.Verify(st, []byte(body), hmacHex("other", body)) {
			t.Error("stored state does not verify the secret's signatures")
		}
		// Segment's Webhooks destination, end to end.
		post := func(sig string) int {
			req := httptest.NewRequest(http.MethodPost, "/v1/webhook", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(e.App.SegmentSecret, "")
			if sig != "" {
				req.Header.Set("X-Signature", sig)
			}
			return e.Do(req).Code
		}
		if got := post(hmacHex("s3cret-value", body)); got != http.StatusOK {
			t.Errorf("signed webhook: %d", got)
		}
		if got := post(""); got != http.StatusForbidden {
			t.Errorf("unsigned webhook: %d", got)
		}

		var rotated struct{ RotateWebhookSecret string }
		e.gql(`mutation { rotateWebhookSecret }`, nil, &rotated)
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(rotated.RotateWebhookSecret) {
			t.Errorf("rotated secret: %q", rotated.RotateWebhookSecret)
		}
		if st := stored(); !signature.Verify(st, []byte(body), hmacHex(rotated.RotateWebhookSecret, body)) || signature.Verify(st, []byte(body), hmacHex("s3cret-value", body)) {
			t.Error("rotation did not replace the secret")
		}
		var again struct{ RotateWebhookSecret string }
		e.gql(`mutation { rotateWebhookSecret }`, nil, &again)
		if again.RotateWebhookSecret == rotated.RotateWebhookSecret {
			t.Error("rotation repeats secrets")
		}

		for _, bad := range []string{"", strings.Repeat("s", 1025)} {
			if err, _ := e.gqlErr("BAD_USER_INPUT", `mutation($s: String!) { setWebhookSecret(secret: $s) }`, vars{"s": bad}); err.Extensions["field"] != "secret" {
				t.Errorf("secret of %d bytes: %+v", len(bad), err)
			}
		}
		var cleared struct{ ClearWebhookSecret bool }
		e.gql(`mutation { clearWebhookSecret }`, nil, &cleared)
		if !cleared.ClearWebhookSecret || secretSet() || stored() != nil {
			t.Error("secret not cleared")
		}
	})
}

// TestAppSettingsLists covers the plain lists: keys in creation order, domains sorted.
func TestAppSettingsLists(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		var out struct {
			APIKeys []apiKey `json:"apiKeys"`
		}
		e.gql(`{ apiKeys { kind name } }`, nil, &out)
		var kinds []string
		for _, k := range out.APIKeys {
			kinds = append(kinds, k.Kind)
		}
		if !slices.Equal(kinds, []string{"ADMIN", "SEGMENT"}) {
			t.Errorf("keys: %v", kinds)
		}
	})
}
