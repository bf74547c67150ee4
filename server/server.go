// Package server wires the HTTP surface: the router and its middleware, the GraphQL API
// with its playground, health and metrics endpoints, and the server's lifecycle.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/graph"
	"github.com/peoplegraph/peoplegraph/ingest"
	"github.com/peoplegraph/peoplegraph/server/playground"
	"github.com/peoplegraph/peoplegraph/storage"
)

// Deps are what the server is built from.
type Deps struct {
	DB            *storage.DB
	Logger        *slog.Logger
	Authenticator *auth.Authenticator
}

// Server is the HTTP server of peoplegraph.
type Server struct {
	cfg     Config
	deps    Deps
	handler http.Handler
	ingest  *ingest.Service
	Metrics *Metrics
}

// DefaultQuery is pre-filled in the playground.
const DefaultQuery = `# Paste your ADMIN key in the Headers tab below, then run this query.
query {
  app { id name }
  apiKeys { id name kind prefix createdAt revokedAt lastUsedAt }
}
`

// New builds the server and its routes.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Authenticator == nil {
		deps.Authenticator = auth.NewAuthenticator(deps.DB.Client, 0)
	}
	s := &Server{cfg: cfg, deps: deps, Metrics: NewMetrics(deps.DB.SQL)}

	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(requestLogger(deps.Logger))
	r.Use(s.Metrics.middleware)
	r.Use(middleware.Recoverer)

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.ready)
	r.Handle("/metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))

	gql := graph.NewHandler(&graph.Resolver{Client: deps.DB.Client, Logger: deps.Logger, Dialect: deps.DB.Dialect})
	r.Group(func(r chi.Router) {
		if len(cfg.CORSOrigins) > 0 {
			r.Use(cors.Handler(cors.Options{
				AllowedOrigins: cfg.CORSOrigins,
				AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
				AllowedHeaders: []string{"Authorization", "Content-Type"},
				MaxAge:         600,
			}))
		}
		r.Use(func(next http.Handler) http.Handler { return http.MaxBytesHandler(next, cfg.MaxGraphQLBody) })
		r.With(adminOnly(deps.Authenticator)).Handle("/graphql", gql)
	})

	pg := playground.Handler(playground.Options{
		Title:        "peoplegraph",
		Endpoint:     "/graphql",
		DefaultQuery: DefaultQuery,
		AssetPrefix:  "/playground/",
	})
	r.Get("/", pg.ServeHTTP)
	r.Get("/playground/*", pg.ServeHTTP)

	// Segment's browser library posts from any site; trusted domains decide, not CORS.
	s.ingest = ingest.NewService(deps.DB, deps.Logger)
	ingestion := ingest.NewHTTP(s.ingest, deps.Authenticator, deps.Logger, ingest.NewMetrics(s.Metrics.Registry), cfg.IngestRateLimit)
	r.With(cors.Handler(cors.Options{
		AllowedOrigins: []string{"*"},
		AllowedMethods: []string{http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Content-Encoding", "X-Signature"},
		MaxAge:         3600,
	})).Mount("/v1", ingestion)
	s.handler = r
	return s, nil
}

// Handler is the router, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	// The ping runs apart: a partitioned database can block the driver past its context,
	// and readiness must still answer within its bound.
	pinged := make(chan error, 1)
	go func() { pinged <- s.deps.DB.SQL.PingContext(ctx) }()
	var err error
	select {
	case err = <-pinged:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.deps.Logger.WarnContext(ctx, "readiness check failed", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// optimizeStorage refreshes the planner's statistics at start and every few hours.
func (s *Server) optimizeStorage(ctx context.Context) {
	tick := time.NewTicker(3 * time.Hour)
	defer tick.Stop()
	for {
		if err := s.deps.DB.Optimize(ctx); err != nil && ctx.Err() == nil {
			s.deps.Logger.WarnContext(ctx, "optimize storage", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Serve answers on ln until ctx is done, then stops accepting connections and lets
// requests in flight finish within the shutdown timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.deps.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	go s.ingest.RunRetention(ctx)
	go s.optimizeStorage(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.deps.Logger.Info("shutting down; finishing requests in flight", "timeout", s.cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
