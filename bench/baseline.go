package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/peoplegraph/peoplegraph/storage"
)

// baseline writes the rows ingestion writes for the same mix — message ids, page views,
// occurrences, the counters of the users — with plain multi-row SQL in one transaction
// per call, and nothing else: no decoding, identity resolution or typing. It is the
// ceiling ingestion is compared with.
type baseline struct {
	db    *storage.DB
	appID int
	gen   *generator

	once    sync.Once
	users   []int64
	eventID int64
	err     error
}

func (b *baseline) load(ctx context.Context) error {
	b.once.Do(func() {
		rows, err := b.db.SQL.QueryContext(ctx, b.rebind(`SELECT id FROM users WHERE app_id = ?`), b.appID)
		if err != nil {
			b.err = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			b.users = append(b.users, id)
		}
		// The ingestion phases may not have run: the baseline brings its own event.
		now := time.Now().UTC()
		if _, b.err = b.db.SQL.ExecContext(ctx, b.rebind(`INSERT INTO event_definitions (app_id, name, occurrences, created_at, updated_at)
			VALUES (?, ?, 0, ?, ?) ON CONFLICT DO NOTHING`), b.appID, eventNames[0], now, now); b.err != nil {
			return
		}
		b.err = b.db.SQL.QueryRowContext(ctx, b.rebind(`SELECT id FROM event_definitions WHERE app_id = ? AND name = ?`), b.appID, eventNames[0]).Scan(&b.eventID)
	})
	return b.err
}

func (b *baseline) rebind(q string) string { return storage.Rebind(b.db.Dialect, q) }

func (b *baseline) batch(ctx context.Context, n int) error {
	if err := b.load(ctx); err != nil {
		return err
	}
	now := time.Now().UTC()
	var ids, pages, tracks []any
	var touched []int64
	var pageRows, trackRows int
	for range n {
		user := b.users[rand.IntN(len(b.users))]
		msgID := b.gen.id()
		ids = append(ids, b.appID, msgID, now)
		switch b.gen.pickType() {
		case "page":
			pages = append(pages, b.appID, user, "PAGE", "https://example.com/pricing", `{"referrer":"https://google.com/"}`, now, msgID, now)
			pageRows++
			touched = append(touched, user)
		case "track":
			tracks = append(tracks, b.appID, user, b.eventID, "Event 00", `{"value":1,"currency":"EUR"}`, now, msgID, now)
			trackRows++
		default:
			touched = append(touched, user)
		}
	}
	tx, err := b.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, b.rebind(q), args...)
		return err
	}
	if err := exec(`INSERT INTO processed_messages (app_id, message_id, received_at) VALUES `+storage.Placeholders(n, 3), ids...); err != nil {
		return err
	}
	if pageRows > 0 {
		if err := exec(`INSERT INTO page_views (app_id, user_id, kind, url, properties, timestamp, message_id, received_at) VALUES `+storage.Placeholders(pageRows, 8), pages...); err != nil {
			return err
		}
	}
	if trackRows > 0 {
		if err := exec(`INSERT INTO event_occurrences (app_id, user_id, event_definition_id, name, properties, timestamp, message_id, received_at) VALUES `+storage.Placeholders(trackRows, 8), tracks...); err != nil {
			return err
		}
	}
	if len(touched) > 0 {
		// Sorted and once each, as a careful hand-written writer does (and ingestion
		// does): concurrent batches then lock shared user rows in one order and cannot
		// deadlock.
		slices.Sort(touched)
		touched = slices.Compact(touched)
		args := []any{now, b.appID}
		for _, id := range touched {
			args = append(args, id)
		}
		if err := exec(`UPDATE users SET page_views = page_views + 1, last_seen = ? WHERE app_id = ? AND id IN (`+
			storage.List(len(touched))+`)`, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
