package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/server"
	"github.com/peoplegraph/peoplegraph/storage"
)

func serve(ctx context.Context, env environment, args []string) error {
	cfg := server.DefaultConfig()
	s := newSettings("serve", env)
	dbURL := s.databaseURL()
	addr := s.string("addr", "PEOPLEGRAPH_ADDR", cfg.Addr, "listen address")
	cors := s.string("cors-origins", "PEOPLEGRAPH_CORS_ORIGINS", "", "comma-separated origins allowed to call /graphql from a browser")
	adminKey := s.string("bootstrap-admin-key", "PEOPLEGRAPH_BOOTSTRAP_ADMIN_KEY", "", "secret of the Default app's first ADMIN key (first start only; random when empty)")
	segmentKey := s.string("bootstrap-segment-key", "PEOPLEGRAPH_BOOTSTRAP_SEGMENT_KEY", "", "secret of the Default app's first SEGMENT key (first start only; random when empty)")
	logLevel := s.string("log-level", "PEOPLEGRAPH_LOG_LEVEL", "info", "debug, info, warn or error")
	logFormat := s.string("log-format", "PEOPLEGRAPH_LOG_FORMAT", "json", "json or text")
	rate := s.fs.Int("ingest-rate-limit", intEnv(env, "PEOPLEGRAPH_INGEST_RATE_LIMIT", cfg.IngestRateLimit), "ingestion requests per second per key; 0 turns the limit off (env PEOPLEGRAPH_INGEST_RATE_LIMIT)")
	shutdown := s.duration("shutdown-timeout", "PEOPLEGRAPH_SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout, "how long requests in flight may finish after SIGTERM")
	if err := s.parse(args); err != nil {
		return err
	}
	cfg.Addr, cfg.CORSOrigins, cfg.ShutdownTimeout, cfg.IngestRateLimit = *addr, splitList(*cors), *shutdown, *rate
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger, err := newLogger(env, *logLevel, *logFormat)
	if err != nil {
		return err
	}

	db, err := openAndMigrate(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	logger.Info("database ready", "dialect", db.Dialect, "url", storage.Redact(orDefault(*dbURL)))

	created, err := apps.Bootstrap(ctx, db.Client, apps.Secrets{Admin: *adminKey, Segment: *segmentKey})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created != nil {
		printBootstrap(env, created, *adminKey != "", *segmentKey != "")
	}

	srv, err := server.New(cfg, server.Deps{
		DB:            db,
		Logger:        logger,
		Authenticator: auth.NewAuthenticator(db.Client, 0),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	logger.Info("listening", "addr", ln.Addr().String(), "playground", "http://"+displayAddr(ln.Addr())+"/")
	return srv.Serve(ctx, ln)
}

// printBootstrap shows the first keys once, on standard output rather than in the logs,
// which are kept and shipped. Secrets fixed by configuration are not repeated.
func printBootstrap(env environment, c *apps.Created, adminFixed, segmentFixed bool) {
	show := func(secret string, fixed bool) string {
		if fixed {
			return "(as configured)"
		}
		return secret
	}
	fmt.Fprintf(env.stdout, "Created app %q (id %d). Its keys are shown only now; the database keeps their hashes.\n", c.App.Name, c.App.ID)
	fmt.Fprintf(env.stdout, "  ADMIN key   (GraphQL: Authorization: Bearer KEY): %s\n", show(c.AdminSecret, adminFixed))
	fmt.Fprintf(env.stdout, "  SEGMENT key (Segment write key):                  %s\n", show(c.SegmentSecret, segmentFixed))
}

func openAndMigrate(ctx context.Context, url string) (*storage.DB, error) {
	db, err := storage.Open(ctx, url, storage.Options{})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func newLogger(env environment, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(env.stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(env.stderr, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want json or text", format)
	}
}

func orDefault(url string) string {
	if url == "" {
		return storage.DefaultURL
	}
	return url
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
