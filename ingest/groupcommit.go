package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/peoplegraph/peoplegraph/viewer"
)

// A commit costs a disk flush (~0.6 ms here), so one transaction per single call caps
// the server near the disk's flush rate. Group commit lets concurrent small requests of
// one app share a transaction: the first opens a group, others join it; the group is
// written once it is due (groupWait after it opened, or groupMax messages) and one of
// the app's groupSlots is free. While every slot is busy the open group keeps growing,
// so groups get bigger exactly when the database is the bottleneck. Every request is
// answered after the commit that holds its messages. A failure fails every request of
// the group, which is safe: nothing was committed, and each is retried.
const (
	groupWait  = 500 * time.Microsecond
	groupMax   = 500
	groupSlots = 2
	// groupable: requests this small join groups; bigger batches are groups already.
	groupable = 20
)

type commitGroup struct {
	appID   int
	msgs    []Message
	due     bool
	done    chan struct{}
	claimed map[string]bool
	err     error
}

// appGroups is one app's open group and the number of its groups being written.
type appGroups struct {
	open    *commitGroup
	writing int
}

type groupCommitter struct {
	svc  *Service
	mu   sync.Mutex
	apps map[int]*appGroups
}

// WriteGrouped is Write for small requests, through group commit. It returns how many
// of msgs were new.
func (s *Service) WriteGrouped(ctx context.Context, appID int, msgs []Message) (int, error) {
	if len(msgs) > groupable {
		return s.Write(ctx, appID, msgs)
	}
	s.groupOnce.Do(func() { s.groups = &groupCommitter{svc: s, apps: map[int]*appGroups{}} })
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
	a := c.apps[appID]
	if a == nil {
		a = &appGroups{}
		c.apps[appID] = a
	}
	g := a.open
	if g == nil {
		g = &commitGroup{appID: appID, done: make(chan struct{})}
		a.open = g
		time.AfterFunc(groupWait, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			g.due = true
			c.startLocked(a)
		})
	}
	g.msgs = append(g.msgs, msgs...)
	if len(g.msgs) >= groupMax {
		g.due = true
		c.startLocked(a)
	}
	return g
}

// startLocked starts writing the app's open group if it is due and a slot is free.
func (c *groupCommitter) startLocked(a *appGroups) {
	g := a.open
	if g == nil || !g.due || a.writing >= groupSlots {
		return
	}
	a.open = nil
	a.writing++
	go c.write(a, g)
}

func (c *groupCommitter) write(a *appGroups, g *commitGroup) {
	// The group outlives the requests that formed it, so it runs on its own context,
	// bounded, as the app's ingestion viewer.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	ctx = viewer.NewContext(ctx, viewer.Viewer{AppID: g.appID, Role: viewer.RoleSegment})
	g.claimed, g.err = c.svc.write(ctx, g.appID, g.msgs)
	cancel()
	close(g.done)

	c.mu.Lock()
	defer c.mu.Unlock()
	a.writing--
	c.startLocked(a)
	if a.writing == 0 && a.open == nil {
		delete(c.apps, g.appID)
	}
}
