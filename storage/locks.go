package storage

import (
	"context"
	"database/sql"
	"hash/fnv"
	"strconv"

	"entgo.io/ent/dialect"
)

// execer is what a transaction offers (an *ent.Tx or a *sql.Tx).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// LockDefinitions serializes writes that type attribute values with changes of the
// attribute definitions of an app, for the rest of the transaction. Ingestion takes it
// shared (batches do not wait for each other); a type change takes it exclusive, so no
// value is written by a type that is being changed. It is a PostgreSQL advisory lock,
// which writes nothing to the rows; SQLite has one writer at a time anyway.
func LockDefinitions(ctx context.Context, tx execer, dia string, appID int, shared bool) error {
	if dia != dialect.Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte("attribute-definitions:" + strconv.Itoa(appID)))
	fn := "pg_advisory_xact_lock"
	if shared {
		fn = "pg_advisory_xact_lock_shared"
	}
	_, err := tx.ExecContext(ctx, "SELECT "+fn+"($1)", int64(h.Sum64()))
	return err
}
