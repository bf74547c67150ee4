package segmentation

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/ent/predicate"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// seeder writes test data into one app through Ent, under the app's viewer.
type seeder struct {
	t      testing.TB
	db     *storage.DB
	ctx    context.Context
	app    int
	events map[string]int // event name → definition id
	msg    int
}

func newApp(t testing.TB, db *storage.DB, name string) *seeder {
	t.Helper()
	app, err := db.Client.App.Create().SetName(name).Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("create app: %v", err)
	}
	ctx := viewer.NewContext(context.Background(), viewer.Viewer{AppID: app.ID, Role: viewer.RoleAdmin})
	return &seeder{t: t, db: db, ctx: ctx, app: app.ID, events: map[string]int{}}
}

func (s *seeder) check(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// def creates an attribute definition; scope "USER", "COMPANY" or an event name.
func (s *seeder) def(scope, key, typ string, choices []string, multiple bool) {
	s.t.Helper()
	c := s.db.Client.AttributeDefinition.Create().SetKey(key).SetName(key).
		SetType(attributedefinition.Type(typ)).SetAllowMultiple(multiple)
	if choices != nil {
		c.SetChoices(choices)
	}
	switch scope {
	case "USER":
		c.SetScope(attributedefinition.ScopeUSER)
	case "COMPANY":
		c.SetScope(attributedefinition.ScopeCOMPANY)
	default:
		c.SetScope(attributedefinition.ScopeEVENT).SetEventDefinitionID(s.event(scope))
	}
	_, err := c.Save(s.ctx)
	s.check(err)
}

// event returns the id of the event definition name, creating it.
func (s *seeder) event(name string) int {
	s.t.Helper()
	if id, ok := s.events[name]; ok {
		return id
	}
	e, err := s.db.Client.EventDefinition.Create().SetName(name).Save(s.ctx)
	s.check(err)
	s.events[name] = e.ID
	return e.ID
}

// user creates a user with standard fields by column name (nil values are left out).
func (s *seeder) user(fields map[string]any, attrs map[string]any) int {
	s.t.Helper()
	c := s.db.Client.User.Create()
	if attrs == nil {
		attrs = map[string]any{}
	}
	c.SetAttributes(attrs)
	for k, v := range fields {
		if v == nil {
			continue
		}
		if t, ok := v.(time.Time); ok {
			v = t.UTC()
		}
		s.check(c.Mutation().SetField(k, v))
	}
	u, err := c.Save(s.ctx)
	s.check(err)
	return u.ID
}

func (s *seeder) occurrence(user int, name string, at time.Time, props map[string]any) {
	s.t.Helper()
	if props == nil {
		props = map[string]any{}
	}
	s.msg++
	_, err := s.db.Client.EventOccurrence.Create().SetUserID(user).SetEventDefinitionID(s.event(name)).
		SetName(name).SetProperties(props).SetTimestamp(at.UTC()).
		SetMessageID(fmt.Sprintf("m%d", s.msg)).Save(s.ctx)
	s.check(err)
}

func (s *seeder) pageView(user int, url *string, at time.Time) {
	s.t.Helper()
	s.msg++
	_, err := s.db.Client.PageView.Create().SetUserID(user).SetNillableURL(url).
		SetTimestamp(at.UTC()).SetMessageID(fmt.Sprintf("p%d", s.msg)).Save(s.ctx)
	s.check(err)
}

func (s *seeder) company(fields map[string]any, attrs map[string]any) int {
	s.t.Helper()
	c := s.db.Client.Company.Create()
	if attrs == nil {
		attrs = map[string]any{}
	}
	c.SetAttributes(attrs)
	for k, v := range fields {
		if v == nil {
			continue
		}
		if t, ok := v.(time.Time); ok {
			v = t.UTC()
		}
		s.check(c.Mutation().SetField(k, v))
	}
	co, err := c.Save(s.ctx)
	s.check(err)
	return co.ID
}

func (s *seeder) member(user, company int) {
	s.t.Helper()
	_, err := s.db.Client.Membership.Create().SetUserID(user).SetCompanyID(company).Save(s.ctx)
	s.check(err)
}

func (s *seeder) defs() Definitions {
	s.t.Helper()
	d, err := LoadDefinitions(s.ctx, s.db.Client)
	s.check(err)
	return d
}

// query evaluates f in the database and returns the matching user ids, sorted.
func (s *seeder) query(f *Filter, defs Definitions, now time.Time) ([]int, error) {
	p, err := Predicate(f, defs, s.db.Dialect, now)
	if err != nil {
		return nil, err
	}
	ids, err := s.db.Client.User.Query().Where(predicate.User(p)).IDs(s.ctx)
	if err != nil {
		return nil, err
	}
	sort.Ints(ids)
	return ids, nil
}

// names returns the userIds of the users with ids, sorted.
func (s *seeder) names(ids []int) []string {
	s.t.Helper()
	users, err := s.db.Client.User.Query().All(s.ctx)
	s.check(err)
	byID := map[int]*ent.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	out := []string{}
	for _, id := range ids {
		u := byID[id]
		if u == nil || u.UserID == nil {
			out = append(out, fmt.Sprintf("#%d", id))
			continue
		}
		out = append(out, *u.UserID)
	}
	sort.Strings(out)
	return out
}

func mustDecode(t testing.TB, js string) *Filter {
	t.Helper()
	f, err := Decode([]byte(js))
	if err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return f
}

func sameStrings(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func ptr[T any](v T) *T { return &v }

func ctxSystem() context.Context { return viewer.SystemContext(context.Background()) }

func viewerCtx(app int) context.Context {
	return viewer.NewContext(context.Background(), viewer.Viewer{AppID: app, Role: viewer.RoleAdmin})
}
