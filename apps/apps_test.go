package apps_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/ent/migrate"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

func TestBootstrapCreatesDefaultAppOnce(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		created, err := apps.Bootstrap(ctx, db.Client, apps.Secrets{})
		if err != nil || created == nil {
			t.Fatalf("bootstrap: %v %v", created, err)
		}
		if created.App.Name != apps.DefaultAppName {
			t.Fatalf("app %q", created.App.Name)
		}
		for _, s := range []string{created.AdminSecret, created.SegmentSecret} {
			// 32 random bytes in base64 after a 4-character kind prefix.
			if len(s) < 4+43 {
				t.Fatalf("secret too short: %d", len(s))
			}
		}
		authn := auth.NewAuthenticator(db.Client, 0)
		if v, err := authn.Authenticate(ctx, created.AdminSecret, apikey.KindADMIN); err != nil || v.AppID != created.App.ID {
			t.Fatalf("admin key: %+v %v", v, err)
		}
		if v, err := authn.Authenticate(ctx, created.SegmentSecret, apikey.KindSEGMENT); err != nil || v.AppID != created.App.ID {
			t.Fatalf("segment key: %+v %v", v, err)
		}
		again, err := apps.Bootstrap(ctx, db.Client, apps.Secrets{})
		if err != nil || again != nil {
			t.Fatalf("second bootstrap: %v %v", again, err)
		}
		if n := db.Client.App.Query().CountX(viewer.SystemContext(ctx)); n != 1 {
			t.Fatalf("%d apps", n)
		}
		assertNowhereInDatabase(t, db, created.AdminSecret, created.SegmentSecret)
	})
}

func TestBootstrapWithFixedSecrets(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		admin, segment := "admin-secret-fixed-by-env-000001", "segment-secret-fixed-by-env-0001"
		created, err := apps.Bootstrap(ctx, db.Client, apps.Secrets{Admin: admin, Segment: segment})
		if err != nil {
			t.Fatal(err)
		}
		if created.AdminSecret != admin || created.SegmentSecret != segment {
			t.Fatal("fixed secrets not used")
		}
		authn := auth.NewAuthenticator(db.Client, 0)
		if _, err := authn.Authenticate(ctx, admin, apikey.KindADMIN); err != nil {
			t.Fatal(err)
		}
		if _, err := authn.Authenticate(ctx, segment, apikey.KindADMIN); err == nil {
			t.Fatal("a SEGMENT key authenticated as ADMIN")
		}
		assertNowhereInDatabase(t, db, admin, segment)
	})
}

// assertNowhereInDatabase reads every column of every row of every table as text.
func assertNowhereInDatabase(t *testing.T, db *storage.DB, secrets ...string) {
	t.Helper()
	for _, table := range migrate.Tables {
		rows, err := db.SQL.Query(fmt.Sprintf(`SELECT * FROM %s`, table.Name))
		if err != nil {
			t.Fatalf("%s: %v", table.Name, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				for _, s := range secrets {
					if strings.Contains(string(v), s) {
						t.Fatalf("secret found in %s.%s", table.Name, cols[i])
					}
				}
			}
		}
		rows.Close()
	}
}

func TestCreateRefusesShortFixedSecretAtomically(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := apps.Create(ctx, db.Client, "Weak", apps.Secrets{Admin: "short"}); err == nil {
			t.Fatal("a short fixed secret was accepted")
		}
		if n := db.Client.App.Query().CountX(viewer.SystemContext(ctx)); n != 0 {
			t.Fatalf("%d apps left behind by a failed create", n)
		}
	})
}
