package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/eventoccurrence"
)

// eventStats is what an event definition shows of its occurrences.
type eventStats struct {
	count int
	last  *time.Time
}

// eventStatsOf counts the occurrences of an event definition and finds the latest, for
// every definition of the list it is resolved in at once (one grouped query on the
// occurrences' (app_id, event_definition_id, timestamp) index). The event_definitions
// columns of the same names are not kept up to date by ingestion.
func (r *Resolver) eventStatsOf(ctx context.Context, obj *ent.EventDefinition) (eventStats, error) {
	return loadBatch(ctx, "eventStats", obj.ID, pickEventDefinition, func(ids []int) (map[int]eventStats, error) {
		var rows []struct {
			ID    int    `json:"event_definition_id"`
			Count int    `json:"count"`
			Max   dbTime `json:"max"`
		}
		if err := r.Client.EventOccurrence.Query().
			Where(eventoccurrence.EventDefinitionIDIn(ids...)).
			GroupBy(eventoccurrence.FieldEventDefinitionID).
			Aggregate(ent.Count(), ent.Max(eventoccurrence.FieldTimestamp)).
			Scan(ctx, &rows); err != nil {
			return nil, err
		}
		m := make(map[int]eventStats, len(rows))
		for _, row := range rows {
			m[row.ID] = eventStats{count: row.Count, last: row.Max.t}
		}
		return m, nil
	})
}

func pickEventDefinition(v any) (int, bool) {
	if d, ok := v.(*ent.EventDefinition); ok && d != nil {
		return d.ID, true
	}
	return 0, false
}

// dbTime scans a time an aggregate returns: a time.Time from PostgreSQL, text in
// SQLite's format from SQLite (an aggregate loses the column's declared type).
type dbTime struct{ t *time.Time }

func (d *dbTime) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case nil:
		d.t = nil
		return nil
	case time.Time:
		t := v.UTC()
		d.t = &t
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("time of type %T", v)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			d.t = &t
			return nil
		}
	}
	return fmt.Errorf("unreadable time %q", s)
}
