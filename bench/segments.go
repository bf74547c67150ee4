package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/apps"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/server"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// SegmentConfig is what the segment-query phase measures.
type SegmentConfig struct {
	DatabaseURL string
	// Users of the measured app (default 1,000,000 on PostgreSQL, 20,000 on SQLite). A
	// second app with a tenth of them is seeded beside it, so that every query has to
	// filter by app.
	Users int
	// EventsPerUser is the number of event occurrences per user (default 10).
	EventsPerUser int
	// Runs is the number of timed repetitions per filter, after 2 warm-up runs (default 20).
	Runs int
	// Out receives progress lines (default os.Stdout); print the figures with PrintQueries.
	Out io.Writer
}

// QueryFigure is one filter's measurement: the users GraphQL query (round trip over
// loopback) and the hand-written SQL count of the same users.
type QueryFigure struct {
	Name     string  `json:"name"`
	Dialect  string  `json:"dialect"`
	Users    int64   `json:"users"`   // users of the measured app
	Matched  int64   `json:"matched"` // users the filter selects
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	SQLP50ms float64 `json:"sql_p50_ms"`
	SQLP95ms float64 `json:"sql_p95_ms"`
	Ratio    float64 `json:"ratio"` // P50ms / SQLP50ms
}

// The seeded dataset's shape.
const (
	segPagesPerUser = 2
	segWarmups      = 2
	segPurchased    = "Purchased"
	// Seeded times are T0 − (whole days + a second of the day below 22 h): no value lies
	// within 2 h after a whole number of days before T0, so a "last D days" window, whose
	// start moves with the clock, selects the same rows during the 2 hours after seeding,
	// for the GraphQL query and the hand-written SQL alike.
	segDaySeconds = 86400 - 2*3600
)

// segEvents are the event names; segPurchased is the first.
var segEvents = []string{
	segPurchased, "Logged In", "Viewed Dashboard", "Searched", "Clicked Button", "Opened Email",
	"Viewed Report", "Exported CSV", "Invited Teammate", "Created Project", "Updated Settings",
	"Uploaded File", "Shared Link", "Commented", "Added Integration", "Started Trial",
	"Signed Up", "Cancelled Subscription", "Contacted Support", "Downgraded Plan",
}

// segURLs are the pages viewed, with cumulative percentages.
var segURLs = []struct {
	url, path, title string
	upTo             int
}{
	{"https://example.com/", "/", "Home", 35},
	{"https://example.com/pricing", "/pricing", "Pricing", 50},
	{"https://example.com/docs/getting-started", "/docs/getting-started", "Getting started", 65},
	{"https://example.com/blog/launch", "/blog/launch", "We launched", 80},
	{"https://example.com/features", "/features", "Features", 92},
	{"https://example.com/signup", "/signup", "Sign up", 100},
}

// segQuery is one representative filter: its GraphQL input and the SQL a person would
// write by hand for the same users, with ? placeholders (rebound for PostgreSQL); sqlite
// is the SQLite statement when it differs. The hand-written SQL gets the id of the
// event Purchased as a parameter, as application code that knows it would pass it (the
// server reads the app's definitions once per request).
type segQuery struct {
	name   string
	filter string
	pg     string
	sqlite string
	// args are the bind arguments of the statements.
	args func(a segArgs) []any
}

// segArgs are what the hand-written statements may bind.
type segArgs struct {
	app       int
	purchased int
	since     func(days int) any // the start of a window of the last days, in the column's form
}

var segQueries = []segQuery{
	{
		name:   "attribute equality",
		filter: `{"attribute": {"key": "plan", "operator": "EQUALS", "value": "pro"}}`,
		pg:     `SELECT count(*) FROM users WHERE app_id = ? AND attributes @> '{"plan": "pro"}'`,
		sqlite: `SELECT count(*) FROM users WHERE app_id = ? AND attributes ->> '$.plan' = 'pro'`,
		args:   func(a segArgs) []any { return []any{a.app} },
	},
	{
		name:   "numeric range",
		filter: `{"attribute": {"key": "age", "operator": "BETWEEN", "values": [30, 40]}}`,
		pg:     `SELECT count(*) FROM users WHERE app_id = ? AND (attributes ->> 'age')::int BETWEEN 30 AND 40`,
		sqlite: `SELECT count(*) FROM users WHERE app_id = ? AND attributes ->> '$.age' BETWEEN 30 AND 40`,
		args:   func(a segArgs) []any { return []any{a.app} },
	},
	{
		name:   "event 3+ times in 30 days",
		filter: `{"event": {"name": "Purchased", "countOp": "AT_LEAST", "count": 3, "days": 30}}`,
		pg: `SELECT count(*) FROM (
			SELECT user_id FROM event_occurrences
			WHERE app_id = ? AND event_definition_id = ? AND timestamp >= ?
			GROUP BY user_id HAVING count(*) >= 3) AS buyers`,
		args: func(a segArgs) []any { return []any{a.app, a.purchased, a.since(30)} },
	},
	{
		name:   "page URL contains",
		filter: `{"pageView": {"operator": "CONTAINS", "url": "/pricing"}}`,
		// Case-insensitive, as the filter is: lower() LIKE (ILIKE is 2× slower here).
		pg:     `SELECT count(DISTINCT user_id) FROM page_views WHERE app_id = ? AND lower(url) LIKE '%/pricing%'`,
		sqlite: `SELECT count(DISTINCT user_id) FROM page_views WHERE app_id = ? AND url LIKE '%/pricing%'`,
		args:   func(a segArgs) []any { return []any{a.app} },
	},
	{
		name: "nested and/or/not",
		filter: `{"and": [
			{"or": [{"attribute": {"key": "plan", "operator": "EQUALS", "value": "pro"}},
			        {"attribute": {"key": "plan", "operator": "EQUALS", "value": "team"}}]},
			{"attribute": {"key": "age", "operator": "GTE", "value": 25}},
			{"not": {"event": {"name": "Purchased", "days": 7}}}]}`,
		// @> rather than ->> IN: the GIN index answers it, and the planner's estimate of
		// ->> (a default guess) leads it to a per-user nested loop.
		pg: `SELECT count(*) FROM users u
			WHERE u.app_id = ? AND (u.attributes @> '{"plan": "pro"}' OR u.attributes @> '{"plan": "team"}')
			  AND (u.attributes ->> 'age')::int >= 25
			  AND NOT EXISTS (SELECT 1 FROM event_occurrences e
			    WHERE e.app_id = ? AND e.user_id = u.id AND e.event_definition_id = ? AND e.timestamp >= ?)`,
		// On SQLite a correlated NOT EXISTS gets a plan that scans the event's recent
		// occurrences once per user (without statistics, the (app_id, event_definition_id,
		// timestamp) index looks better than (app_id, user_id, timestamp)); by hand one
		// writes NOT IN over the buyers, which SQLite builds once.
		sqlite: `SELECT count(*) FROM users u
			WHERE u.app_id = ? AND u.attributes ->> '$.plan' IN ('pro', 'team') AND u.attributes ->> '$.age' >= 25
			  AND u.id NOT IN (SELECT e.user_id FROM event_occurrences e
			    WHERE e.app_id = ? AND e.event_definition_id = ? AND e.timestamp >= ?)`,
		args: func(a segArgs) []any { return []any{a.app, a.app, a.purchased, a.since(7)} },
	},
	{
		name:   "active (last seen 7 days)",
		filter: `{"field": {"field": "LAST_SEEN", "operator": "WITHIN_LAST_DAYS", "days": 7}}`,
		pg:     `SELECT count(*) FROM users WHERE app_id = ? AND last_seen >= ?`,
		args:   func(a segArgs) []any { return []any{a.app, a.since(7)} },
	},
}

const segGraphQL = `query($f: SegmentFilter) { users(filter: $f) { totalCount } }`

// RunSegments seeds a dataset with plain SQL (the measured app and a second app of a
// tenth of its size), starts the real server on loopback and, for each representative
// filter, times the users GraphQL query with that filter against a hand-written SQL
// count of the same users, interleaved, after warm-up runs. The counts must agree;
// otherwise it returns an error naming the filter. The seeded apps are left in the
// database (point it at a throwaway database).
func RunSegments(ctx context.Context, cfg SegmentConfig) ([]QueryFigure, error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pg := db.Dialect == dialect.Postgres
	if cfg.Users <= 0 {
		cfg.Users = 20_000
		if pg {
			cfg.Users = 1_000_000
		}
	}
	if cfg.EventsPerUser <= 0 {
		cfg.EventsPerUser = 10
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 20
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	stamp := time.Now().UnixNano()
	app, err := apps.Create(ctx, db.Client, fmt.Sprintf("bench-segments-%d", stamp), apps.Secrets{})
	if err != nil {
		return nil, err
	}
	other, err := apps.Create(ctx, db.Client, fmt.Sprintf("bench-segments-other-%d", stamp), apps.Secrets{})
	if err != nil {
		return nil, err
	}

	s := &seeder{db: db, pg: pg, t0: time.Now().UTC().Truncate(time.Second), out: cfg.Out, events: cfg.EventsPerUser}
	start := time.Now()
	if err := s.app(ctx, app.App.ID, cfg.Users); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := s.app(ctx, other.App.ID, max(1, cfg.Users/10)); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if err := s.finish(ctx); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(cfg.Out, "seeded in %s\n", time.Since(start).Round(time.Millisecond))

	var users int64
	if err := db.SQL.QueryRowContext(ctx, storage.Rebind(db.Dialect, `SELECT count(*) FROM users WHERE app_id = ?`), app.App.ID).Scan(&users); err != nil {
		return nil, err
	}

	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	base, err := startServer(srvCtx, server.DefaultConfig(), db)
	if err != nil {
		return nil, err
	}
	gql := &segClient{
		url:    base + "/graphql",
		key:    app.AdminSecret,
		client: &http.Client{Timeout: 5 * time.Minute},
	}

	since := func(days int) any {
		t := time.Now().UTC().Add(-time.Duration(days) * 24 * time.Hour)
		if pg {
			return t
		}
		return segSQLiteTime(t)
	}
	args := segArgs{app: app.App.ID, since: since}
	if err := db.SQL.QueryRowContext(ctx, storage.Rebind(db.Dialect, `SELECT id FROM event_definitions WHERE app_id = ? AND name = ?`),
		app.App.ID, segPurchased).Scan(&args.purchased); err != nil {
		return nil, err
	}
	var figures []QueryFigure
	for _, q := range segQueries {
		text := q.pg
		if !pg && q.sqlite != "" {
			text = q.sqlite
		}
		text = storage.Rebind(db.Dialect, text)
		var gqlTimes, sqlTimes []time.Duration
		var matched int64 = -1
		check := func(side string, n int64) error {
			if matched < 0 {
				matched = n
			}
			if n != matched {
				return fmt.Errorf("segment filter %q: %s counted %d users, the first GraphQL query %d", q.name, side, n, matched)
			}
			return nil
		}
		for i := range segWarmups + cfg.Runs {
			t := time.Now()
			n, err := gql.count(ctx, q.filter)
			d := time.Since(t)
			if err != nil {
				return nil, fmt.Errorf("segment filter %q: %w", q.name, err)
			}
			if err := check("the GraphQL query", n); err != nil {
				return nil, err
			}
			t = time.Now()
			err = db.SQL.QueryRowContext(ctx, text, q.args(args)...).Scan(&n)
			ds := time.Since(t)
			if err != nil {
				return nil, fmt.Errorf("segment filter %q: hand-written SQL: %w", q.name, err)
			}
			if err := check("the hand-written SQL", n); err != nil {
				return nil, err
			}
			if i >= segWarmups {
				gqlTimes = append(gqlTimes, d)
				sqlTimes = append(sqlTimes, ds)
			}
		}
		f := QueryFigure{Name: "segment count: " + q.name, Dialect: db.Dialect, Users: users, Matched: matched,
			P50ms: percentileMs(gqlTimes, .50), P95ms: percentileMs(gqlTimes, .95),
			SQLP50ms: percentileMs(sqlTimes, .50), SQLP95ms: percentileMs(sqlTimes, .95)}
		if f.SQLP50ms > 0 {
			f.Ratio = f.P50ms / f.SQLP50ms
		}
		fmt.Fprintf(cfg.Out, "measured %s: %d users, p50 %.2f ms (SQL %.2f ms)\n", q.name, matched, f.P50ms, f.SQLP50ms)
		figures = append(figures, f)
	}
	return figures, nil
}

// PrintQueries prints the figures as a table and as one JSON line each.
func PrintQueries(w io.Writer, figures []QueryFigure) {
	fmt.Fprintf(w, "%-42s %-8s %10s %10s %10s %10s %10s %10s %7s\n",
		"filter", "dialect", "users", "matched", "p50 ms", "p95 ms", "SQL p50", "SQL p95", "ratio")
	for _, f := range figures {
		fmt.Fprintf(w, "%-42s %-8s %10d %10d %10.2f %10.2f %10.2f %10.2f %6.2f×\n",
			f.Name, f.Dialect, f.Users, f.Matched, f.P50ms, f.P95ms, f.SQLP50ms, f.SQLP95ms, f.Ratio)
	}
	for _, f := range figures {
		b, _ := json.Marshal(f)
		fmt.Fprintln(w, string(b))
	}
}

// segSQLiteTime is t in the text form the SQLite driver stores times in
// (storage: _time_format=sqlite), which the segmentation SQL compares with.
func segSQLiteTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00")
}

// segClient posts the users query with a filter and returns totalCount.
type segClient struct {
	url, key string
	client   *http.Client
}

func (c *segClient) count(ctx context.Context, filter string) (int64, error) {
	body, err := json.Marshal(map[string]any{"query": segGraphQL, "variables": map[string]json.RawMessage{"f": json.RawMessage(filter)}})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	res, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	var out struct {
		Data struct {
			Users struct {
				TotalCount *int64 `json:"totalCount"`
			} `json:"users"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, fmt.Errorf("GraphQL status %d: %.200s", res.StatusCode, raw)
	}
	if res.StatusCode != http.StatusOK || len(out.Errors) > 0 || out.Data.Users.TotalCount == nil {
		return 0, fmt.Errorf("GraphQL status %d: %.300s", res.StatusCode, raw)
	}
	return *out.Data.Users.TotalCount, nil
}

// seeder writes the dataset with INSERT … SELECT statements that generate the rows in
// the database: generate_series on PostgreSQL, a recursive CTE on SQLite. Every value is
// a deterministic function of the row's number (segHash), so a scale gives the same data
// on every run and on both dialects.
type seeder struct {
	db     *storage.DB
	pg     bool
	t0     time.Time
	out    io.Writer
	events int
}

func (s *seeder) exec(ctx context.Context, q string) error {
	_, err := s.db.SQL.ExecContext(ctx, q)
	return err
}

// app seeds one app: its definitions, users, events and page views.
func (s *seeder) app(ctx context.Context, appID, users int) error {
	start := time.Now()
	eventIDs, err := s.definitions(ctx, appID)
	if err != nil {
		return err
	}
	if err := s.exec(ctx, s.usersSQL(appID, users)); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	fmt.Fprintf(s.out, "seed app %d: %d users in %s\n", appID, users, time.Since(start).Round(time.Millisecond))

	var lo, hi int64
	if err := s.db.SQL.QueryRowContext(ctx, storage.Rebind(s.db.Dialect, `SELECT min(id), max(id) FROM users WHERE app_id = ?`), appID).Scan(&lo, &hi); err != nil {
		return err
	}
	// Chunks of 100,000 users keep each statement's transaction moderate.
	const chunk = 100_000
	t := time.Now()
	for from := lo; from <= hi; from += chunk {
		to := min(from+chunk-1, hi)
		if err := s.exec(ctx, s.eventsSQL(appID, eventIDs, lo, from, to)); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		if hi-lo >= chunk {
			fmt.Fprintf(s.out, "seed app %d: events %3.0f %% (%s)\n", appID, 100*float64(to-lo+1)/float64(hi-lo+1), time.Since(t).Round(time.Second))
		}
	}
	fmt.Fprintf(s.out, "seed app %d: %d events in %s\n", appID, users*s.events, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	for from := lo; from <= hi; from += chunk {
		if err := s.exec(ctx, s.pagesSQL(appID, lo, from, min(from+chunk-1, hi))); err != nil {
			return fmt.Errorf("page views: %w", err)
		}
	}
	fmt.Fprintf(s.out, "seed app %d: %d page views in %s\n", appID, users*segPagesPerUser, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	// The counters ingestion keeps on event definitions.
	if _, err := s.db.SQL.ExecContext(ctx, storage.Rebind(s.db.Dialect, `UPDATE event_definitions SET occurrences = c.n, last_seen = c.last
		FROM (SELECT event_definition_id AS id, count(*) AS n, max(timestamp) AS last FROM event_occurrences
		      WHERE app_id = ? GROUP BY event_definition_id) AS c
		WHERE event_definitions.id = c.id`), appID); err != nil {
		return fmt.Errorf("event counters: %w", err)
	}
	fmt.Fprintf(s.out, "seed app %d: event counters in %s\n", appID, time.Since(t).Round(time.Millisecond))
	return nil
}

// finish brings the planner's statistics (and, on PostgreSQL, the visibility map) up to
// date, as a live database has them: autovacuum on PostgreSQL, the server's own
// storage.Optimize (at start and every few hours) on SQLite.
func (s *seeder) finish(ctx context.Context) error {
	t := time.Now()
	if !s.pg {
		if err := s.db.Optimize(ctx); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "seed: storage optimize in %s\n", time.Since(t).Round(time.Millisecond))
		return nil
	}
	if err := s.exec(ctx, `VACUUM (ANALYZE) users, event_occurrences, page_views, event_definitions, attribute_definitions`); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "seed: VACUUM (ANALYZE) in %s\n", time.Since(t).Round(time.Millisecond))
	return nil
}

// definitions creates the event definitions and the attribute definitions (users' plan,
// age, score, beta, signed_up; Purchased's amount and currency) through Ent, and returns
// the event ids in segEvents order.
func (s *seeder) definitions(ctx context.Context, appID int) ([]int, error) {
	ctx = viewer.SystemContext(ctx)
	c := s.db.Client
	ids := make([]int, len(segEvents))
	for i, name := range segEvents {
		e, err := c.EventDefinition.Create().SetAppID(appID).SetName(name).SetLastSeen(s.t0).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("event definition %q: %w", name, err)
		}
		ids[i] = e.ID
	}
	type def struct {
		scope attributedefinition.Scope
		key   string
		typ   attributedefinition.Type
	}
	for _, d := range []def{
		{attributedefinition.ScopeUSER, "plan", attributedefinition.TypeSTRING},
		{attributedefinition.ScopeUSER, "age", attributedefinition.TypeINTEGER},
		{attributedefinition.ScopeUSER, "score", attributedefinition.TypeFLOAT},
		{attributedefinition.ScopeUSER, "beta", attributedefinition.TypeBOOLEAN},
		{attributedefinition.ScopeUSER, "signed_up", attributedefinition.TypeDATE},
		{attributedefinition.ScopeEVENT, "amount", attributedefinition.TypeFLOAT},
		{attributedefinition.ScopeEVENT, "currency", attributedefinition.TypeSTRING},
	} {
		m := c.AttributeDefinition.Create().SetAppID(appID).SetScope(d.scope).SetKey(d.key).SetName(d.key).
			SetType(d.typ).SetCreatedAutomatically(true)
		if d.scope == attributedefinition.ScopeEVENT {
			m.SetEventDefinitionID(ids[0])
		}
		if err := m.Exec(ctx); err != nil {
			return nil, fmt.Errorf("attribute definition %q: %w", d.key, err)
		}
	}
	return ids, nil
}

// usersSQL inserts users 0…n−1 of the app: user id, email, country, page-view counter,
// first and last seen (last seen skewed to recent days, within 90 days) and the
// attributes plan (free 70 %, pro 18 %, team 9 %, enterprise 3 %), age (18–80), score,
// beta (10 % true) and signed_up (the date of first seen).
func (s *seeder) usersSQL(appID, n int) string {
	h := func(salt int) string { return segHash("g.n", salt) }
	// last seen: floor(90·u²) days ago, u uniform in [0, 1); first seen up to 90 days before.
	lastDays := fmt.Sprintf("((%[1]s %% 10000) * (%[1]s %% 10000) * 90 / 100000000)", h(1))
	secs := fmt.Sprintf("(%s %% %d)", h(2), segDaySeconds)
	inner := fmt.Sprintf(`SELECT g.n AS n, %s AS ld, %s AS secs, %s AS h3, %s %% 100 AS h4, %s %% 100 AS h5, %s AS h6, %s AS h7 FROM %s%s`,
		lastDays, secs, h(3), h(4), h(5), h(6), h(7), s.series("g", n), s.fence())
	firstAgo := "((ld + h3 % (90 - ld)) * 86400 + secs)"
	lastAgo := "(ld * 86400 + secs)"
	mid := fmt.Sprintf(`SELECT n, %s AS fs, %s AS ls, %s AS sd, h4, h5, h6, h7 FROM (%s) AS i%s`,
		s.ts(firstAgo), s.ts(lastAgo), s.date(firstAgo), inner, s.fence())
	country := `CASE WHEN h4 < 5 THEN NULL WHEN h4 < 35 THEN 'US' WHEN h4 < 50 THEN 'DE' WHEN h4 < 60 THEN 'GB'
		WHEN h4 < 70 THEN 'IN' WHEN h4 < 78 THEN 'FR' WHEN h4 < 85 THEN 'BR' WHEN h4 < 90 THEN 'CA' WHEN h4 < 95 THEN 'JP' ELSE 'NL' END`
	plan := `CASE WHEN h5 < 70 THEN 'free' WHEN h5 < 88 THEN 'pro' WHEN h5 < 97 THEN 'team' ELSE 'enterprise' END`
	attrs := s.object(
		"plan", plan,
		"age", "18 + h6 % 63",
		"score", "CAST(h7 % 100000 AS DOUBLE PRECISION) / 1000",
		"beta", s.boolean("h7 % 10 = 3"),
		"signed_up", "sd",
	)
	return s.with("g", n) + fmt.Sprintf(`INSERT INTO users (app_id, user_id, email, country, page_views, first_seen, last_seen, created_at, updated_at, attributes)
		SELECT %d, 'user-' || n, 'user' || n || '@example.com', %s, %d, fs, ls, fs, %s, %s FROM (%s) AS m`,
		appID, country, segPagesPerUser, s.ts("0"), attrs, mid)
}

// eventsSQL inserts EventsPerUser occurrences for each user of the app with an id in
// [from, to]: Purchased 10 % of them (with amount and currency), the other names skewed
// to the first ones; times uniform over 60 days. Values derive from the user's rank in
// the app (id − first, the ids of one INSERT being consecutive), not from its id, so
// they do not depend on what else the database holds.
func (s *seeder) eventsSQL(appID int, eventIDs []int, first, from, to int64) string {
	n := fmt.Sprintf("((u.id - %d) * %d + k.k)", first, s.events)
	inner := fmt.Sprintf(`SELECT u.id AS user_id, k.k AS k, %s %% 1000 AS r, %s AS h2 FROM users u, %s
		WHERE u.app_id = %d AND u.id BETWEEN %d AND %d%s`, segHash(n, 11), segHash(n, 12), s.series("k", s.events), appID, from, to, s.fence())
	// index: 0 (Purchased) when r < 100, else 1 + 19·((r−100)/900)², skewed to the low names
	ago := fmt.Sprintf("((h2 %% 60) * 86400 + (h2 / 60) %% %d)", segDaySeconds)
	mid := fmt.Sprintf(`SELECT user_id, k, h2, CASE WHEN r < 100 THEN 0 ELSE 1 + (r - 100) * (r - 100) * %d / 810000 END AS ev, %s AS t
		FROM (%s) AS i%s`, len(segEvents)-1, s.ts(ago), inner, s.fence())
	var ids, names strings.Builder
	for i, id := range eventIDs {
		fmt.Fprintf(&ids, " WHEN %d THEN %d", i, id)
		fmt.Fprintf(&names, " WHEN %d THEN '%s'", i, segEvents[i])
	}
	props := fmt.Sprintf("CASE WHEN ev = 0 THEN %s ELSE %s END",
		s.object("amount", "CAST((h2 / 7) % 50000 AS DOUBLE PRECISION) / 100", "currency", "'EUR'"), s.emptyObject())
	return s.with("k", s.events) + fmt.Sprintf(`INSERT INTO event_occurrences (app_id, user_id, event_definition_id, name, properties, timestamp, message_id, received_at)
		SELECT %d, user_id, CASE ev%s END, CASE ev%s END, %s, t, 'seed-e-' || user_id || '-' || k, t FROM (%s) AS m`,
		appID, ids.String(), names.String(), props, mid)
}

// pagesSQL inserts segPagesPerUser page views for each user of the app with an id in
// [from, to], their URLs among segURLs, times uniform over 60 days (values derive from
// the user's rank, as in eventsSQL).
func (s *seeder) pagesSQL(appID int, first, from, to int64) string {
	n := fmt.Sprintf("((u.id - %d) * %d + k.k)", first, segPagesPerUser)
	inner := fmt.Sprintf(`SELECT u.id AS user_id, k.k AS k, %s %% 100 AS r, %s AS h2 FROM users u, %s
		WHERE u.app_id = %d AND u.id BETWEEN %d AND %d%s`, segHash(n, 21), segHash(n, 22), s.series("k", segPagesPerUser), appID, from, to, s.fence())
	ago := fmt.Sprintf("((h2 %% 60) * 86400 + (h2 / 60) %% %d)", segDaySeconds)
	mid := fmt.Sprintf(`SELECT user_id, k, r, %s AS t FROM (%s) AS i%s`, s.ts(ago), inner, s.fence())
	pick := func(field func(i int) string) string {
		var b strings.Builder
		b.WriteString("CASE")
		for i, u := range segURLs {
			if i == len(segURLs)-1 {
				fmt.Fprintf(&b, " ELSE '%s' END", field(i))
				break
			}
			fmt.Fprintf(&b, " WHEN r < %d THEN '%s'", u.upTo, field(i))
		}
		return b.String()
	}
	url := pick(func(i int) string { return segURLs[i].url })
	path := pick(func(i int) string { return segURLs[i].path })
	title := pick(func(i int) string { return segURLs[i].title })
	return s.with("k", segPagesPerUser) + fmt.Sprintf(`INSERT INTO page_views (app_id, user_id, kind, url, path, title, properties, timestamp, message_id, received_at)
		SELECT %d, user_id, 'PAGE', %s, %s, %s, %s, t, 'seed-p-' || user_id || '-' || k, t FROM (%s) AS m`,
		appID, url, path, title, s.emptyObject(), mid)
}

// fence ends a subquery in FROM so that it is not merged into the outer query, whose
// expressions would then recompute each of its columns at every use: OFFSET 0 keeps
// PostgreSQL from pulling it up, and SQLite does not flatten a subquery with an OFFSET.
func (s *seeder) fence() string {
	if s.pg {
		return " OFFSET 0"
	}
	return " LIMIT -1 OFFSET 0"
}

// segHash is a SQL expression of a deterministic pseudo-random integer in [0, 2³¹−1)
// for the non-negative integer expression n, different for each salt: a multiplicative
// step, then a squaring, modulo the prime 2³¹−1. Products stay below 2⁶³, so it is exact
// on PostgreSQL's bigint and on SQLite's integers (which would turn to floats on overflow).
func segHash(n string, salt int) string {
	const p = "2147483647"
	x := fmt.Sprintf("((CAST(%s AS BIGINT) %% %s) * 48271 + %d) %% %s", n, p, 1+salt*7919, p)
	return fmt.Sprintf("((%[1]s) * (%[1]s) + %[2]d) %% %[3]s", x, salt, p)
}

// with is the recursive CTE that numbers 0…n−1 on SQLite ("" on PostgreSQL).
func (s *seeder) with(name string, n int) string {
	if s.pg {
		return ""
	}
	col := "n"
	if name == "k" {
		col = "k"
	}
	return fmt.Sprintf("WITH RECURSIVE %[1]s(%[2]s) AS (SELECT 0 UNION ALL SELECT %[2]s + 1 FROM %[1]s WHERE %[2]s < %[3]d) ", name, col, n-1)
}

// series is the FROM item numbering 0…n−1 as name.n (name "k": k.k).
func (s *seeder) series(name string, n int) string {
	col := "n"
	if name == "k" {
		col = "k"
	}
	if s.pg {
		return fmt.Sprintf("generate_series(0, %d) AS %s(%s)", n-1, name, col)
	}
	return name
}

// ts is the time secondsAgo (an integer SQL expression) before t0, as the column stores it.
func (s *seeder) ts(secondsAgo string) string {
	if s.pg {
		return fmt.Sprintf("(TIMESTAMPTZ '%s' - (%s) * INTERVAL '1 second')", s.t0.Format(time.RFC3339), secondsAgo)
	}
	return fmt.Sprintf("(strftime('%%Y-%%m-%%d %%H:%%M:%%S', '%s', '-' || (%s) || ' seconds') || '+00:00')",
		s.t0.Format(time.DateTime), secondsAgo)
}

// date is the UTC date secondsAgo before t0, as "YYYY-MM-DD" (DATE's stored form).
func (s *seeder) date(secondsAgo string) string {
	if s.pg {
		return fmt.Sprintf("to_char((TIMESTAMPTZ '%s' - (%s) * INTERVAL '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
			s.t0.Format(time.RFC3339), secondsAgo)
	}
	return fmt.Sprintf("date('%s', '-' || (%s) || ' seconds')", s.t0.Format(time.DateTime), secondsAgo)
}

// object is a JSON object of key, SQL value pairs.
func (s *seeder) object(kv ...string) string {
	parts := make([]string, len(kv))
	for i, x := range kv {
		if i%2 == 0 {
			x = "'" + x + "'"
		}
		parts[i] = x
	}
	if s.pg {
		return "jsonb_build_object(" + strings.Join(parts, ", ") + ")"
	}
	return "json_object(" + strings.Join(parts, ", ") + ")"
}

func (s *seeder) emptyObject() string {
	if s.pg {
		return "'{}'::jsonb"
	}
	return "'{}'"
}

// boolean is a JSON true or false for a SQL condition.
func (s *seeder) boolean(cond string) string {
	if s.pg {
		return "(" + cond + ")"
	}
	return "json(CASE WHEN " + cond + " THEN 'true' ELSE 'false' END)"
}
