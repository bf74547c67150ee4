package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/graph"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// adminOnly admits requests with "Authorization: Bearer <ADMIN key>" and puts the key's
// app in the context as the viewer; the Ent policies scope every query to it. CORS
// preflights pass (they carry no credentials and reach no resolver).
func adminOnly(a *auth.Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			v, err := a.Authenticate(r.Context(), BearerToken(r), apikey.KindADMIN)
			if err != nil {
				status, code, message := graphQLAuthError(err)
				writeJSON(w, status, map[string]any{"errors": []map[string]any{{
					"message":    message,
					"extensions": map[string]string{"code": code},
				}}})
				return
			}
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
		})
	}
}

// graphQLAuthError maps the authenticator's errors for the GraphQL endpoint: a missing,
// unknown or revoked key does not authenticate (401); a SEGMENT key authenticates but
// may not use the API (403).
func graphQLAuthError(err error) (status int, code, message string) {
	switch {
	case errors.Is(err, auth.ErrNoCredentials):
		return http.StatusUnauthorized, graph.CodeUnauthenticated, "missing Authorization: Bearer <ADMIN key>"
	case errors.Is(err, auth.ErrUnknownKey):
		return http.StatusUnauthorized, graph.CodeUnauthenticated, "unknown API key"
	case errors.Is(err, auth.ErrRevokedKey):
		return http.StatusUnauthorized, graph.CodeUnauthenticated, "API key revoked"
	case errors.Is(err, auth.ErrWrongKind):
		return http.StatusForbidden, graph.CodeForbidden, "a SEGMENT key may only ingest; use an ADMIN key"
	default:
		return http.StatusServiceUnavailable, graph.CodeInternal, "authentication unavailable"
	}
}

// BearerToken returns the token of an "Authorization: Bearer" header, or "".
func BearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
