package ingest

import (
	"context"
	"database/sql"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/storage"
)

// dbtx runs the hand-written statements of a batch inside its Ent transaction. They
// bypass Ent's privacy policies, so every one of them names the app id itself.
type dbtx struct {
	tx      *ent.Tx
	dialect string
}

func (d dbtx) postgres() bool { return d.dialect == dialect.Postgres }

func (d dbtx) rebind(q string) string { return storage.Rebind(d.dialect, q) }

func (d dbtx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := d.tx.ExecContext(ctx, d.rebind(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d dbtx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.tx.QueryContext(ctx, d.rebind(q), args...)
}

// chunks splits n items into runs that keep a statement's parameters under both
// databases' limits.
func chunks(n, perRow int) [][2]int {
	size := 20000 / perRow
	var out [][2]int
	for start := 0; start < n; start += size {
		out = append(out, [2]int{start, min(start+size, n)})
	}
	return out
}
