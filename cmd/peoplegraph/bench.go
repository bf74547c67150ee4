package main

import (
	"context"
	"os"

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
	phases := s.fs.String("phases", "", "comma-separated phases to run (batch, single, sql); all when empty")
	cpuProfile := s.fs.String("cpuprofile", "", "write a CPU profile of the run (server and load generator) to this file")
	if err := s.parse(args); err != nil {
		return err
	}
	cfg := bench.Config{
		DatabaseURL: *dbURL, Duration: *duration, Senders: *senders, BatchSize: *batchSize,
		SingleSenders: *singles, Users: *users, Out: env.stdout, Phases: splitList(*phases),
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.CPUProfile = f
	}
	return bench.Run(ctx, cfg)
}
