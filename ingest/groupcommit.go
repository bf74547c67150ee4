package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/peoplegraph/peoplegraph/viewer"
)

// A commit costs a disk flush (~0.6 ms here), so one transaction per single call caps
// the server near the disk's flush rate. Group commit lets concurrent small requests of
// one app share a transaction: the first opens a group, others join it for up to
// groupWait or until it holds groupMax messages, then one transaction writes them all
// and every request is answered after that commit. A failure fails every request of the
// group, which is safe: nothing was committed, and each is retried.
const (
	groupWait = 2 * time.Millisecond
	groupMax  = 500
	// groupable: requests this small join groups; bigger batches are groups already.
	groupable = 20
)

type commitGroup struct {
	appID   int
	msgs    []Message
	done    chan struct{}
	claimed map[string]bool
	err     error
}

type groupCommitter struct {
	svc     *Service
	mu      sync.Mutex
	pending map[int]*commitGroup
}

// WriteGrouped is Write for small requests, through group commit. It returns how many
// of msgs were new.
func (s *Service) WriteGrouped(ctx context.Context, appID int, msgs []Message) (int, error) {
	if len(msgs) > groupable {
		return s.Write(ctx, appID, msgs)
	}
	s.groupOnce.Do(func() { s.groups = &groupCommitter{svc: s, pending: map[int]*commitGroup{}} })
	g := s.groups.join(appID, msgs)
	select {
	case <-g.done:
	case <-ctx.Done():
		// The group may still commit this request's messages; the client's retry is
		// then a duplicate, which changes nothing.
		return 0, ctx.Err()
	}
	if g.err != nil {
		return 0, g.err
	}
	n := 0
	for _, m := range msgs {
		if g.claimed[m.MessageID] {
			n++
		}
	}
	return n, nil
}

func (c *groupCommitter) join(appID int, msgs []Message) *commitGroup {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.pending[appID]
	if g == nil {
		g = &commitGroup{appID: appID, done: make(chan struct{})}
		c.pending[appID] = g
		time.AfterFunc(groupWait, func() { c.flush(g) })
	}
	g.msgs = append(g.msgs, msgs...)
	if len(g.msgs) >= groupMax {
		go c.flush(g)
	}
	return g
}

// flush writes a group once, whoever calls it first (the timer or a full group).
func (c *groupCommitter) flush(g *commitGroup) {
	c.mu.Lock()
	if c.pending[g.appID] != g {
		c.mu.Unlock()
		return
	}
	delete(c.pending, g.appID)
	c.mu.Unlock()
	// The group outlives the requests that formed it, so it runs on its own context,
	// bounded, as the app's ingestion viewer.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = viewer.NewContext(ctx, viewer.Viewer{AppID: g.appID, Role: viewer.RoleSegment})
	g.claimed, g.err = c.svc.write(ctx, g.appID, g.msgs)
	close(g.done)
}
