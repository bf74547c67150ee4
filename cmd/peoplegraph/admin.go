package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/auth"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/viewer"
)

func migrate(ctx context.Context, env environment, args []string) error {
	s := newSettings("migrate", env)
	dbURL := s.databaseURL()
	if err := s.parse(args); err != nil {
		return err
	}
	db, err := openAndMigrate(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(env.stdout, "schema of %s is up to date\n", db.Dialect)
	return nil
}

func appsCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: peoplegraph apps create [--json] NAME")
	}
	s := newSettings("apps create", env)
	dbURL := s.databaseURL()
	asJSON := s.fs.Bool("json", false, "print JSON instead of shell lines")
	if err := s.parse(args[1:]); err != nil {
		return err
	}
	name := strings.TrimSpace(strings.Join(s.fs.Args(), " "))
	if name == "" {
		return errors.New("usage: peoplegraph apps create [--json] NAME")
	}
	db, err := openAndMigrate(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	created, err := apps.Create(ctx, db.Client, name, apps.Secrets{})
	if err != nil {
		return err
	}
	return printValues(env, *asJSON, [][2]string{
		{"PEOPLEGRAPH_APP_ID", strconv.Itoa(created.App.ID)},
		{"PEOPLEGRAPH_ADMIN_KEY", created.AdminSecret},
		{"PEOPLEGRAPH_SEGMENT_KEY", created.SegmentSecret},
	})
}

func keysCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: peoplegraph keys create|revoke ...")
	}
	s := newSettings("keys "+args[0], env)
	dbURL := s.databaseURL()
	appID := s.fs.Int("app", 0, "app id")
	switch args[0] {
	case "create":
		kind := s.fs.String("kind", "", "ADMIN or SEGMENT")
		name := s.fs.String("name", "", "a name to tell the key apart")
		asJSON := s.fs.Bool("json", false, "print JSON instead of shell lines")
		if err := s.parse(args[1:]); err != nil {
			return err
		}
		k := apikey.Kind(strings.ToUpper(*kind))
		if err := apikey.KindValidator(k); err != nil || *appID == 0 || *name == "" {
			return errors.New("usage: peoplegraph keys create --app ID --kind ADMIN|SEGMENT --name NAME")
		}
		db, err := openAndMigrate(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		created, err := auth.CreateKey(viewer.SystemContext(ctx), db.Client, *appID, k, *name, "")
		if err != nil {
			return err
		}
		return printValues(env, *asJSON, [][2]string{
			{"PEOPLEGRAPH_KEY_ID", strconv.Itoa(created.Key.ID)},
			{"PEOPLEGRAPH_" + string(k) + "_KEY", created.Secret},
		})
	case "revoke":
		if err := s.parse(args[1:]); err != nil {
			return err
		}
		keyID, err := strconv.Atoi(s.fs.Arg(0))
		if err != nil || *appID == 0 || s.fs.NArg() != 1 {
			return errors.New("usage: peoplegraph keys revoke --app ID KEY_ID")
		}
		db, err := openAndMigrate(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		// Acting as the app's viewer scopes the update to the app named on the command line.
		appCtx := viewer.NewContext(ctx, viewer.Viewer{AppID: *appID, Role: viewer.RoleAdmin})
		n, err := db.Client.ApiKey.Update().
			Where(apikey.ID(keyID), apikey.RevokedAtIsNil()).
			SetRevokedAt(time.Now().UTC()).
			Save(appCtx)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no live key %d in app %d", keyID, *appID)
		}
		fmt.Fprintf(env.stdout, "revoked key %d of app %d\n", keyID, *appID)
		return nil
	default:
		return fmt.Errorf("unknown keys command %q", args[0])
	}
}

// printValues prints NAME=value lines a shell can eval, or one JSON object.
func printValues(env environment, asJSON bool, kv [][2]string) error {
	if asJSON {
		m := make(map[string]string, len(kv))
		for _, p := range kv {
			m[p[0]] = p[1]
		}
		return json.NewEncoder(env.stdout).Encode(m)
	}
	for _, p := range kv {
		fmt.Fprintf(env.stdout, "%s=%s\n", p[0], p[1])
	}
	return nil
}
