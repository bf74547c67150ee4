package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ingest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

func TestPrunedMessageIDsAreForgotten(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		app := db.Client.App.Create().SetName("A").SaveX(viewer.SystemContext(ctx))
		ctx = viewer.NewContext(ctx, viewer.Viewer{AppID: app.ID, Role: viewer.RoleSegment})
		svc := ingest.NewService(db, nil)
		msg := ingest.Message{Type: ingest.TypePage, MessageID: "m1", AnonymousID: "a1", Time: time.Now().UTC()}

		if n, err := svc.Write(ctx, app.ID, []ingest.Message{msg}); err != nil || n != 1 {
			t.Fatalf("first write: %d %v", n, err)
		}
		if n, _ := svc.Write(ctx, app.ID, []ingest.Message{msg}); n != 0 {
			t.Fatalf("a remembered id was processed again")
		}
		// Ids younger than the cutoff stay.
		if n, err := svc.PruneMessageIDs(ctx, time.Now().Add(-ingest.DedupWindow)); err != nil || n != 0 {
			t.Fatalf("pruned %d young ids (%v)", n, err)
		}
		if n, err := svc.PruneMessageIDs(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Fatalf("pruned %d (%v)", n, err)
		}
		if n, _ := svc.Write(ctx, app.ID, []ingest.Message{msg}); n != 1 {
			t.Fatalf("a forgotten id was not processed")
		}
	})
}
