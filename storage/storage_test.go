package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// TestOptimizeGivesSQLiteStatistics: after Optimize, SQLite's planner has statistics for
// a table with rows (without them it picked a per-user scan for "no event in 7 days");
// on PostgreSQL, where autovacuum keeps them, it is a no-op that succeeds.
func TestOptimizeGivesSQLiteStatistics(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		app, err := apps.Create(ctx, db.Client, "optimize", apps.Secrets{})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for i := range 200 {
			if _, err := db.SQL.ExecContext(ctx, storage.Rebind(db.Dialect, `INSERT INTO users (app_id, user_id, attributes, page_views, created_at, updated_at)
				VALUES (?, ?, '{}', 0, ?, ?)`), app.App.ID, fmt.Sprintf("u%d", i), now, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		if db.Dialect != "sqlite3" {
			return
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'users'`).Scan(&n); err != nil {
			t.Fatalf("no statistics table after Optimize: %v", err)
		}
		if n == 0 {
			t.Error("Optimize left the users table without statistics")
		}
	})
}
