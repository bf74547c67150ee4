package main

import (
	"context"
	"os"
	"slices"

	"github.com/peoplegraph/peoplegraph/bench"
)

// benchCommand measures ingestion against plain SQL on the configured database.
func benchCommand(ctx context.Context, env environment, args []string) error {
	s := newSettings("bench", env)
	dbURL := s.databaseURL()
	duration := s.duration("duration", "PEOPLEGRAPH_BENCH_DURATION", 10e9, "length of each phase")
	senders := s.fs.Int("senders", 4, "concurrent batch senders")
	batchSize := s.fs.Int("batch-size", 100, "messages per batch")
	singles := s.fs.Int("single-senders", 64, "concurrent single-call senders")
	users := s.fs.Int("users", 10000, "users the messages are drawn from")
	phases := s.fs.String("phases", "batch,single,sql", "comma-separated phases to run: batch, single, sql (ingestion and its baseline), segments (seeds a dataset, then times segment counts)")
	segUsers := s.fs.Int("segment-users", 0, "users of the segments phase's dataset (default 1,000,000 on PostgreSQL, 20,000 on SQLite)")
	segEvents := s.fs.Int("segment-events-per-user", 10, "event occurrences per user in the segments phase's dataset")
	segRuns := s.fs.Int("segment-runs", 20, "timed runs of each segment count")
	cpuProfile := s.fs.String("cpuprofile", "", "write a CPU profile of the run (server and load generator) to this file")
	if err := s.parse(args); err != nil {
		return err
	}
	list := splitList(*phases)
	var ingestPhases []string
	for _, p := range list {
		if p != "segments" {
			ingestPhases = append(ingestPhases, p)
		}
	}
	if len(ingestPhases) > 0 {
		cfg := bench.Config{
			DatabaseURL: *dbURL, Duration: *duration, Senders: *senders, BatchSize: *batchSize,
			SingleSenders: *singles, Users: *users, Out: env.stdout, Phases: ingestPhases,
		}
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			cfg.CPUProfile = f
		}
		if err := bench.Run(ctx, cfg); err != nil {
			return err
		}
	}
	if slices.Contains(list, "segments") {
		figures, err := bench.RunSegments(ctx, bench.SegmentConfig{
			DatabaseURL: *dbURL, Users: *segUsers, EventsPerUser: *segEvents, Runs: *segRuns, Out: env.stdout,
		})
		if err != nil {
			return err
		}
		bench.PrintQueries(env.stdout, figures)
	}
	return nil
}
