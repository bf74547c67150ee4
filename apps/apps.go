// Package apps creates tenants: an app with its first ADMIN and SEGMENT keys, and the
// Default app on the first start of an empty database.
package apps

import (
	"context"
	"fmt"

	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/segmentation"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// DefaultAppName is the app the first start creates.
const DefaultAppName = "Default"

// Created is a new app and the secrets of its first keys, shown once.
type Created struct {
	App           *ent.App
	AdminSecret   string
	SegmentSecret string
}

// Secrets fix the secrets of an app's first keys; empty ones are generated.
type Secrets struct {
	Admin   string
	Segment string
}

// Create makes an app with one ADMIN and one SEGMENT key and the default segments
// (Active, New, With email, Slipping away), in one transaction.
func Create(ctx context.Context, client *ent.Client, name string, secrets Secrets) (*Created, error) {
	ctx = viewer.SystemContext(ctx)
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	created, err := create(ctx, tx.Client(), name, secrets)
	if err != nil {
		return nil, rollback(tx, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit app: %w", err)
	}
	created.App = created.App.Unwrap()
	return created, nil
}

func create(ctx context.Context, client *ent.Client, name string, secrets Secrets) (*Created, error) {
	app, err := client.App.Create().SetName(name).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create app: %w", err)
	}
	admin, err := auth.CreateKey(ctx, client, app.ID, apikey.KindADMIN, "Admin", secrets.Admin)
	if err != nil {
		return nil, err
	}
	segment, err := auth.CreateKey(ctx, client, app.ID, apikey.KindSEGMENT, "Segment", secrets.Segment)
	if err != nil {
		return nil, err
	}
	for _, d := range segmentation.Defaults() {
		tree, err := d.Filter.Map()
		if err != nil {
			return nil, err
		}
		if err := client.Segment.Create().SetAppID(app.ID).SetName(d.Name).SetDescription(d.Description).
			SetFilterTree(tree).SetBuiltin(true).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create segment %q: %w", d.Name, err)
		}
	}
	return &Created{App: app, AdminSecret: admin.Secret, SegmentSecret: segment.Secret}, nil
}

// Bootstrap creates the Default app when the database has no app yet, and returns nil
// otherwise. Several servers starting at once on one empty database could each create
// one; that race is accepted for a first start (run `peoplegraph migrate` first to avoid it).
func Bootstrap(ctx context.Context, client *ent.Client, secrets Secrets) (*Created, error) {
	exists, err := client.App.Query().Exist(viewer.SystemContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("look for apps: %w", err)
	}
	if exists {
		return nil, nil
	}
	return Create(ctx, client, DefaultAppName, secrets)
}

func rollback(tx *ent.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil {
		return fmt.Errorf("%w (rollback: %v)", err, rerr)
	}
	return err
}
