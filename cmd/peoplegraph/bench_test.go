package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/internal/dbtest"
)

// TestBenchCommandMeasuresEveryPhase runs `peoplegraph bench` at a tiny scale: every
// phase prints its JSON line with events written and no errors, and the ratios are there.
func TestBenchCommandMeasuresEveryPhase(t *testing.T) {
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			var stdout, stderr syncBuffer
			env := map[string]string{"PEOPLEGRAPH_DATABASE_URL": dbtest.URL(t, dialect)}
			args := []string{"bench", "--phases", "batch,single,sql,segments", "--duration", "300ms", "--users", "100",
				"--senders", "2", "--single-senders", "4", "--segment-users", "300", "--segment-runs", "1"}
			if err := run(context.Background(), args, &stdout, &stderr, envFunc(env)); err != nil {
				t.Fatalf("bench: %v\n%s\n%s", err, stdout.String(), stderr.String())
			}
			figures := map[string]map[string]any{}
			for _, line := range strings.Split(stdout.String(), "\n") {
				if !strings.HasPrefix(line, "{") {
					continue
				}
				var f map[string]any
				if err := json.Unmarshal([]byte(line), &f); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				figures[f["name"].(string)] = f
			}
			for _, name := range []string{"batch ingestion", "single calls", "plain batched SQL", "plain SQL, commit per message"} {
				f := figures[name]
				if f == nil || f["events"].(float64) <= 0 || f["errors"] != nil {
					t.Errorf("%s: %v", name, f)
				}
			}
			for _, name := range []string{"batch ingestion", "single calls"} {
				if r, _ := figures[name]["ratio"].(float64); r <= 0 {
					t.Errorf("%s has no ratio: %v", name, figures[name])
				}
			}
			segments := 0
			for _, f := range figures {
				if _, ok := f["matched"]; ok {
					segments++
					if f["matched"].(float64) <= 0 || f["sql_p50_ms"].(float64) <= 0 {
						t.Errorf("segment figure: %v", f)
					}
				}
			}
			if segments < 5 {
				t.Errorf("%d segment figures:\n%s", segments, stdout.String())
			}
		})
	}
}
