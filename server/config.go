package server

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Config is what serve needs; cmd/peoplegraph fills it from flags and environment.
type Config struct {
	// Addr is the listen address, ":8080" by default.
	Addr string
	// CORSOrigins may call the GraphQL API from a browser ("*" for any).
	CORSOrigins []string
	// ShutdownTimeout bounds how long requests in flight may finish after a signal.
	ShutdownTimeout time.Duration
	// MaxGraphQLBody bounds a GraphQL request body, in bytes.
	MaxGraphQLBody int64
	// IngestRateLimit bounds the ingestion requests per second of one key; 0 turns it off.
	IngestRateLimit int
}

// DefaultConfig returns the defaults of every setting.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		ShutdownTimeout: 20 * time.Second,
		MaxGraphQLBody:  1 << 20,
		IngestRateLimit: 2000,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", c.Addr, err))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown timeout must be positive"))
	}
	if c.IngestRateLimit < 0 {
		errs = append(errs, errors.New("ingest rate limit must be 0 (off) or positive"))
	}
	if c.MaxGraphQLBody <= 0 {
		errs = append(errs, errors.New("GraphQL body limit must be positive"))
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			errs = append(errs, fmt.Errorf("CORS origin %q: want http(s)://host[:port] or *", o))
		}
	}
	return errors.Join(errs...)
}
