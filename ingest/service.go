package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/peoplegraph/peoplegraph/storage"
)

// Service writes Segment messages. One call is one transaction: everything it was
// given is stored, or nothing is.
type Service struct {
	db     *storage.DB
	logger *slog.Logger
	now    func() time.Time

	groupOnce sync.Once
	groups    *groupCommitter
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
	claimed, err := s.write(ctx, appID, msgs)
	return len(claimed), err
}

// write runs one transaction and returns the message ids it stored.
func (s *Service) write(ctx context.Context, appID int, msgs []Message) (map[string]bool, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	tx, err := s.db.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	b := &batch{db: dbtx{tx: tx, dialect: s.db.Dialect}, appID: appID, now: s.now().UTC()}
	if _, err := b.write(ctx, msgs); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			s.logger.WarnContext(ctx, "rollback failed", "error", rerr)
		}
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return b.claimed, nil
}
