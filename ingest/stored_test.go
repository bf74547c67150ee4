package ingest_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/ent/pageview"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

const chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

// TestIdentifyStandardFields: reserved traits in camelCase and snake_case, the name
// split, the address, and null clearing a field (PRODUCT.md 2.2).
func TestIdentifyStandardFields(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.call(msg{"type": "identify", "userId": "camel", "traits": msg{
			"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "phone": "+44 20 7946 0000",
			"gender": "female", "address": msg{"country": "UK", "state": "London", "city": "London",
				"street": "12 St James's Square", "postalCode": "SW1Y 4JH"},
		}})
		u := e.mustUser("camel")
		got := []string{str(u.Email), str(u.FirstName), str(u.LastName), str(u.Phone), str(u.Gender),
			str(u.Country), str(u.Region), str(u.City), str(u.Street), str(u.PostalCode)}
		want := []string{"ada@example.com", "Ada", "Lovelace", "+44 20 7946 0000", "female",
			"UK", "London", "London", "12 St James's Square", "SW1Y 4JH"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("camelCase traits stored as %q, want %q", got, want)
		}
		if len(u.Attributes) != 0 {
			t.Errorf("reserved traits became custom attributes: %v", u.Attributes)
		}

		e.call(msg{"type": "identify", "userId": "snake", "traits": msg{
			"first_name": "Grace", "last_name": "Hopper", "address": msg{"region": "Virginia", "postal_code": "22201"},
		}})
		u = e.mustUser("snake")
		if str(u.FirstName) != "Grace" || str(u.LastName) != "Hopper" || str(u.Region) != "Virginia" || str(u.PostalCode) != "22201" {
			t.Errorf("snake_case traits: %s %s %s %s", str(u.FirstName), str(u.LastName), str(u.Region), str(u.PostalCode))
		}

		// name is split at the first space when first and last name are both absent.
		e.call(msg{"type": "identify", "userId": "named", "traits": msg{"name": "Augusta Ada King"}})
		if u := e.mustUser("named"); str(u.FirstName) != "Augusta" || str(u.LastName) != "Ada King" {
			t.Errorf("name split into %q / %q", str(u.FirstName), str(u.LastName))
		}
		e.call(msg{"type": "identify", "userId": "named", "traits": msg{"name": "Someone Else", "firstName": "Ada"}})
		if u := e.mustUser("named"); str(u.FirstName) != "Ada" || str(u.LastName) != "Ada King" {
			t.Errorf("name used although firstName was given: %q / %q", str(u.FirstName), str(u.LastName))
		}

		// null clears a field; absent traits leave theirs alone.
		e.call(msg{"type": "identify", "userId": "camel", "traits": msg{"email": nil, "lastName": nil}})
		u = e.mustUser("camel")
		if u.Email != nil || u.LastName != nil {
			t.Errorf("null did not clear: email %s last name %s", str(u.Email), str(u.LastName))
		}
		if str(u.FirstName) != "Ada" || str(u.Phone) != "+44 20 7946 0000" || str(u.City) != "London" {
			t.Errorf("absent traits changed: %s %s %s", str(u.FirstName), str(u.Phone), str(u.City))
		}
		e.call(msg{"type": "identify", "userId": "camel", "traits": msg{"address": nil}})
		if u := e.mustUser("camel"); u.Country != nil || u.Region != nil || u.City != nil || u.Street != nil || u.PostalCode != nil {
			t.Errorf("address null left %s %s %s", str(u.Country), str(u.Region), str(u.City))
		}
	})
}

// TestContextFields: the context of any call fills the device and browser columns.
func TestContextFields(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.call(msg{"type": "track", "userId": "ctx", "event": "Viewed", "context": msg{
			"userAgent": chromeUA,
			"ip":        "203.0.113.7",
			"locale":    "de-DE",
			"screen":    msg{"width": 1920, "height": 1080},
			"timezone":  "Europe/Berlin",
			"page":      msg{"url": "https://example.com/pricing?plan=pro"},
		}})
		u := e.mustUser("ctx")
		checks := map[string][2]string{
			"user_agent":     {str(u.UserAgent), chromeUA},
			"browser_family": {str(u.BrowserFamily), "Chrome"},
			"os":             {str(u.Os), "Windows"},
			"device_type":    {str(u.DeviceType), "desktop"},
			"ip_address":     {str(u.IPAddress), "203.0.113.7"},
			"language":       {str(u.Language), "de-DE"},
			"resolution":     {str(u.Resolution), "1920x1080"},
			"timezone":       {str(u.Timezone), "Europe/Berlin"},
			"current_url":    {str(u.CurrentURL), "https://example.com/pricing?plan=pro"},
		}
		for col, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s = %q, want %q", col, c[0], c[1])
			}
		}
		if v := str(u.BrowserVersion); v == "<nil>" || v[:3] != "120" {
			t.Errorf("browser_version = %q, want 120…", v)
		}

		// The context's own os and device win over the parsed user agent.
		e.call(msg{"type": "page", "userId": "ctx", "context": msg{
			"userAgent": chromeUA,
			"os":        msg{"name": "iOS", "version": "17.1"},
			"device":    msg{"model": "iPhone15,2", "type": "ios"},
		}})
		u = e.mustUser("ctx")
		if str(u.Os) != "iOS 17.1" || str(u.DeviceName) != "iPhone15,2" || str(u.DeviceType) != "ios" {
			t.Errorf("os %q device %q type %q", str(u.Os), str(u.DeviceName), str(u.DeviceType))
		}
		if str(u.IPAddress) != "203.0.113.7" || str(u.Resolution) != "1920x1080" {
			t.Errorf("a context without ip and screen cleared them: %s %s", str(u.IPAddress), str(u.Resolution))
		}

		// The batch envelope's context applies to every message; a message's own wins.
		e.batchBody(msg{
			"context": msg{"ip": "198.51.100.1", "locale": "fr-FR", "device": msg{"name": "Envelope"}},
			"batch": []any{
				msg{"type": "identify", "userId": "env-1"},
				msg{"type": "identify", "userId": "env-2", "context": msg{"locale": "it-IT"}},
			},
		})
		if u := e.mustUser("env-1"); str(u.IPAddress) != "198.51.100.1" || str(u.Language) != "fr-FR" || str(u.DeviceName) != "Envelope" {
			t.Errorf("envelope context: ip %s language %s device %s", str(u.IPAddress), str(u.Language), str(u.DeviceName))
		}
		if u := e.mustUser("env-2"); str(u.IPAddress) != "198.51.100.1" || str(u.Language) != "it-IT" {
			t.Errorf("message context over envelope: ip %s language %s", str(u.IPAddress), str(u.Language))
		}
	})
}

// TestSeedExample is PRODUCT.md 3's example, exactly: with custom_integer defined as
// INTEGER, traits {custom_integer:"123", custom_integer_new:999} store 123 (a number)
// and "999" (text, in a new STRING definition).
func TestSeedExample(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.defineAttribute(attributedefinition.ScopeUSER, "custom_integer", attributedefinition.TypeINTEGER)
		e.call(msg{"type": "identify", "userId": "seed", "traits": msg{"custom_integer": "123", "custom_integer_new": 999}})

		u := e.mustUser("seed")
		if v, ok := u.Attributes["custom_integer"].(float64); !ok || v != 123 {
			t.Errorf("custom_integer = %#v, want the number 123", u.Attributes["custom_integer"])
		}
		if v, ok := u.Attributes["custom_integer_new"].(string); !ok || v != "999" {
			t.Errorf("custom_integer_new = %#v, want the text \"999\"", u.Attributes["custom_integer_new"])
		}
		def := e.definition(attributedefinition.ScopeUSER, "custom_integer_new")
		if def == nil || def.Type != attributedefinition.TypeSTRING || !def.CreatedAutomatically {
			t.Fatalf("custom_integer_new definition: %+v", def)
		}
		if d := e.definition(attributedefinition.ScopeUSER, "custom_integer"); d.Type != attributedefinition.TypeINTEGER || d.CreatedAutomatically {
			t.Errorf("the admin's definition changed: %+v", d)
		}

		// An unconvertible value is ignored, the old one kept, and the rejection counted.
		e.call(msg{"type": "identify", "userId": "seed", "traits": msg{"custom_integer": "abc"}})
		e.call(msg{"type": "identify", "userId": "seed", "traits": msg{"custom_integer": 12.5}})
		if v := e.mustUser("seed").Attributes["custom_integer"]; v != float64(123) {
			t.Errorf("after rejected values custom_integer = %#v, want 123", v)
		}
		d := e.definition(attributedefinition.ScopeUSER, "custom_integer")
		if d.RejectedCount != 2 || string(d.LastRejectedValue) != "12.5" {
			t.Errorf("rejections: count %d, last %s; want 2, 12.5", d.RejectedCount, d.LastRejectedValue)
		}
		e.call(msg{"type": "identify", "userId": "seed", "traits": msg{"custom_integer": " 77 "}})
		if v := e.mustUser("seed").Attributes["custom_integer"]; v != float64(77) {
			t.Errorf("\" 77 \" stored as %#v", v)
		}
		// null clears the attribute.
		e.call(msg{"type": "identify", "userId": "seed", "traits": msg{"custom_integer": nil}})
		if _, ok := e.mustUser("seed").Attributes["custom_integer"]; ok {
			t.Error("null did not clear custom_integer")
		}
		if v := e.mustUser("seed").Attributes["custom_integer_new"]; v != "999" {
			t.Errorf("clearing one attribute changed another: %#v", v)
		}
	})
}

// TestCustomTraitTypes: every type of PRODUCT.md 3 through identify.
func TestCustomTraitTypes(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.defineAttribute(attributedefinition.ScopeUSER, "ratio", attributedefinition.TypeFLOAT)
		e.defineAttribute(attributedefinition.ScopeUSER, "vip", attributedefinition.TypeBOOLEAN)
		e.defineAttribute(attributedefinition.ScopeUSER, "born", attributedefinition.TypeDATE)
		e.defineAttribute(attributedefinition.ScopeUSER, "signed_up", attributedefinition.TypeDATETIME)
		e.defineAttribute(attributedefinition.ScopeUSER, "prefs", attributedefinition.TypeJSON)
		e.client().AttributeDefinition.Create().SetScope(attributedefinition.ScopeUSER).SetKey("tier").SetName("Tier").
			SetType(attributedefinition.TypeFIXED).SetChoices([]string{"gold", "silver"}).SaveX(e.ctx())
		e.client().AttributeDefinition.Create().SetScope(attributedefinition.ScopeUSER).SetKey("tags").SetName("Tags").
			SetType(attributedefinition.TypeFIXED).SetChoices([]string{"a", "b", "c"}).SetAllowMultiple(true).SaveX(e.ctx())

		e.call(msg{"type": "identify", "userId": "typed", "traits": msg{
			"ratio": "3.5", "vip": "Yes", "born": "1990-04-01T23:30:00-02:00", "signed_up": 1700000000,
			"prefs": msg{"theme": "dark", "n": []any{1, 2}}, "tier": "gold", "tags": []any{"a", "z", "c"},
			"flag": true, "obj": msg{"b": 1, "a": "x"}, "list": []any{1, "two"}, "with.dot": "d", `quo"te`: "q", "__proto__": "p",
		}})
		u := e.mustUser("typed")
		want := map[string]any{
			"ratio": 3.5, "vip": true, "born": "1990-04-02", "signed_up": "2023-11-14T22:13:20.000000Z",
			"prefs": map[string]any{"theme": "dark", "n": []any{1.0, 2.0}}, "tier": "gold", "tags": []any{"a", "c"},
			"flag": "true", "obj": `{"a":"x","b":1}`, "list": `[1,"two"]`, "with.dot": "d", `quo"te`: "q", "__proto__": "p",
		}
		if !reflect.DeepEqual(u.Attributes, want) {
			got, _ := json.Marshal(u.Attributes)
			exp, _ := json.Marshal(want)
			t.Errorf("attributes\n got %s\nwant %s", got, exp)
		}

		// Rejected values keep the old ones and are counted per definition.
		e.call(msg{"type": "identify", "userId": "typed", "traits": msg{
			"ratio": "NaN", "vip": "maybe", "born": "someday", "signed_up": true, "tier": "bronze",
		}})
		u2 := e.mustUser("typed")
		for _, k := range []string{"ratio", "vip", "born", "signed_up", "tier"} {
			if !reflect.DeepEqual(u2.Attributes[k], want[k]) {
				t.Errorf("%s changed to %#v by a rejected value", k, u2.Attributes[k])
			}
			if d := e.definition(attributedefinition.ScopeUSER, k); d.RejectedCount != 1 {
				t.Errorf("%s: rejected count %d, want 1", k, d.RejectedCount)
			}
		}
		if d := e.definition(attributedefinition.ScopeUSER, "tier"); string(d.LastRejectedValue) != `"bronze"` {
			t.Errorf("tier last rejected %s", d.LastRejectedValue)
		}
	})
}

// TestPageAndScreen: pageViews count, lastSeen never moves backwards, the page view row
// keeps its fields, and firstSeen is the earliest event time of any call.
func TestPageAndScreen(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		t1 := time.Date(2024, 5, 1, 10, 0, 0, 123456000, time.UTC)
		t0 := t1.Add(-30 * 24 * time.Hour)
		t2 := t1.Add(time.Hour)
		e.call(msg{"type": "page", "userId": "reader", "name": "Pricing", "category": "Docs", "timestamp": iso(t1),
			"properties": msg{"url": "https://example.com/pricing?x=1", "path": "/pricing", "title": "Pricing — Example",
				"referrer": "https://google.com/", "search": "?x=1", "plan": "pro", "count": 3}})
		u := e.mustUser("reader")
		if u.PageViews != 1 {
			t.Errorf("pageViews = %d", u.PageViews)
		}
		sameInstant(t, "lastSeen", u.LastSeen, t1)
		sameInstant(t, "firstSeen", u.FirstSeen, t1)
		pvs := e.pageViewsOf(u.ID)
		if len(pvs) != 1 {
			t.Fatalf("%d page views", len(pvs))
		}
		pv := pvs[0]
		got := []string{str(pv.URL), str(pv.Path), str(pv.Title), str(pv.Referrer), str(pv.Search), str(pv.Name), str(pv.Category), string(pv.Kind)}
		want := []string{"https://example.com/pricing?x=1", "/pricing", "Pricing — Example", "https://google.com/", "?x=1", "Pricing", "Docs", "PAGE"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("page view %q, want %q", got, want)
		}
		if !reflect.DeepEqual(pv.Properties, map[string]any{"plan": "pro", "count": 3.0}) {
			t.Errorf("page view properties %v", pv.Properties)
		}
		sameInstant(t, "page view timestamp", &pv.Timestamp, t1)

		// An older page view counts but does not move lastSeen back; it moves firstSeen.
		e.call(msg{"type": "page", "userId": "reader", "timestamp": iso(t0)})
		u = e.mustUser("reader")
		if u.PageViews != 2 {
			t.Errorf("pageViews = %d, want 2", u.PageViews)
		}
		sameInstant(t, "lastSeen after an older page", u.LastSeen, t1)
		sameInstant(t, "firstSeen after an older page", u.FirstSeen, t0)

		// A screen counts like a page.
		e.call(msg{"type": "screen", "userId": "reader", "name": "Settings", "timestamp": iso(t2), "properties": msg{"variant": "b"}})
		u = e.mustUser("reader")
		sameInstant(t, "lastSeen after a screen", u.LastSeen, t2)
		if u.PageViews != 3 {
			t.Errorf("pageViews = %d, want 3", u.PageViews)
		}
		screens := e.client().PageView.Query().Where(pageview.KindEQ(pageview.KindSCREEN)).AllX(e.ctx())
		if len(screens) != 1 || str(screens[0].Name) != "Settings" || screens[0].Properties["variant"] != "b" {
			t.Errorf("screen rows: %v", screens)
		}

		// Other calls move firstSeen (when earlier) but never lastSeen.
		early := t0.Add(-time.Hour)
		e.call(msg{"type": "identify", "userId": "reader", "timestamp": iso(early)})
		e.call(msg{"type": "track", "userId": "reader", "event": "Late", "timestamp": iso(t2.Add(time.Hour))})
		u = e.mustUser("reader")
		sameInstant(t, "firstSeen after an early identify", u.FirstSeen, early)
		sameInstant(t, "lastSeen after a later track", u.LastSeen, t2)

		// Within one batch too: the later page wins whatever the order.
		e.batch(
			msg{"type": "page", "userId": "batched", "timestamp": iso(t2)},
			msg{"type": "page", "userId": "batched", "timestamp": iso(t1)},
		)
		u = e.mustUser("batched")
		sameInstant(t, "lastSeen in a batch", u.LastSeen, t2)
		sameInstant(t, "firstSeen in a batch", u.FirstSeen, t1)
		if u.PageViews != 2 {
			t.Errorf("batched pageViews = %d", u.PageViews)
		}

		// A user who never had a page view has no lastSeen.
		e.call(msg{"type": "identify", "userId": "quiet"})
		if u := e.mustUser("quiet"); u.LastSeen != nil || u.FirstSeen == nil || u.PageViews != 0 {
			t.Errorf("identify only: lastSeen %v firstSeen %v pageViews %d", u.LastSeen, u.FirstSeen, u.PageViews)
		}
	})
}

// TestTrack: an occurrence with typed properties; the event definition and its
// property definitions are created on first sight and counted.
func TestTrack(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		at := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		e.call(msg{"type": "track", "userId": "buyer", "event": "Order Completed", "messageId": "o1", "timestamp": iso(at),
			"properties": msg{"revenue": 12.5, "items": 3, "coupon": nil, "express": true, "meta": msg{"k": "v"}}})
		u := e.mustUser("buyer")
		occ := e.occurrencesOf(u.ID)
		if len(occ) != 1 {
			t.Fatalf("%d occurrences", len(occ))
		}
		o := occ[0]
		if o.Name != "Order Completed" || o.MessageID != "o1" {
			t.Errorf("occurrence %+v", o)
		}
		sameInstant(t, "occurrence time", &o.Timestamp, at)
		// No definitions yet: every property is text (STRING), null is absent.
		if !reflect.DeepEqual(o.Properties, map[string]any{"revenue": "12.5", "items": "3", "express": "true", "meta": `{"k":"v"}`}) {
			t.Errorf("properties %v", o.Properties)
		}
		def := e.eventDefinition("Order Completed")
		if n := e.occurrenceCount("Order Completed"); n != 1 {
			t.Errorf("occurrences = %d", n)
		}
		for _, k := range []string{"revenue", "items", "coupon", "express", "meta"} {
			d := e.definition(attributedefinition.ScopeEVENT, k, "Order Completed")
			if d == nil || d.Type != attributedefinition.TypeSTRING || !d.CreatedAutomatically || d.EventDefinitionID == nil || *d.EventDefinitionID != def.ID {
				t.Errorf("definition of property %s: %+v", k, d)
			}
		}
		if d := e.definition(attributedefinition.ScopeUSER, "revenue"); d != nil {
			t.Error("an event property created a USER definition")
		}

		// Typed by the definition once an admin changes it.
		e.client().AttributeDefinition.UpdateOne(e.definition(attributedefinition.ScopeEVENT, "revenue", "Order Completed")).
			SetType(attributedefinition.TypeFLOAT).ExecX(e.ctx())
		e.call(msg{"type": "track", "userId": "buyer", "event": "Order Completed", "properties": msg{"revenue": "19.99"}})
		e.call(msg{"type": "track", "userId": "buyer", "event": "Order Completed", "properties": msg{"revenue": "lots"}})
		occ = e.occurrencesOf(u.ID)
		if len(occ) != 3 || occ[1].Properties["revenue"] != 19.99 {
			t.Errorf("typed revenue: %v", occ[1].Properties)
		}
		if _, ok := occ[2].Properties["revenue"]; ok {
			t.Errorf("an unconvertible property was stored: %v", occ[2].Properties)
		}
		if d := e.definition(attributedefinition.ScopeEVENT, "revenue", "Order Completed"); d.RejectedCount != 1 || string(d.LastRejectedValue) != `"lots"` {
			t.Errorf("revenue rejections %d %s", d.RejectedCount, d.LastRejectedValue)
		}
		if n := e.occurrenceCount("Order Completed"); n != 3 {
			t.Errorf("occurrences = %d, want 3", n)
		}

		// The same key on another event is another definition.
		e.call(msg{"type": "track", "userId": "buyer", "event": "Refund", "properties": msg{"revenue": 5}})
		if d := e.definition(attributedefinition.ScopeEVENT, "revenue", "Refund"); d == nil || d.Type != attributedefinition.TypeSTRING {
			t.Errorf("Refund revenue definition %+v", d)
		}
		if n := e.count(e.client().EventDefinition.Query()); n != 2 {
			t.Errorf("%d event definitions", n)
		}
	})
}

// TestGroup: companies by groupId, semantic traits, custom company attributes, and
// memberships that a repeated call does not duplicate.
func TestGroup(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.defineAttribute(attributedefinition.ScopeCOMPANY, "seats", attributedefinition.TypeINTEGER)
		e.call(msg{"type": "group", "userId": "member", "groupId": "acme", "traits": msg{
			"name": "Acme", "employees": "12", "email": "info@acme.test", "phone": "555", "description": "Anvils",
			"address": msg{"country": "US", "state": "AZ", "city": "Phoenix"}, "industry": "Tools", "seats": "40",
		}})
		c := e.company("acme")
		if str(c.Name) != "Acme" || c.Employees == nil || *c.Employees != 12 || str(c.Email) != "info@acme.test" ||
			str(c.Phone) != "555" || str(c.Description) != "Anvils" || str(c.Country) != "US" || str(c.Region) != "AZ" || str(c.City) != "Phoenix" {
			t.Errorf("company fields: %+v", c)
		}
		if !reflect.DeepEqual(c.Attributes, map[string]any{"industry": "Tools", "seats": 40.0}) {
			t.Errorf("company attributes %v", c.Attributes)
		}
		if d := e.definition(attributedefinition.ScopeCOMPANY, "industry"); d == nil || !d.CreatedAutomatically || d.Type != attributedefinition.TypeSTRING {
			t.Errorf("industry definition %+v", d)
		}
		if d := e.definition(attributedefinition.ScopeUSER, "industry"); d != nil {
			t.Error("a company trait created a USER definition")
		}

		// An unconvertible employees value is ignored; others change.
		e.call(msg{"type": "group", "userId": "member", "groupId": "acme", "traits": msg{"employees": "many", "name": "Acme Inc."}})
		c = e.company("acme")
		if c.Employees == nil || *c.Employees != 12 || str(c.Name) != "Acme Inc." {
			t.Errorf("after employees \"many\": employees %v name %s", c.Employees, str(c.Name))
		}
		e.call(msg{"type": "group", "userId": "member", "groupId": "acme", "traits": msg{"employees": 250}})
		if c := e.company("acme"); c.Employees == nil || *c.Employees != 250 {
			t.Errorf("employees 250 stored as %v", c.Employees)
		}

		// Memberships: one per company, whatever the number of calls; several companies.
		e.call(msg{"type": "group", "anonymousId": "member-device", "userId": "member", "groupId": "acme"})
		e.call(msg{"type": "group", "userId": "member", "groupId": "globex"})
		u := e.mustUser("member")
		if g := e.groupsOf(u.ID); !reflect.DeepEqual(g, []string{"acme", "globex"}) {
			t.Errorf("groups %v", g)
		}
		if n := e.count(e.client().Membership.Query()); n != 2 {
			t.Errorf("%d memberships", n)
		}
		if n := e.count(e.client().Company.Query()); n != 2 {
			t.Errorf("%d companies", n)
		}
		// Group calls are about the user too: firstSeen is set.
		if u.FirstSeen == nil {
			t.Error("group did not set firstSeen")
		}
	})
}

// TestEventTime: timestamp; else receivedAt − (sentAt − originalTimestamp), with sentAt
// from the message or the batch envelope; else the time of receipt.
func TestEventTime(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ts := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
		original := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		skew := 90 * time.Second // the sender's clock says the call waited 90 s before sending

		pageTime := func(userID string) time.Time {
			t.Helper()
			pvs := e.pageViewsOf(e.mustUser(userID).ID)
			if len(pvs) != 1 {
				t.Fatalf("%s: %d page views", userID, len(pvs))
			}
			return pvs[0].Timestamp
		}
		within := func(what string, got, lo, hi time.Time) {
			t.Helper()
			if got.Before(lo.Add(-time.Millisecond)) || got.After(hi.Add(time.Millisecond)) {
				t.Errorf("%s = %s, want between %s and %s", what, got, lo, hi)
			}
		}

		e.call(msg{"type": "page", "userId": "stamped", "timestamp": "2023-01-02T04:04:05+01:00",
			"originalTimestamp": iso(original), "sentAt": iso(original.Add(skew))})
		if got := pageTime("stamped"); !got.Equal(ts) {
			t.Errorf("timestamp: %s, want %s", got, ts)
		}

		before := time.Now()
		e.call(msg{"type": "page", "userId": "skewed", "originalTimestamp": iso(original), "sentAt": iso(original.Add(skew))})
		after := time.Now()
		within("skew-corrected time", pageTime("skewed"), before.Add(-skew), after.Add(-skew))

		before = time.Now()
		e.batchBody(msg{"sentAt": iso(original.Add(skew)), "batch": []any{
			msg{"type": "page", "userId": "envelope", "originalTimestamp": iso(original)},
			msg{"type": "page", "userId": "own-sent-at", "originalTimestamp": iso(original), "sentAt": iso(original.Add(2 * skew))},
		}})
		after = time.Now()
		within("skew-corrected with the envelope's sentAt", pageTime("envelope"), before.Add(-skew), after.Add(-skew))
		within("skew-corrected with the message's own sentAt", pageTime("own-sent-at"), before.Add(-2*skew), after.Add(-2*skew))

		before = time.Now()
		e.call(msg{"type": "page", "userId": "received", "originalTimestamp": iso(original)}) // no sentAt
		after = time.Now()
		within("receipt time", pageTime("received"), before, after)
		u := e.mustUser("received")
		within("firstSeen at receipt", *u.FirstSeen, before, after)
	})
}

// TestUnchangedProfilesAreNotRewritten: a call that changes nothing of a profile (a
// repeated identify, a track with the same context) leaves its row alone — updatedAt
// stays — while one that changes something still updates it.
func TestUnchangedProfilesAreNotRewritten(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ctx := msg{"ip": "203.0.113.7", "userAgent": chromeUA, "locale": "en-GB"}
		identify := msg{"type": "identify", "userId": "steady", "context": ctx,
			"timestamp": "2026-01-01T10:00:00Z", "traits": msg{"email": "s@example.com", "plan": "pro", "seats": 3}}
		e.call(identify)
		e.call(msg{"type": "group", "userId": "steady", "groupId": "g1", "context": ctx,
			"timestamp": "2026-01-01T10:00:00Z", "traits": msg{"name": "Acme", "employees": 5}})
		before, company := e.mustUser("steady"), e.company("g1")

		time.Sleep(5 * time.Millisecond)
		e.call(identify)
		e.call(msg{"type": "track", "userId": "steady", "event": "Opened", "context": ctx, "timestamp": "2026-01-02T10:00:00Z"})
		e.call(msg{"type": "group", "userId": "steady", "groupId": "g1", "context": ctx,
			"timestamp": "2026-01-02T10:00:00Z", "traits": msg{"name": "Acme", "employees": 5}})
		after := e.mustUser("steady")
		if !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("a user row was rewritten by calls that change nothing: updatedAt %v → %v", before.UpdatedAt, after.UpdatedAt)
		}
		if got := e.company("g1"); !got.UpdatedAt.Equal(company.UpdatedAt) {
			t.Errorf("a company row was rewritten by a group call that changes nothing: updatedAt %v → %v", company.UpdatedAt, got.UpdatedAt)
		}
		if n := e.occurrenceCount("Opened"); n != 1 {
			t.Errorf("the track call was not recorded: %d occurrences", n)
		}

		// Each of these changes the row, so each must reach it.
		for i, m := range []msg{
			{"type": "identify", "userId": "steady", "context": ctx, "timestamp": "2026-01-02T10:00:00Z", "traits": msg{"seats": 4}},
			{"type": "page", "userId": "steady", "context": ctx, "timestamp": "2026-01-03T10:00:00Z"},
			{"type": "track", "userId": "steady", "event": "Opened", "context": msg{"ip": "198.51.100.1"}, "timestamp": "2026-01-03T10:00:00Z"},
			{"type": "track", "userId": "steady", "event": "Opened", "timestamp": "2025-12-01T10:00:00Z"},
		} {
			prev := e.mustUser("steady")
			time.Sleep(5 * time.Millisecond)
			e.call(m)
			if u := e.mustUser("steady"); u.UpdatedAt.Equal(prev.UpdatedAt) {
				t.Errorf("change %d (%v) did not update the row", i, m)
			}
		}
		u := e.mustUser("steady")
		if u.Attributes["seats"] == nil || u.PageViews != 1 || str(u.IPAddress) != "198.51.100.1" {
			t.Errorf("stored seats=%v pageViews=%d ip=%s", u.Attributes["seats"], u.PageViews, str(u.IPAddress))
		}
		sameInstant(t, "firstSeen", u.FirstSeen, time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC))
	})
}
