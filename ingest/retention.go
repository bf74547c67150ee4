package ingest

import (
	"context"
	"time"

	"github.com/peoplegraph/peoplegraph/ent/processedmessage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// DedupWindow is how long a messageId is remembered. Segment's own window is about a
// day; the contract promises at least seven.
const DedupWindow = 8 * 24 * time.Hour

// PruneMessageIDs forgets the message ids received before cutoff, in every app, and
// returns how many. Deleting in slices keeps each transaction short.
func (s *Service) PruneMessageIDs(ctx context.Context, cutoff time.Time) (int, error) {
	ctx = viewer.SystemContext(ctx)
	total := 0
	for {
		ids, err := s.db.Client.ProcessedMessage.Query().
			Where(processedmessage.ReceivedAtLT(cutoff)).
			Limit(5000).
			IDs(ctx)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		n, err := s.db.Client.ProcessedMessage.Delete().Where(processedmessage.IDIn(ids...)).Exec(ctx)
		total += n
		if err != nil {
			return total, err
		}
	}
}

// RunRetention prunes message ids once an hour until ctx ends.
func (s *Service) RunRetention(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := s.PruneMessageIDs(ctx, s.now().Add(-DedupWindow))
		if err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "prune message ids", "error", err)
		} else if n > 0 {
			s.logger.InfoContext(ctx, "pruned message ids", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
