package ingest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/pageview"
	"github.com/peoplegraph/peoplegraph/ingest/standard"
	"github.com/peoplegraph/peoplegraph/storage"
)

var userColumns = []string{
	"email", "first_name", "last_name", "phone", "gender", "country", "region", "city", "street",
	"postal_code", "user_agent", "os", "device_name", "device_type", "language", "resolution",
	"ip_address", "browser_family", "browser_version", "timezone", "current_url",
}

var companyColumns = []string{
	"name", "description", "email", "employees", "phone", "country", "region", "city", "street", "postal_code",
}

// apply writes the planned batch: new users and identities, memberships, page views and
// occurrences in multi-row inserts, rejection counts, one UPDATE for every touched company
// and one for every touched user, and finally the merges in message order.
func (b *batch) apply(ctx context.Context) error {
	ids, err := b.insertUsers(ctx)
	if err != nil {
		return err
	}
	id := func(r userRef) int {
		if r < 0 {
			return ids[-int(r)-1]
		}
		return int(r)
	}
	if err := b.insertIdentities(ctx, id); err != nil {
		return err
	}
	if err := b.insertMemberships(ctx, id); err != nil {
		return err
	}
	if err := b.insertPageViews(ctx, id); err != nil {
		return err
	}
	if err := b.insertOccurrences(ctx, id); err != nil {
		return err
	}
	if err := b.countRejections(ctx); err != nil {
		return err
	}
	// Profile rows are shared by concurrent batches, so they are updated last: their row
	// locks are then held only until the commit that follows.
	companyRows := make([]profileRow, 0, len(b.companyAct))
	for cid, act := range b.companyAct {
		companyRows = append(companyRows, profileRow{id: cid, act: act})
	}
	if err := b.updateProfiles(ctx, "companies", companyColumns, false, companyRows); err != nil {
		return err
	}
	userRows := make([]profileRow, 0, len(b.userOrder))
	for _, ref := range b.userOrder {
		userRows = append(userRows, profileRow{id: id(ref), act: b.users[ref]})
	}
	if err := b.updateProfiles(ctx, "users", userColumns, true, userRows); err != nil {
		return err
	}
	for _, m := range b.merges {
		if err := b.applyMerge(ctx, id(m.from), id(m.into)); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) insertUsers(ctx context.Context) ([]int, error) {
	ids := make([]int, 0, len(b.newUsers))
	for _, c := range chunks(len(b.newUsers), 40) {
		builders := make([]*ent.UserCreate, 0, c[1]-c[0])
		for _, u := range b.newUsers[c[0]:c[1]] {
			create := b.db.tx.User.Create().SetAppID(b.appID).SetCreatedAt(b.now).SetUpdatedAt(b.now)
			if u.userID != "" {
				create.SetUserID(u.userID)
			}
			builders = append(builders, create)
		}
		users, err := b.db.tx.User.CreateBulk(builders...).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create users: %w", err)
		}
		for _, u := range users {
			ids = append(ids, u.ID)
		}
	}
	return ids, nil
}

func (b *batch) insertIdentities(ctx context.Context, id func(userRef) int) error {
	for _, c := range chunks(len(b.newIdentity), 5) {
		args := make([]any, 0, (c[1]-c[0])*5)
		for i := c[0]; i < c[1]; i++ {
			k := b.newIdentity[i]
			args = append(args, b.appID, string(k.kind), k.value, id(b.newIdentRef[i]), b.now)
		}
		// A plain insert: the advisory locks make a conflict impossible, so one would be
		// a bug worth failing the request for (it is retried) rather than hiding.
		if _, err := b.db.exec(ctx, `INSERT INTO identities (app_id, kind, value, user_id, created_at) VALUES `+
			storage.Placeholders(c[1]-c[0], 5), args...); err != nil {
			return fmt.Errorf("create identities: %w", err)
		}
	}
	return nil
}

type profileRow struct {
	id  int
	act *activity
}

// updateProfiles updates every touched row of table in one statement per chunk: the
// changes travel as one JSON document that the database turns into rows.
func (b *batch) updateProfiles(ctx context.Context, table string, columns []string, withActivity bool, rows []profileRow) error {
	if len(rows) == 0 {
		return nil
	}
	// Ids in order, so concurrent batches lock rows in the same order.
	slices.SortFunc(rows, func(x, y profileRow) int { return x.id - y.id })
	query := b.updateStatement(table, columns, withActivity)
	for _, c := range chunks(len(rows), 200) {
		docs := make([]profileChange, 0, c[1]-c[0])
		for _, r := range rows[c[0]:c[1]] {
			docs = append(docs, b.updateDoc(r))
		}
		doc, err := jsonText(docs)
		if err != nil {
			return fmt.Errorf("encode %s update: %w", table, err)
		}
		// PostgreSQL: the id list lets the planner reach the rows through the primary key;
		// the recordset alone is estimated too coarsely and invites a full scan.
		args := []any{doc, b.now, b.appID}
		if b.db.postgres() {
			ids := make([]int64, 0, c[1]-c[0])
			for _, r := range rows[c[0]:c[1]] {
				ids = append(ids, int64(r.id))
			}
			args = []any{b.now, doc, b.appID, pq.Array(ids)}
		}
		if _, err := b.db.exec(ctx, query, args...); err != nil {
			return fmt.Errorf("update %s: %w", table, err)
		}
	}
	return nil
}

// profileChange is one row of the JSON document a profile UPDATE reads. Absent parts
// are left out (and read as NULL), which keeps the document small: most rows of a batch
// only count a page view or move lastSeen.
type profileChange struct {
	ID        int             `json:"id"`
	Fields    standard.Fields `json:"fields,omitempty"`
	Sets      map[string]any  `json:"sets,omitempty"`
	Removes   []string        `json:"removes,omitempty"`  // PostgreSQL: keys to drop before Sets
	Removals  map[string]any  `json:"removals,omitempty"` // SQLite: the same keys, as a JSON merge patch
	PageViews int             `json:"page_views"`
	FirstSeen string          `json:"first_seen,omitempty"`
	LastSeen  string          `json:"last_seen,omitempty"`
	UserID    string          `json:"user_id,omitempty"`
}

func (b *batch) updateDoc(r profileRow) profileChange {
	a := r.act
	doc := profileChange{ID: r.id, Fields: a.fields, PageViews: a.pageViews, UserID: a.userID}
	if len(a.attrs) > 0 {
		doc.Sets = map[string]any{}
		for k, v := range a.attrs {
			if b.db.postgres() {
				doc.Removes = append(doc.Removes, k)
			} else {
				if doc.Removals == nil {
					doc.Removals = map[string]any{}
				}
				doc.Removals[k] = nil
			}
			if v != nil {
				doc.Sets[k] = v
			}
		}
	}
	if a.firstSeen != nil {
		doc.FirstSeen = b.timeText(*a.firstSeen)
	}
	if a.lastSeen != nil {
		doc.LastSeen = b.timeText(*a.lastSeen)
	}
	return doc
}

// timeText writes a time inside a JSON document the way the database's own time
// columns hold it, so SQL can compare the two: RFC 3339 for PostgreSQL, and the
// format the SQLite driver writes (see storage: _time_format=sqlite) for SQLite.
func (b *batch) timeText(t time.Time) string {
	if b.db.postgres() {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00")
}

// updateStatement is the UPDATE that applies a JSON document of profileChange rows to
// table. Rows the changes would leave as they are (a track call of a known user with the
// context it had before, an identify repeating its traits) are not written at all: no
// new row version, no index entries, no row lock held until the commit.
func (b *batch) updateStatement(table string, columns []string, withActivity bool) string {
	t := table
	if b.db.postgres() {
		t = "t"
	}
	var cols, exprs []string
	set := func(col, expr string) {
		cols = append(cols, col)
		exprs = append(exprs, expr)
	}
	for _, c := range columns {
		if b.db.postgres() {
			value := fmt.Sprintf("v.fields->>'%s'", c)
			if c == "employees" {
				value = "(" + value + ")::bigint"
			}
			set(c, fmt.Sprintf("CASE WHEN v.fields->'%[1]s' IS NOT NULL THEN %[2]s ELSE t.%[1]s END", c, value))
		} else {
			set(c, fmt.Sprintf("CASE WHEN json_type(v.fields, '$.%[1]s') IS NOT NULL THEN json_extract(v.fields, '$.%[1]s') ELSE %[2]s.%[1]s END", c, t))
		}
	}
	if b.db.postgres() {
		set("attributes", "CASE WHEN v.removes IS NULL THEN t.attributes "+
			"ELSE (t.attributes - ARRAY(SELECT jsonb_array_elements_text(v.removes))) || COALESCE(v.sets, '{}'::jsonb) END")
	} else {
		// Removing the touched keys first keeps json_patch from merging a new object value
		// into the old one.
		set("attributes", fmt.Sprintf("CASE WHEN v.removals IS NULL THEN %[1]s.attributes "+
			"ELSE json_patch(json_patch(%[1]s.attributes, v.removals), COALESCE(v.sets, '{}')) END", t))
	}
	if withActivity {
		set("page_views", t+".page_views + v.page_views")
		set("first_seen", earlier(t+".first_seen", "v.first_seen"))
		set("last_seen", later(t+".last_seen", "v.last_seen"))
		set("user_id", "COALESCE(v.user_id, "+t+".user_id)")
	}
	assignments := make([]string, len(cols))
	old := make([]string, len(cols))
	for i, c := range cols {
		assignments[i] = c + " = " + exprs[i]
		old[i] = t + "." + c
	}
	changed := fmt.Sprintf("(%s) IS DISTINCT FROM (%s)", strings.Join(old, ", "), strings.Join(exprs, ", "))
	if b.db.postgres() {
		return fmt.Sprintf(`UPDATE %s AS t SET %s, updated_at = ?
			FROM jsonb_to_recordset(?::jsonb) AS v(id bigint, page_views int, first_seen timestamptz,
				last_seen timestamptz, user_id text, fields jsonb, sets jsonb, removes jsonb)
			WHERE t.id = v.id AND t.app_id = ? AND t.id = ANY(?::bigint[]) AND %s`, table, strings.Join(assignments, ",\n"), changed)
	}
	changed = fmt.Sprintf("(%s) IS NOT (%s)", strings.Join(old, ", "), strings.Join(exprs, ", "))
	// The changes are materialized first, each JSON value parsed once, and the loop runs
	// over them, reaching each row by its primary key; read inline, SQLite re-parsed the
	// whole document for every row it updated.
	return fmt.Sprintf(`WITH v AS MATERIALIZED (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.page_views') AS page_views,
			json_extract(value, '$.first_seen') AS first_seen, json_extract(value, '$.last_seen') AS last_seen,
			json_extract(value, '$.user_id') AS user_id, json_extract(value, '$.fields') AS fields,
			json_extract(value, '$.sets') AS sets, json_extract(value, '$.removals') AS removals
			FROM json_each(?))
		UPDATE %[1]s SET %[2]s, updated_at = ?
		FROM v WHERE %[1]s.id = v.id AND %[1]s.app_id = ? AND %[3]s`, table, strings.Join(assignments, ",\n"), changed)
}

func (b *batch) insertMemberships(ctx context.Context, id func(userRef) int) error {
	pairs := make([][2]int, 0, len(b.members))
	for p := range b.members {
		pairs = append(pairs, [2]int{id(userRef(p[0])), p[1]})
	}
	slices.SortFunc(pairs, func(x, y [2]int) int {
		if x[0] != y[0] {
			return x[0] - y[0]
		}
		return x[1] - y[1]
	})
	for _, c := range chunks(len(pairs), 4) {
		args := make([]any, 0, (c[1]-c[0])*4)
		for _, p := range pairs[c[0]:c[1]] {
			args = append(args, b.appID, p[0], p[1], b.now)
		}
		if _, err := b.db.exec(ctx, `INSERT INTO memberships (app_id, user_id, company_id, created_at) VALUES `+
			storage.Placeholders(c[1]-c[0], 4)+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("create memberships: %w", err)
		}
	}
	return nil
}

// Page views and occurrences are written with plain multi-row inserts rather than Ent's
// bulk create: nothing needs their ids back, and they are most of a batch's rows.
func (b *batch) insertPageViews(ctx context.Context, id func(userRef) int) error {
	const columns = 14
	for _, c := range chunks(len(b.pageViews), columns) {
		args := make([]any, 0, (c[1]-c[0])*columns)
		for _, pv := range b.pageViews[c[0]:c[1]] {
			row, err := b.pageViewRow(pv, id(pv.user))
			if err != nil {
				return err
			}
			args = append(args, row...)
		}
		if _, err := b.db.exec(ctx, `INSERT INTO page_views (app_id, user_id, kind, url, path, title, referrer, search,
			name, category, properties, timestamp, message_id, received_at) VALUES `+storage.Placeholders(c[1]-c[0], columns), args...); err != nil {
			return fmt.Errorf("record page views: %w", err)
		}
	}
	return nil
}

// pageViewKeys are the page properties kept in columns of their own.
var pageViewKeys = []string{"url", "path", "title", "referrer", "search", "name", "category"}

// pageViewRow is the values of one page_views row, in insertPageViews' column order.
func (b *batch) pageViewRow(pv pageViewRow, user int) ([]any, error) {
	m := pv.m
	props := map[string]any{}
	text := map[string]*string{}
	for k, v := range m.Properties {
		if slices.Contains(pageViewKeys, k) {
			if s, ok := v.(string); ok {
				s := truncate(cleanText(s), 2048)
				text[k] = &s
				continue
			}
		}
		props[k] = v
	}
	if text["name"] == nil && m.Name != "" {
		text["name"] = &m.Name
	}
	if text["category"] == nil && m.Category != "" {
		text["category"] = &m.Category
	}
	properties, err := jsonText(sanitizeJSON(props))
	if err != nil {
		return nil, err
	}
	return []any{b.appID, user, pageview.Kind(pv.kind).String(), text["url"], text["path"], text["title"], text["referrer"],
		text["search"], text["name"], text["category"], properties, m.Time, m.MessageID, b.now}, nil
}

func (b *batch) insertOccurrences(ctx context.Context, id func(userRef) int) error {
	const columns = 8
	for _, c := range chunks(len(b.occurs), columns) {
		args := make([]any, 0, (c[1]-c[0])*columns)
		for _, o := range b.occurs[c[0]:c[1]] {
			properties, err := jsonText(orEmpty(o.props))
			if err != nil {
				return err
			}
			args = append(args, b.appID, id(o.user), o.eventID, o.m.Event, properties, o.m.Time, o.m.MessageID, b.now)
		}
		if _, err := b.db.exec(ctx, `INSERT INTO event_occurrences (app_id, user_id, event_definition_id, name, properties,
			timestamp, message_id, received_at) VALUES `+storage.Placeholders(c[1]-c[0], columns), args...); err != nil {
			return fmt.Errorf("record occurrences: %w", err)
		}
	}
	return nil
}

func (b *batch) countRejections(ctx context.Context) error {
	for _, id := range slices.Sorted(maps.Keys(b.rejected)) {
		r := b.rejected[id]
		last, err := jsonText(sanitizeJSON(map[string]any{"v": r.last})["v"])
		if err != nil {
			return err
		}
		if _, err := b.db.exec(ctx, `UPDATE attribute_definitions SET rejected_count = rejected_count + ?, last_rejected_value = ?
			WHERE app_id = ? AND id = ?`, r.count, last, b.appID, id); err != nil {
			return fmt.Errorf("count rejected values: %w", err)
		}
	}
	return nil
}

// applyMerge moves everything of user from to user into and deletes from: identities,
// page views, occurrences and memberships move; counters add; first and last seen
// combine; standard fields and attributes the target lacks are copied.
func (b *batch) applyMerge(ctx context.Context, from, into int) error {
	if from == into {
		return nil
	}
	source, err := b.db.tx.User.Get(ctx, from)
	if err != nil {
		return fmt.Errorf("merge: read source: %w", err)
	}
	target, err := b.db.tx.User.Get(ctx, into)
	if err != nil {
		return fmt.Errorf("merge: read target: %w", err)
	}
	moves := []string{
		`UPDATE identities SET user_id = ? WHERE app_id = ? AND user_id = ?`,
		`UPDATE page_views SET user_id = ? WHERE app_id = ? AND user_id = ?`,
		`UPDATE event_occurrences SET user_id = ? WHERE app_id = ? AND user_id = ?`,
	}
	for _, q := range moves {
		if _, err := b.db.exec(ctx, q, into, b.appID, from); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	if _, err := b.db.exec(ctx, `DELETE FROM memberships WHERE app_id = ? AND user_id = ? AND company_id IN
		(SELECT company_id FROM memberships WHERE app_id = ? AND user_id = ?)`, b.appID, from, b.appID, into); err != nil {
		return fmt.Errorf("merge memberships: %w", err)
	}
	if _, err := b.db.exec(ctx, `UPDATE memberships SET user_id = ? WHERE app_id = ? AND user_id = ?`, into, b.appID, from); err != nil {
		return fmt.Errorf("merge memberships: %w", err)
	}
	// The source gives up its userId first: (app_id, user_id) is unique.
	takeUserID := target.UserID == nil && source.UserID != nil
	if takeUserID {
		if err := b.db.tx.User.UpdateOneID(from).ClearUserID().Exec(ctx); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	var fill []string
	for _, c := range userColumns {
		fill = append(fill, fmt.Sprintf("%[1]s = COALESCE(users.%[1]s, f.%[1]s)", c))
	}
	if _, err := b.db.exec(ctx, `UPDATE users SET `+strings.Join(fill, ", ")+`,
		page_views = users.page_views + f.page_views,
		first_seen = `+earlier("users.first_seen", "f.first_seen")+`,
		last_seen = `+later("users.last_seen", "f.last_seen")+`
		FROM users AS f WHERE users.app_id = ? AND users.id = ? AND f.id = ?`, b.appID, into, from); err != nil {
		return fmt.Errorf("merge profile: %w", err)
	}
	attrs := maps.Clone(source.Attributes)
	if attrs == nil {
		attrs = map[string]any{}
	}
	maps.Copy(attrs, target.Attributes)
	update := b.db.tx.User.UpdateOneID(into).SetAttributes(attrs).SetUpdatedAt(b.now)
	if takeUserID {
		update.SetUserID(*source.UserID)
	}
	if err := update.Exec(ctx); err != nil {
		return fmt.Errorf("merge attributes: %w", err)
	}
	if err := b.db.tx.User.DeleteOneID(from).Exec(ctx); err != nil {
		return fmt.Errorf("merge: delete source: %w", err)
	}
	return nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// cleanText makes s storable in a text column: PostgreSQL refuses NUL and invalid UTF-8.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// sanitizeJSON makes free-form properties storable: the attribute package's JSON rule
// replaces NUL and invalid UTF-8, which PostgreSQL's jsonb refuses.
func sanitizeJSON(m map[string]any) map[string]any {
	if len(m) == 0 {
		return map[string]any{}
	}
	v, ok := attribute.Coerce(attribute.Definition{Type: attribute.JSON}, m)
	if out, isMap := v.(map[string]any); ok && isMap {
		return out
	}
	return map[string]any{}
}
