package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/lib/pq"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/ent/identity"
	"github.com/peoplegraph/peoplegraph/ingest/standard"
	"github.com/peoplegraph/peoplegraph/storage"
)

// userRef names a user within a batch: a database id, or -(i+1) for the i-th user the
// batch creates (its id is known only after the insert).
type userRef int

type identityKey struct {
	kind  identity.Kind
	value string
}

// activity accumulates what a batch does to one profile, so each touched row is
// updated once, whatever the number of its messages.
type activity struct {
	fields    standard.Fields
	attrs     map[string]any // nil value: remove
	pageViews int
	firstSeen *time.Time // nil: no call yet (a time.Time zero value is a valid year-1 time)
	lastSeen  *time.Time
	userID    string // a userId given to an anonymous profile
}

type newUser struct{ userID string }

type pageViewRow struct {
	user userRef
	kind string
	m    *Message
}

type occurrenceRow struct {
	user    userRef
	eventID int
	props   map[string]any
	m       *Message
}

type merge struct{ from, into userRef }

type rejection struct {
	count int
	last  any
}

// batch is one request's messages being written in one transaction.
type batch struct {
	db    dbtx
	appID int
	now   time.Time

	identities  map[identityKey]userRef
	hasUserID   map[userRef]bool
	newUsers    []newUser
	newIdentity []identityKey
	newIdentRef []userRef

	users      map[userRef]*activity
	userOrder  []userRef
	companies  map[string]int // groupId → id
	companyAct map[int]*activity
	members    map[[2]int]bool // user ref, company id
	pageViews  []pageViewRow
	occurs     []occurrenceRow
	events     map[string]int // name → event definition id
	defs       definitions
	rejected   map[int]*rejection
	merges     []merge
	// claimed holds the message ids this batch stored first.
	claimed map[string]bool
}

// write stores msgs. It returns how many were new (the others had been stored before).
func (b *batch) write(ctx context.Context, msgs []Message) (int, error) {
	fresh, err := b.claimMessageIDs(ctx, msgs)
	if err != nil || len(fresh) == 0 {
		return 0, err
	}
	// Before any profile row is touched: a type change holds this lock exclusively and
	// then rewrites profile rows, so taking it later could deadlock; and merges rewrite
	// whole attribute maps, which must not interleave with a type change either.
	if err := storage.LockDefinitions(ctx, b.db.tx, b.db.dialect, b.appID, true); err != nil {
		return 0, fmt.Errorf("lock attribute definitions: %w", err)
	}
	if err := b.loadIdentities(ctx, fresh); err != nil {
		return 0, err
	}
	if err := b.loadCompanies(ctx, fresh); err != nil {
		return 0, err
	}
	if err := b.upsertEventDefinitions(ctx, fresh); err != nil {
		return 0, err
	}
	if err := b.loadDefinitions(ctx, fresh); err != nil {
		return 0, err
	}
	for i := range fresh {
		b.plan(&fresh[i])
	}
	if err := b.apply(ctx); err != nil {
		return 0, err
	}
	return len(fresh), nil
}

// claimMessageIDs records the batch's message ids and keeps the messages whose id the
// app had not seen. In PostgreSQL a concurrent transaction holding the same id makes
// this insert wait for its outcome, so a message is processed exactly once.
func (b *batch) claimMessageIDs(ctx context.Context, msgs []Message) ([]Message, error) {
	first := map[string]int{}
	for i, m := range msgs {
		if _, dup := first[m.MessageID]; !dup {
			first[m.MessageID] = i
		}
	}
	ids := slices.Sorted(maps.Keys(first)) // one lock order for every transaction
	claimed := map[string]bool{}
	for _, c := range chunks(len(ids), 3) {
		part := ids[c[0]:c[1]]
		args := make([]any, 0, len(part)*3)
		for _, id := range part {
			args = append(args, b.appID, id, b.now)
		}
		rows, err := b.db.query(ctx, `INSERT INTO processed_messages (app_id, message_id, received_at) VALUES `+
			storage.Placeholders(len(part), 3)+` ON CONFLICT DO NOTHING RETURNING message_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("claim message ids: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			claimed[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var fresh []Message
	for i, m := range msgs {
		if claimed[m.MessageID] && first[m.MessageID] == i {
			fresh = append(fresh, m)
		}
	}
	b.claimed = claimed
	return fresh, nil
}

func messageKeys(m *Message) []identityKey {
	var keys []identityKey
	if m.UserID != "" {
		keys = append(keys, identityKey{identity.KindUSER_ID, m.UserID})
	}
	if m.AnonymousID != "" {
		keys = append(keys, identityKey{identity.KindANONYMOUS_ID, m.AnonymousID})
	}
	if m.PreviousID != "" {
		keys = append(keys,
			identityKey{identity.KindUSER_ID, m.PreviousID},
			identityKey{identity.KindANONYMOUS_ID, m.PreviousID})
	}
	return keys
}

// loadIdentities finds the users of every identifier of the batch in one query. On
// PostgreSQL, identifiers not found are locked (transaction advisory locks, in one
// order) and looked up again, so that two transactions cannot both create a user for
// the same new identifier; the unique key on identities backs this up.
func (b *batch) loadIdentities(ctx context.Context, msgs []Message) error {
	want := map[identityKey]bool{}
	for i := range msgs {
		for _, k := range messageKeys(&msgs[i]) {
			want[k] = true
		}
	}
	b.identities = map[identityKey]userRef{}
	b.hasUserID = map[userRef]bool{}
	if err := b.queryIdentities(ctx, want); err != nil {
		return err
	}
	missing := map[identityKey]bool{}
	for k := range want {
		if _, ok := b.identities[k]; !ok {
			missing[k] = true
		}
	}
	if len(missing) > 0 && b.db.postgres() {
		locks := make([]int64, 0, len(missing))
		for k := range missing {
			locks = append(locks, b.lockKey(k))
		}
		slices.Sort(locks)
		if _, err := b.db.exec(ctx, `SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(?::bigint[]) AS k) AS keys`, pq.Array(locks)); err != nil {
			return fmt.Errorf("lock new identities: %w", err)
		}
		if err := b.queryIdentities(ctx, missing); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) lockKey(k identityKey) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%s", b.appID, k.kind, k.value)
	return int64(h.Sum64())
}

func (b *batch) queryIdentities(ctx context.Context, keys map[identityKey]bool) error {
	byKind := map[identity.Kind][]any{}
	for k := range keys {
		byKind[k.kind] = append(byKind[k.kind], k.value)
	}
	for kind, values := range byKind {
		for _, c := range chunks(len(values), 1) {
			part := values[c[0]:c[1]]
			args := append([]any{b.appID, string(kind)}, part...)
			// Whether the user has a userId comes along: it decides how an anonymous call
			// that names a userId is resolved (identity rules, PRODUCT.md 2.1).
			rows, err := b.db.query(ctx, `SELECT i.value, i.user_id, u.user_id IS NOT NULL FROM identities AS i
				JOIN users AS u ON u.id = i.user_id AND u.app_id = i.app_id
				WHERE i.app_id = ? AND i.kind = ? AND i.value IN (`+storage.List(len(part))+`)`, args...)
			if err != nil {
				return fmt.Errorf("find identities: %w", err)
			}
			for rows.Next() {
				var value string
				var user int
				var hasUserID bool
				if err := rows.Scan(&value, &user, &hasUserID); err != nil {
					rows.Close()
					return err
				}
				b.identities[identityKey{kind, value}] = userRef(user)
				if hasUserID {
					b.hasUserID[userRef(user)] = true
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadCompanies finds or creates the companies the batch's group calls name. A company
// has one identifier, so an insert that ignores conflicts is race-free on its own.
func (b *batch) loadCompanies(ctx context.Context, msgs []Message) error {
	b.companies = map[string]int{}
	var groups []string
	for _, m := range msgs {
		if m.Type == TypeGroup {
			groups = append(groups, m.GroupID)
		}
	}
	if len(groups) == 0 {
		return nil
	}
	slices.Sort(groups)
	groups = slices.Compact(groups)
	find := func(ids []string) error {
		for _, c := range chunks(len(ids), 1) {
			part := ids[c[0]:c[1]]
			args := []any{b.appID}
			for _, g := range part {
				args = append(args, g)
			}
			rows, err := b.db.query(ctx, `SELECT id, group_id FROM companies WHERE app_id = ? AND group_id IN (`+storage.List(len(part))+`)`, args...)
			if err != nil {
				return fmt.Errorf("find companies: %w", err)
			}
			for rows.Next() {
				var id int
				var g string
				if err := rows.Scan(&id, &g); err != nil {
					rows.Close()
					return err
				}
				b.companies[g] = id
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if err := find(groups); err != nil {
		return err
	}
	var missing []string
	for _, g := range groups {
		if _, ok := b.companies[g]; !ok {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, c := range chunks(len(missing), 5) {
		part := missing[c[0]:c[1]]
		args := make([]any, 0, len(part)*5)
		for _, g := range part {
			args = append(args, b.appID, g, "{}", b.now, b.now)
		}
		if _, err := b.db.exec(ctx, `INSERT INTO companies (app_id, group_id, attributes, created_at, updated_at) VALUES `+
			storage.Placeholders(len(part), 5)+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("create companies: %w", err)
		}
	}
	return find(missing)
}

// upsertEventDefinitions finds or creates the event definitions of the batch's track
// calls. Occurrence counts are not kept on the definition: every batch would update the
// same few hot rows, which serializes concurrent batches on PostgreSQL; they are counted
// from event_occurrences when asked for.
func (b *batch) upsertEventDefinitions(ctx context.Context, msgs []Message) error {
	b.events = map[string]int{}
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.Type == TypeTrack {
			seen[m.Event] = true
		}
	}
	if len(seen) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(seen))
	find := func(names []string) error {
		for _, c := range chunks(len(names), 1) {
			part := names[c[0]:c[1]]
			args := []any{b.appID}
			for _, n := range part {
				args = append(args, n)
			}
			rows, err := b.db.query(ctx, `SELECT id, name FROM event_definitions WHERE app_id = ? AND name IN (`+storage.List(len(part))+`)`, args...)
			if err != nil {
				return fmt.Errorf("find event definitions: %w", err)
			}
			for rows.Next() {
				var id int
				var name string
				if err := rows.Scan(&id, &name); err != nil {
					rows.Close()
					return err
				}
				b.events[name] = id
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if err := find(names); err != nil {
		return err
	}
	var missing []string
	for _, n := range names {
		if _, ok := b.events[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, c := range chunks(len(missing), 5) {
		part := missing[c[0]:c[1]]
		args := make([]any, 0, len(part)*5)
		for _, n := range part {
			args = append(args, b.appID, n, 0, b.now, b.now)
		}
		if _, err := b.db.exec(ctx, `INSERT INTO event_definitions (app_id, name, occurrences, created_at, updated_at) VALUES `+
			storage.Placeholders(len(part), 5)+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("create event definitions: %w", err)
		}
	}
	return find(missing)
}

// later is the later of two nullable times, in SQL both dialects run.
func later(a, b string) string {
	return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN %[2]s WHEN %[2]s IS NULL THEN %[1]s WHEN %[2]s > %[1]s THEN %[2]s ELSE %[1]s END", a, b)
}

// earlier is the earlier of two nullable times.
func earlier(a, b string) string {
	return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN %[2]s WHEN %[2]s IS NULL THEN %[1]s WHEN %[2]s < %[1]s THEN %[2]s ELSE %[1]s END", a, b)
}

// definitionKey names an attribute definition: scope, event (0 but for EVENT) and key.
type definitionKey struct {
	scope attributedefinition.Scope
	event int
	key   string
}

type definitions map[definitionKey]*ent.AttributeDefinition

func (d definitions) typed(k definitionKey) (attribute.Definition, int, bool) {
	def, ok := d[k]
	if !ok {
		return attribute.Definition{}, 0, false
	}
	return attribute.Definition{Type: attribute.Type(def.Type), Choices: def.Choices, AllowMultiple: def.AllowMultiple}, def.ID, true
}

// customKeys lists the definition keys the messages' custom traits and properties need.
func (b *batch) customKeys(msgs []Message) map[definitionKey]bool {
	keys := map[definitionKey]bool{}
	add := func(scope attributedefinition.Scope, event int, values map[string]any) {
		for k := range values {
			if attribute.ValidateKey(k) == nil {
				keys[definitionKey{scope, event, k}] = true
			}
		}
	}
	for i := range msgs {
		m := &msgs[i]
		switch m.Type {
		case TypeIdentify:
			_, custom := standard.UserTraits(m.Traits)
			add(attributedefinition.ScopeUSER, 0, custom)
		case TypeGroup:
			_, custom := standard.CompanyTraits(m.Traits)
			add(attributedefinition.ScopeCOMPANY, 0, custom)
		case TypeTrack:
			add(attributedefinition.ScopeEVENT, b.events[m.Event], m.Properties)
		}
	}
	return keys
}

// loadDefinitions reads the definitions of every key the batch uses, creating STRING
// definitions for keys seen for the first time. The batch holds the app's definitions
// lock shared (see write), so values are never written by a type being changed.
func (b *batch) loadDefinitions(ctx context.Context, msgs []Message) error {
	want := b.customKeys(msgs)
	b.defs = definitions{}
	b.rejected = map[int]*rejection{}
	if len(want) == 0 {
		return nil
	}
	keys := map[string]bool{}
	for k := range want {
		keys[k.key] = true
	}
	keyList := slices.Sorted(maps.Keys(keys))
	read := func() error {
		for _, c := range chunks(len(keyList), 1) {
			defs, err := b.db.tx.AttributeDefinition.Query().Where(attributedefinition.KeyIn(keyList[c[0]:c[1]]...)).All(ctx)
			if err != nil {
				return fmt.Errorf("read attribute definitions: %w", err)
			}
			for _, d := range defs {
				event := 0
				if d.EventDefinitionID != nil {
					event = *d.EventDefinitionID
				}
				b.defs[definitionKey{d.Scope, event, d.Key}] = d
			}
		}
		return nil
	}
	if err := read(); err != nil {
		return err
	}
	var missing []definitionKey
	for k := range want {
		if _, ok := b.defs[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Slice(missing, func(i, j int) bool {
		a, c := missing[i], missing[j]
		if a.scope != c.scope {
			return a.scope < c.scope
		}
		if a.event != c.event {
			return a.event < c.event
		}
		return a.key < c.key
	})
	for _, c := range chunks(len(missing), 11) {
		part := missing[c[0]:c[1]]
		args := make([]any, 0, len(part)*11)
		for _, k := range part {
			var event any
			if k.scope == attributedefinition.ScopeEVENT {
				event = k.event
			}
			args = append(args, b.appID, string(k.scope), event, k.key, k.key, string(attributedefinition.TypeSTRING), false, true, 0, b.now, b.now)
		}
		if _, err := b.db.exec(ctx, `INSERT INTO attribute_definitions
			(app_id, scope, event_definition_id, key, name, type, allow_multiple, created_automatically, rejected_count, created_at, updated_at)
			VALUES `+storage.Placeholders(len(part), 11)+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("create attribute definitions: %w", err)
		}
	}
	return read()
}

// typeValues converts custom values by their definitions into a patch (nil: remove).
func (b *batch) typeValues(scope attributedefinition.Scope, event int, values map[string]any) map[string]any {
	if len(values) == 0 {
		return nil
	}
	patch := make(map[string]any, len(values))
	for k, v := range values {
		def, id, ok := b.defs.typed(definitionKey{scope, event, k})
		if !ok {
			continue // an invalid key: dropped (see docs/decisions.md)
		}
		if v == nil {
			patch[k] = nil
			continue
		}
		stored, ok := attribute.Coerce(def, v)
		if !ok {
			r := b.rejected[id]
			if r == nil {
				r = &rejection{}
				b.rejected[id] = r
			}
			r.count++
			r.last = v
			continue
		}
		patch[k] = stored
	}
	return patch
}

func (b *batch) lookup(kind identity.Kind, value string) (userRef, bool) {
	ref, ok := b.identities[identityKey{kind, value}]
	return ref, ok
}

func (b *batch) addIdentity(kind identity.Kind, value string, ref userRef) {
	k := identityKey{kind, value}
	if _, ok := b.identities[k]; ok {
		return
	}
	b.identities[k] = ref
	b.newIdentity = append(b.newIdentity, k)
	b.newIdentRef = append(b.newIdentRef, ref)
}

func (b *batch) createUser(userID string) userRef {
	b.newUsers = append(b.newUsers, newUser{userID: userID})
	ref := userRef(-len(b.newUsers))
	if userID != "" {
		b.addIdentity(identity.KindUSER_ID, userID, ref)
		b.hasUserID[ref] = true
	}
	return ref
}

// giveUserID makes an anonymous profile the profile of userID: the visitor signed in.
func (b *batch) giveUserID(ref userRef, userID string) {
	b.addIdentity(identity.KindUSER_ID, userID, ref)
	b.hasUserID[ref] = true
	b.activity(ref).userID = userID
}

// attachAnonymous records that the user of ref also used anonymousID. When that id
// belongs to an anonymous profile, the profile is merged into ref's.
func (b *batch) attachAnonymous(ref userRef, anonymousID string) {
	other, ok := b.lookup(identity.KindANONYMOUS_ID, anonymousID)
	switch {
	case !ok:
		b.addIdentity(identity.KindANONYMOUS_ID, anonymousID, ref)
	case other != ref && !b.hasUserID[other]:
		b.merge(other, ref)
	}
}

// merge moves from's identifiers to into now; the rows follow after the batch's writes.
func (b *batch) merge(from, into userRef) {
	for k, r := range b.identities {
		if r == from {
			b.identities[k] = into
		}
	}
	b.merges = append(b.merges, merge{from, into})
}

// resolve finds (or creates) the user of a message, by PRODUCT.md 2.1.
func (b *batch) resolve(m *Message) userRef {
	if m.Type == TypeAlias {
		return b.resolveAlias(m)
	}
	if m.UserID == "" {
		if ref, ok := b.lookup(identity.KindANONYMOUS_ID, m.AnonymousID); ok {
			return ref
		}
		ref := b.createUser("")
		b.addIdentity(identity.KindANONYMOUS_ID, m.AnonymousID, ref)
		return ref
	}
	if ref, ok := b.lookup(identity.KindUSER_ID, m.UserID); ok {
		if m.AnonymousID != "" {
			b.attachAnonymous(ref, m.AnonymousID)
		}
		return ref
	}
	if m.AnonymousID != "" {
		if ref, ok := b.lookup(identity.KindANONYMOUS_ID, m.AnonymousID); ok && !b.hasUserID[ref] {
			b.giveUserID(ref, m.UserID)
			return ref
		}
	}
	ref := b.createUser(m.UserID)
	if m.AnonymousID != "" {
		b.attachAnonymous(ref, m.AnonymousID)
	}
	return ref
}

// resolveAlias merges the profile of previousId into the profile of userId.
func (b *batch) resolveAlias(m *Message) userRef {
	target, hasTarget := b.lookup(identity.KindUSER_ID, m.UserID)
	prev, hasPrev := b.lookup(identity.KindUSER_ID, m.PreviousID)
	if !hasPrev {
		prev, hasPrev = b.lookup(identity.KindANONYMOUS_ID, m.PreviousID)
	}
	switch {
	case !hasTarget && !hasPrev:
		target = b.createUser(m.UserID)
	case !hasTarget:
		if b.hasUserID[prev] {
			b.addIdentity(identity.KindUSER_ID, m.UserID, prev)
		} else {
			b.giveUserID(prev, m.UserID)
		}
		target = prev
	case hasPrev && prev != target:
		b.merge(prev, target)
	}
	// previousId finds the profile from now on, whichever kind of id it was.
	b.addIdentity(identity.KindUSER_ID, m.PreviousID, target)
	b.addIdentity(identity.KindANONYMOUS_ID, m.PreviousID, target)
	return target
}

func (b *batch) activity(ref userRef) *activity {
	a := b.users[ref]
	if a == nil {
		a = &activity{}
		b.users[ref] = a
		b.userOrder = append(b.userOrder, ref)
	}
	return a
}

func (b *batch) companyActivity(id int) *activity {
	a := b.companyAct[id]
	if a == nil {
		a = &activity{}
		b.companyAct[id] = a
	}
	return a
}

// plan applies one message to the batch's in-memory state.
func (b *batch) plan(m *Message) {
	if b.users == nil {
		b.users, b.companyAct, b.members = map[userRef]*activity{}, map[int]*activity{}, map[[2]int]bool{}
	}
	ref := b.resolve(m)
	a := b.activity(ref)
	if a.firstSeen == nil || m.Time.Before(*a.firstSeen) {
		t := m.Time
		a.firstSeen = &t
	}
	if m.Context != nil {
		a.setFields(standard.Context(m.Context))
	}
	switch m.Type {
	case TypeIdentify:
		fields, custom := standard.UserTraits(m.Traits)
		a.setFields(fields)
		a.setAttrs(b.typeValues(attributedefinition.ScopeUSER, 0, custom))
	case TypePage, TypeScreen:
		a.pageViews++
		if a.lastSeen == nil || m.Time.After(*a.lastSeen) {
			t := m.Time
			a.lastSeen = &t
		}
		kind := "PAGE"
		if m.Type == TypeScreen {
			kind = "SCREEN"
		}
		b.pageViews = append(b.pageViews, pageViewRow{user: ref, kind: kind, m: m})
	case TypeTrack:
		event := b.events[m.Event]
		props := b.typeValues(attributedefinition.ScopeEVENT, event, m.Properties)
		for k, v := range props {
			if v == nil {
				delete(props, k) // null in an occurrence is just absent
			}
		}
		b.occurs = append(b.occurs, occurrenceRow{user: ref, eventID: event, props: props, m: m})
	case TypeGroup:
		company := b.companies[m.GroupID]
		fields, custom := standard.CompanyTraits(m.Traits)
		ca := b.companyActivity(company)
		ca.setFields(fields)
		ca.setAttrs(b.typeValues(attributedefinition.ScopeCOMPANY, 0, custom))
		b.members[[2]int{int(ref), company}] = true
	}
}

func (a *activity) setFields(f standard.Fields) {
	if len(f) == 0 {
		return
	}
	if a.fields == nil {
		a.fields = standard.Fields{}
	}
	maps.Copy(a.fields, f)
}

func (a *activity) setAttrs(patch map[string]any) {
	if len(patch) == 0 {
		return
	}
	if a.attrs == nil {
		a.attrs = map[string]any{}
	}
	maps.Copy(a.attrs, patch)
}

// jsonText is v as JSON text for a statement parameter.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
