// Command peoplegraph runs the profile store and administers it:
//
//	peoplegraph [serve]                   run the server (the default)
//	peoplegraph migrate                   bring the database schema up to date
//	peoplegraph apps create NAME          create an app with an ADMIN and a SEGMENT key
//	peoplegraph keys create --app ID --kind ADMIN|SEGMENT --name NAME
//	peoplegraph keys revoke --app ID KEY_ID
//	peoplegraph healthcheck [--url URL]  exit 0 when the server is ready (for containers)
//
// Every setting is a flag and an environment variable (see --help of each command).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// Ingestion makes short-lived garbage fast on a small live heap: at Go's default
	// (GOGC=100) a third of the process's CPU went to collection in the benchmark. Four
	// times the live heap between collections costs tens of megabytes and frees most of
	// that CPU for the database on the same machine. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "peoplegraph:", err)
		}
		os.Exit(2)
	}
}

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := environment{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-') {
		return serve(ctx, env, args)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, env, rest)
	case "migrate":
		return migrate(ctx, env, rest)
	case "apps":
		return appsCommand(ctx, env, rest)
	case "keys":
		return keysCommand(ctx, env, rest)
	case "bench":
		return benchCommand(ctx, env, rest)
	case "healthcheck":
		return healthcheck(ctx, env, rest)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `usage:
  peoplegraph [serve] [flags]            run the server
  peoplegraph migrate [flags]            bring the database schema up to date
  peoplegraph apps create [--json] NAME  create an app with an ADMIN and a SEGMENT key
  peoplegraph keys create --app ID --kind ADMIN|SEGMENT --name NAME [--json]
  peoplegraph keys revoke --app ID KEY_ID
  peoplegraph healthcheck [--url URL]    exit 0 when the server answers ready
  peoplegraph bench [flags]              measure ingestion against plain SQL (docs/benchmarks.md)
Run a command with -h for its flags.
`

// environment is the process's outside world, replaceable in tests.
type environment struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}
