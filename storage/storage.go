// Package storage opens the database a URL names — an embedded SQLite file or
// PostgreSQL — and migrates the Ent schema on it.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // PostgreSQL driver, registered as "postgres".
	_ "modernc.org/sqlite" // SQLite driver without cgo, registered as "sqlite".

	"github.com/peoplegraph/peoplegraph/ent"
	_ "github.com/peoplegraph/peoplegraph/ent/runtime" // privacy policies and hooks
)

// DefaultURL is used when no database URL is configured: a SQLite file in the
// working directory.
const DefaultURL = "file:peoplegraph.db"

// DB is an open database: the Ent client over it, and the pool underneath for health
// checks, metrics and the ingest path's batched statements.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
}

// Options tune the pool.
type Options struct {
	MaxOpenConns int
	// Driver wraps the Ent driver, for example to count queries in tests.
	Driver func(dialect.Driver) dialect.Driver
}

// Open connects to url: postgres:// or postgresql:// for PostgreSQL; file:, sqlite: or a
// plain path for SQLite.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	driverName, dsn, dia, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dia, err)
	}
	switch dia {
	case dialect.SQLite:
		// SQLite has one writer; a bigger pool only turns waiting into SQLITE_BUSY.
		db.SetMaxOpenConns(1)
	default:
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 16
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", dia, err)
	}
	var drv dialect.Driver = entsql.OpenDB(dia, db)
	if opts.Driver != nil {
		drv = opts.Driver(drv)
	}
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: dia}, nil
}

// Migrate brings the schema up to date. It is safe to run on every start.
func (d *DB) Migrate(ctx context.Context) error {
	if err := d.Client.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if d.Dialect == dialect.Postgres {
		for _, stmt := range postgresOnlyIndexes {
			if _, err := d.SQL.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
	}
	return nil
}

// postgresOnlyIndexes serve segmentation filters on PostgreSQL (docs/segments.md): GIN
// indexes answer attribute equality and FIXED membership (attributes @> {key: value}).
// Ent's schema cannot say "PostgreSQL only", and on SQLite such an index would only slow
// writes; Ent's migration leaves indexes it does not know alone.
var postgresOnlyIndexes = []string{
	`CREATE INDEX IF NOT EXISTS users_attributes_gin ON users USING gin (attributes jsonb_path_ops)`,
	`CREATE INDEX IF NOT EXISTS companies_attributes_gin ON companies USING gin (attributes jsonb_path_ops)`,
}

// Optimize refreshes the query planner's statistics where they are stale. PostgreSQL's
// autovacuum does this by itself; SQLite never does, and without statistics it chooses
// indexes by their shape alone (for "did not do an event in the last 7 days" it scanned
// the event's recent occurrences once per user). SQLite's own advice is to run
// PRAGMA optimize when a connection opens and every few hours; the analysis limit keeps
// each run to milliseconds on large tables.
func (d *DB) Optimize(ctx context.Context) error {
	if d.Dialect != dialect.SQLite {
		return nil
	}
	for _, pragma := range []string{"PRAGMA analysis_limit = 1000", "PRAGMA optimize = 0x10002"} {
		if _, err := d.SQL.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("%s: %w", pragma, err)
		}
	}
	return nil
}

// Close closes the client and the pool.
func (d *DB) Close() error {
	return errors.Join(d.Client.Close(), d.SQL.Close())
}

func parse(raw string) (driverName, dsn, dia string, err error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return "postgres", raw, dialect.Postgres, nil
	case strings.HasPrefix(raw, "sqlite:"):
		return sqliteDSN(strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//"))
	case strings.HasPrefix(raw, "file:"):
		return sqliteDSN(strings.TrimPrefix(raw, "file:"))
	case strings.Contains(raw, "://"):
		return "", "", "", fmt.Errorf("database URL: unsupported scheme in %q (want postgres://, file: or sqlite:)", Redact(raw))
	default:
		return sqliteDSN(raw)
	}
}

// sqliteDSN adds the pragmas modernc needs: foreign keys (Ent's migration requires
// them), WAL and a busy timeout for concurrent readers, synchronous=FULL so that a
// commit answered 2xx survives a power loss too (NORMAL may lose the last ones), and a
// time format that sorts and works with SQLite's date functions.
func sqliteDSN(pathAndQuery string) (string, string, string, error) {
	path, query, _ := strings.Cut(pathAndQuery, "?")
	if path == "" {
		return "", "", "", errors.New("database URL: empty SQLite path")
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", "", "", fmt.Errorf("database URL: %w", err)
	}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)"} {
		values.Add("_pragma", p)
	}
	values.Set("_time_format", "sqlite")
	return "sqlite", "file:" + path + "?" + values.Encode(), dialect.SQLite, nil
}

// Redact hides a password in a URL so it can be logged or shown in an error.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Placeholders returns "(?, ?, …), (…)": rows of n values for a multi-row INSERT.
func Placeholders(rows, n int) string {
	one := "(" + List(n) + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// List returns "?, ?, …" for n values, as in IN (…).
func List(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Rebind turns the ? placeholders of a hand-written statement into PostgreSQL's $n.
// Statements are written once, with ?, for both dialects.
func Rebind(dia, q string) string {
	if dia != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
