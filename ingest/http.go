package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"
	"golang.org/x/sync/singleflight"

	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/domains"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/ingest/signature"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// Error codes of the REST API (PRODUCT.md 2).
const (
	CodeUnauthenticated = "unauthenticated"
	CodeInvalidKey      = "invalid_key"
	CodeKeyRevoked      = "key_revoked"
	CodeDomain          = "domain_not_trusted"
	CodeBadSignature    = "bad_signature"
	CodeUnavailable     = "unavailable"
	CodeRateLimited     = "rate_limited"
)

// retryAfter is what a 503 asks Segment's clients to wait.
const retryAfter = "5"

// HTTP is the Segment-compatible REST driver of a Service.
type HTTP struct {
	svc      *Service
	authn    *auth.Authenticator
	logger   *slog.Logger
	metrics  *Metrics
	settings *appSettings
}

// NewHTTP returns the /v1 routes. rateLimit bounds the requests per second of one key
// (0: no limit).
func NewHTTP(svc *Service, authn *auth.Authenticator, logger *slog.Logger, metrics *Metrics, rateLimit int) http.Handler {
	h := &HTTP{svc: svc, authn: authn, logger: logger, metrics: metrics,
		settings: &appSettings{client: svc.db.Client, ttl: 2 * time.Second, byApp: map[int]cachedSettings{}}}
	r := chi.NewRouter()
	if rateLimit > 0 {
		r.Use(httprate.LimitBy(rateLimit, time.Second, rateKey,
			httprate.WithLimitHandler(func(w http.ResponseWriter, _ *http.Request) {
				// Segment's clients honour Retry-After on 429 (httprate sets it).
				writeError(w, &apiError{http.StatusTooManyRequests, CodeRateLimited, "too many requests for this key; retry later"})
			})))
	}
	r.Post("/batch", h.handle("batch"))
	r.Post("/import", h.handle("batch"))
	for _, t := range []string{TypeIdentify, TypeTrack, TypePage, TypeScreen, TypeGroup, TypeAlias} {
		r.Post("/"+t, h.handle(t))
	}
	r.Post("/webhook", h.handle(""))
	return r
}

// apiError is every error body of the REST API.
type apiError struct {
	status  int
	code    string
	message string
}

func (h *HTTP) handle(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		received := time.Now().UTC()
		body, aerr := readBody(w, r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		deadline := received.Add(requestDeadline)
		type authResult struct {
			v    viewer.Viewer
			aerr *apiError
		}
		auth, err := bounded(deadline, func() (authResult, error) {
			v, aerr := h.authenticate(r, body)
			return authResult{v, aerr}, nil
		})
		if err != nil {
			writeError(w, &apiError{http.StatusServiceUnavailable, CodeUnavailable, "database unavailable; retry later"})
			return
		}
		if auth.aerr != nil {
			writeError(w, auth.aerr)
			return
		}
		v := auth.v
		ctx := viewer.NewContext(r.Context(), v)
		settings, err := bounded(deadline, func() (cachedSettings, error) { return h.settings.get(ctx, v.AppID) })
		if err != nil {
			h.logger.ErrorContext(ctx, "read app settings", "error", err)
			writeError(w, &apiError{http.StatusServiceUnavailable, CodeUnavailable, "database unavailable; retry later"})
			return
		}
		if kind == "" && settings.webhookState != nil && !signature.Verify(settings.webhookState, body, r.Header.Get("X-Signature")) {
			writeError(w, &apiError{http.StatusForbidden, CodeBadSignature, "X-Signature is not the HMAC-SHA1 of the body with the app's webhook secret"})
			return
		}
		var decoded *Decoded
		if kind == "batch" {
			decoded, err = DecodeBatch(body, received)
		} else {
			decoded, err = DecodeSingle(body, kind, received)
		}
		if err != nil {
			var re *RequestError
			if errors.As(err, &re) {
				h.metrics.messages.WithLabelValues(orUnknown(kind), re.Code).Inc()
				writeError(w, &apiError{http.StatusBadRequest, re.Code, re.Message})
				return
			}
			writeError(w, &apiError{http.StatusBadRequest, CodeInvalid, err.Error()})
			return
		}
		if aerr := h.checkDomains(r, settings.domains, decoded, kind != "batch"); aerr != nil {
			writeError(w, aerr)
			return
		}
		h.metrics.batchSize.Observe(float64(len(decoded.Messages) + len(decoded.Rejected)))
		start := time.Now()
		fresh, err := bounded(deadline, func() (int, error) { return h.svc.WriteGrouped(ctx, v.AppID, decoded.Messages) })
		if err != nil {
			// Nothing of the request was committed, so a retry is always safe.
			h.logger.ErrorContext(ctx, "ingest write failed", "app_id", v.AppID, "messages", len(decoded.Messages), "error", err)
			writeError(w, &apiError{http.StatusServiceUnavailable, CodeUnavailable, "could not store the messages; retry later"})
			return
		}
		h.metrics.latency.Observe(time.Since(start).Seconds())
		h.count(decoded, fresh)
		if kind != "batch" {
			writeJSON(w, http.StatusOK, map[string]any{"success": true})
			return
		}
		rejected := decoded.Rejected
		if rejected == nil {
			rejected = []Rejection{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "accepted": len(decoded.Messages), "rejected": rejected})
	}
}

// requestDeadline bounds how long a request waits for the database. A database that
// stops answering without closing connections (a network partition) can block a driver
// call for minutes, past any context; the request is answered 503 then, which is safe:
// a write commits entirely or not at all, and the client's retry is deduplicated.
const requestDeadline = 8 * time.Second

var errDeadline = errors.New("the database did not answer within the request's deadline")

// bounded runs fn, giving up waiting for it at deadline (fn itself runs on).
func bounded[T any](deadline time.Time, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, errDeadline
	}
}

func (h *HTTP) count(d *Decoded, fresh int) {
	// Which of the accepted messages were duplicates is not tracked per type.
	dups := len(d.Messages) - fresh
	for _, m := range d.Messages {
		h.metrics.messages.WithLabelValues(m.Type, "accepted").Inc()
	}
	if dups > 0 {
		h.metrics.messages.WithLabelValues("any", "duplicate").Add(float64(dups))
	}
	for _, r := range d.Rejected {
		h.metrics.messages.WithLabelValues("unknown", r.Code).Inc()
	}
}

func orUnknown(kind string) string {
	if kind == "" {
		return "webhook"
	}
	return kind
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	var reader io.Reader = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(reader)
		if err != nil {
			return nil, &apiError{http.StatusBadRequest, CodeInvalid, "body is not valid gzip"}
		}
		defer gz.Close()
		// The limit applies to the decompressed body too (a small gzip bomb is still big).
		reader = io.LimitReader(gz, MaxRequestBytes+1)
	}
	body, err := io.ReadAll(reader)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig), len(body) > MaxRequestBytes:
		return nil, &apiError{http.StatusBadRequest, CodeTooLarge, "a request is at most 500 KB"}
	case err != nil:
		return nil, &apiError{http.StatusBadRequest, CodeInvalid, "could not read the body"}
	}
	return body, nil
}

// rateKey counts requests by the key they present (hashed: the limiter's memory holds no
// secrets), or by client address when the key travels in the body.
func rateKey(r *http.Request) (string, error) {
	if user, _, ok := r.BasicAuth(); ok && user != "" {
		return auth.Hash(user), nil
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return auth.Hash(strings.TrimSpace(token)), nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host, nil
}

// authenticate takes the key from HTTP Basic (user name), a Bearer token, or the body's
// writeKey, in that order.
func (h *HTTP) authenticate(r *http.Request, body []byte) (viewer.Viewer, *apiError) {
	key := ""
	if user, _, ok := r.BasicAuth(); ok {
		key = user
	} else if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		key = strings.TrimSpace(token)
	} else {
		var wk struct {
			WriteKey string `json:"writeKey"`
		}
		_ = json.Unmarshal(body, &wk)
		key = wk.WriteKey
	}
	v, err := h.authn.Authenticate(r.Context(), key, apikey.KindSEGMENT)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, auth.ErrNoCredentials):
		return v, &apiError{http.StatusUnauthorized, CodeUnauthenticated, "send the SEGMENT key as the Basic auth user name, a Bearer token, or writeKey"}
	case errors.Is(err, auth.ErrUnknownKey), errors.Is(err, auth.ErrWrongKind):
		return v, &apiError{http.StatusForbidden, CodeInvalidKey, "not a SEGMENT key of this server"}
	case errors.Is(err, auth.ErrRevokedKey):
		return v, &apiError{http.StatusForbidden, CodeKeyRevoked, "this key has been revoked"}
	default:
		h.logger.ErrorContext(r.Context(), "authenticate", "error", err)
		return v, &apiError{http.StatusServiceUnavailable, CodeUnavailable, "database unavailable; retry later"}
	}
}

// checkDomains applies the app's trusted domains. The request's Origin or Referer
// speaks for every message; without them each message's page URL does. A single call
// from an untrusted domain is refused; in a batch only the messages concerned are.
func (h *HTTP) checkDomains(r *http.Request, m *domains.Matcher, d *Decoded, single bool) *apiError {
	refuse := &apiError{http.StatusForbidden, CodeDomain, "the request comes from a domain the app does not trust"}
	host := domains.HostOf(r.Header.Get("Origin"))
	if host == "" {
		host = domains.HostOf(r.Header.Get("Referer"))
	}
	if host != "" {
		if !m.Allows(host) {
			return refuse
		}
		return nil
	}
	kept, keptIdx := d.Messages[:0], d.Indexes[:0]
	for i, msg := range d.Messages {
		if m.Allows(messageHost(&msg)) {
			kept, keptIdx = append(kept, msg), append(keptIdx, d.Indexes[i])
			continue
		}
		if single {
			return refuse
		}
		d.Rejected = append(d.Rejected, Rejection{Index: d.Indexes[i], MessageID: msg.MessageID, Code: CodeDomain, Message: refuse.message})
	}
	d.Messages, d.Indexes = kept, keptIdx
	return nil
}

func messageHost(m *Message) string {
	if page, ok := m.Context["page"].(map[string]any); ok {
		if u, ok := page["url"].(string); ok {
			if h := domains.HostOf(u); h != "" {
				return h
			}
		}
	}
	if m.Type == TypePage {
		if u, ok := m.Properties["url"].(string); ok {
			return domains.HostOf(u)
		}
	}
	return ""
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusServiceUnavailable {
		// Every 503 is temporary (PRODUCT.md 2), wherever the database failed.
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, e.status, map[string]any{"success": false, "code": e.code, "message": e.message})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// appSettings caches what every request of an app needs (trusted domains, the webhook
// state) for a few seconds, so a settings change is effective within the TTL.
type appSettings struct {
	client *ent.Client
	ttl    time.Duration
	mu     sync.Mutex
	byApp  map[int]cachedSettings
	flight singleflight.Group
}

type cachedSettings struct {
	domains      *domains.Matcher
	webhookState []byte
	fetched      time.Time
}

func (s *appSettings) get(ctx context.Context, appID int) (cachedSettings, error) {
	s.mu.Lock()
	c, ok := s.byApp[appID]
	s.mu.Unlock()
	if ok && time.Since(c.fetched) < s.ttl {
		return c, nil
	}
	// Concurrent misses of one app share one read (see auth.Authenticator.lookup).
	v, err, _ := s.flight.Do(strconv.Itoa(appID), func() (any, error) {
		ctx := context.WithoutCancel(ctx)
		app, err := s.client.App.Get(ctx, appID)
		if err != nil {
			return nil, err
		}
		doms, err := s.client.TrustedDomain.Query().All(ctx)
		if err != nil {
			return nil, err
		}
		patterns := make([]string, 0, len(doms))
		for _, d := range doms {
			patterns = append(patterns, d.Domain)
		}
		c := cachedSettings{domains: domains.NewMatcher(patterns), fetched: time.Now()}
		if app.WebhookHmacState != nil {
			c.webhookState = *app.WebhookHmacState
		}
		s.mu.Lock()
		s.byApp[appID] = c
		s.mu.Unlock()
		return c, nil
	})
	if err != nil {
		return cachedSettings{}, err
	}
	return v.(cachedSettings), nil
}
