package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// settings declares flags whose defaults come from environment variables, so every
// setting has both spellings and the flag wins.
type settings struct {
	fs       *flag.FlagSet
	env      environment
	deferred error
}

func newSettings(name string, env environment) *settings {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	return &settings{fs: fs, env: env}
}

func (s *settings) string(name, envVar, def, help string) *string {
	if v := s.env.getenv(envVar); v != "" {
		def = v
	}
	return s.fs.String(name, def, help+" (env "+envVar+")")
}

func (s *settings) duration(name, envVar string, def time.Duration, help string) *time.Duration {
	p := new(time.Duration)
	*p = def
	raw := s.env.getenv(envVar)
	s.fs.Func(name, fmt.Sprintf("%s (env %s, default %s)", help, envVar, def), func(v string) error {
		d, err := time.ParseDuration(v)
		*p = d
		return err
	})
	if raw != "" {
		if err := s.fs.Set(name, raw); err != nil {
			// Surfaced by parse, which reports it with the flag's name.
			s.deferred = fmt.Errorf("%s=%q: %w", envVar, raw, err)
		}
	}
	return p
}

func (s *settings) parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	return s.deferred
}

// databaseURL is shared by every command, so an admin command can run beside a server.
func (s *settings) databaseURL() *string {
	return s.string("database-url", "PEOPLEGRAPH_DATABASE_URL", "",
		"postgres:// URL, or file:PATH / sqlite:PATH for SQLite; empty: SQLite file ./peoplegraph.db")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// intEnv reads an integer default from the environment; a malformed value is reported by
// validation as the flag's value would be.
func intEnv(env environment, name string, def int) int {
	if v := env.getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return -1
	}
	return def
}
