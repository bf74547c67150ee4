// Package dbtest gives tests a fresh, migrated database per dialect: SQLite always, and
// PostgreSQL too when PEOPLEGRAPH_TEST_DATABASE_URL is set. One test list, two dialects.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/peoplegraph/peoplegraph/storage"
)

const (
	// EnvURL names a PostgreSQL server (an admin URL; each test gets its own schema).
	EnvURL = "PEOPLEGRAPH_TEST_DATABASE_URL"
	// EnvRequirePostgres makes a missing EnvURL fail the test instead of leaving
	// PostgreSQL out, so CI cannot pass with the PostgreSQL suite silently skipped.
	EnvRequirePostgres = "PEOPLEGRAPH_TEST_REQUIRE_POSTGRES"
)

// Dialects returns the dialects this run covers.
func Dialects(t testing.TB) []string {
	d := []string{"sqlite"}
	if os.Getenv(EnvURL) != "" {
		d = append(d, "postgres")
	} else if os.Getenv(EnvRequirePostgres) != "" {
		t.Fatalf("%s is set but %s is not", EnvRequirePostgres, EnvURL)
	}
	return d
}

// Run runs fn as a subtest per dialect ("sqlite", "postgres"), each with a fresh
// migrated database that is removed when the subtest ends.
func Run(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(d, func(t *testing.T) {
			fn(t, Open(t, d, storage.Options{}))
		})
	}
}

// Open returns a fresh migrated database of dialect.
func Open(t testing.TB, dialect string, opts storage.Options) *storage.DB {
	t.Helper()
	u := URL(t, dialect)
	db, err := storage.Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", dialect, err)
	}
	return db
}

// URL returns the URL of a fresh, empty database of dialect: a file in the test's temp
// dir, or a new schema on the PostgreSQL server (dropped at cleanup).
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return "file:" + filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		return postgresSchema(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
		return ""
	}
}

func postgresSchema(t testing.TB) string {
	admin := os.Getenv(EnvURL)
	if admin == "" {
		t.Fatalf("%s is not set", EnvURL)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	// lib/pq passes unknown parameters on as run-time settings.
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
