package bench

import (
	"bytes"
	"context"
	"database/sql"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
)

// TestRunSegments runs the segment-query phase at a small scale on each dialect: every
// filter must select some users, and RunSegments itself fails when the GraphQL count and
// the hand-written SQL count of a filter differ.
func TestRunSegments(t *testing.T) {
	for _, d := range dbtest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			const users = 400
			var out bytes.Buffer
			figures, err := RunSegments(context.Background(), SegmentConfig{
				DatabaseURL: dbtest.URL(t, d), Users: users, EventsPerUser: 10, Runs: 3, Out: &out,
			})
			if err != nil {
				t.Fatalf("RunSegments: %v\n%s", err, out.String())
			}
			if len(figures) != len(segQueries) {
				t.Fatalf("%d figures, want %d", len(figures), len(segQueries))
			}
			for _, f := range figures {
				if f.Users != users || f.Matched <= 0 || f.Matched >= users {
					t.Errorf("%s: %d of %d users matched; want some but not all of %d", f.Name, f.Matched, f.Users, users)
				}
				if f.P50ms <= 0 || f.SQLP50ms <= 0 || f.P95ms < f.P50ms || f.SQLP95ms < f.SQLP50ms || f.Dialect == "" {
					t.Errorf("%s: implausible figure %+v", f.Name, f)
				}
			}
			PrintQueries(&out, figures)
			t.Log("\n" + out.String())
		})
	}
}

// TestRunSegmentsFull is the full-scale run on PostgreSQL, by hand only:
//
//	PEOPLEGRAPH_BENCH_SEGMENTS_FULL=1 go test -run Full -v -timeout 60m ./bench/
//
// It seeds a fresh schema "segbench" of the database PEOPLEGRAPH_BENCH_SEGMENTS_URL
// (default: bench_segments on the local server; create it first) and leaves it there
// for EXPLAIN. PEOPLEGRAPH_BENCH_SEGMENTS_USERS changes the scale (default 1,000,000).
func TestRunSegmentsFull(t *testing.T) {
	if os.Getenv("PEOPLEGRAPH_BENCH_SEGMENTS_FULL") == "" {
		t.Skip("set PEOPLEGRAPH_BENCH_SEGMENTS_FULL=1 for the full-scale run")
	}
	admin := os.Getenv("PEOPLEGRAPH_BENCH_SEGMENTS_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/bench_segments?sslmode=disable"
	}
	users := 1_000_000
	if v := os.Getenv("PEOPLEGRAPH_BENCH_SEGMENTS_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("PEOPLEGRAPH_BENCH_SEGMENTS_USERS: %v", err)
		}
		users = n
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP SCHEMA IF EXISTS segbench CASCADE`, `CREATE SCHEMA segbench`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "segbench")
	u.RawQuery = q.Encode()

	figures, err := RunSegments(context.Background(), SegmentConfig{DatabaseURL: u.String(), Users: users, Out: os.Stdout})
	if err != nil {
		t.Fatal(err)
	}
	PrintQueries(os.Stdout, figures)
}
