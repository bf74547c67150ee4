package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

func TestRevocationIsSeenWithinTheCacheTTL(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		_, segment := newApp(t, db)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		a := NewAuthenticator(db.Client, 2*time.Second)
		a.now = func() time.Time { return now }

		v, err := a.Authenticate(ctx, segment, apikey.KindSEGMENT)
		if err != nil || v.Role != viewer.RoleSegment {
			t.Fatalf("%+v %v", v, err)
		}
		db.Client.ApiKey.UpdateOneID(v.KeyID).SetRevokedAt(now).ExecX(viewer.SystemContext(ctx))

		now = now.Add(2500 * time.Millisecond)
		if _, err := a.Authenticate(ctx, segment, apikey.KindSEGMENT); !errors.Is(err, ErrRevokedKey) {
			t.Fatalf("after the TTL: %v", err)
		}
	})
}

func TestLastUsedAtIsWrittenCoarsely(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		admin, _ := newApp(t, db)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		a := NewAuthenticator(db.Client, time.Nanosecond)
		a.now = func() time.Time { return now }
		lastUsed := func(id int) time.Time {
			k := db.Client.ApiKey.GetX(viewer.SystemContext(ctx), id)
			if k.LastUsedAt == nil {
				return time.Time{}
			}
			return k.LastUsedAt.UTC()
		}
		v, err := a.Authenticate(ctx, admin, apikey.KindADMIN)
		if err != nil {
			t.Fatal(err)
		}
		first := lastUsed(v.KeyID)
		if !first.Equal(now) {
			t.Fatalf("first use: %v", first)
		}
		now = now.Add(30 * time.Second)
		a.Authenticate(ctx, admin, apikey.KindADMIN)
		if got := lastUsed(v.KeyID); !got.Equal(first) {
			t.Fatalf("rewritten within a minute: %v", got)
		}
		now = now.Add(31 * time.Second)
		a.Authenticate(ctx, admin, apikey.KindADMIN)
		if got := lastUsed(v.KeyID); !got.Equal(now) {
			t.Fatalf("not rewritten after a minute: %v", got)
		}
	})
}

func TestSecretsAndHashes(t *testing.T) {
	s1, _ := NewSecret(apikey.KindADMIN)
	s2, _ := NewSecret(apikey.KindSEGMENT)
	if s1 == s2 || s1[:4] != "pga_" || s2[:4] != "pgs_" {
		t.Fatalf("%q %q", s1, s2)
	}
	if Hash(s1) == Hash(s2) || len(Hash(s1)) != 64 {
		t.Fatal("hash")
	}
	if p := DisplayPrefix(s1); len(p) != prefixLength || s1[:prefixLength] != p {
		t.Fatalf("prefix %q", p)
	}
}

func newApp(t *testing.T, db *storage.DB) (admin, segment string) {
	ctx := viewer.SystemContext(context.Background())
	app := db.Client.App.Create().SetName("A").SaveX(ctx)
	a, err := CreateKey(ctx, db.Client, app.ID, apikey.KindADMIN, "admin", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := CreateKey(ctx, db.Client, app.ID, apikey.KindSEGMENT, "segment", "")
	if err != nil {
		t.Fatal(err)
	}
	return a.Secret, s.Secret
}
