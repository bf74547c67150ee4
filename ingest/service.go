package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/peoplegraph/peoplegraph/storage"
)

// Service writes Segment messages. One call is one transaction: everything it was
// given is stored, or nothing is.
type Service struct {
	db     *storage.DB
	logger *slog.Logger
	now    func() time.Time
}

// NewService returns a Service over db.
func NewService(db *storage.DB, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{db: db, logger: logger, now: time.Now}
}

// Write stores msgs for the app of the viewer in ctx, and returns how many of them were
// new; the others had been stored before and changed nothing. It returns only after
// the commit.
func (s *Service) Write(ctx context.Context, appID int, msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	tx, err := s.db.Client.Tx(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	b := &batch{db: dbtx{tx: tx, dialect: s.db.Dialect}, appID: appID, now: s.now().UTC()}
	n, err := b.write(ctx, msgs)
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			s.logger.WarnContext(ctx, "rollback failed", "error", rerr)
		}
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return n, nil
}
