package segmentation

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

func testDefs() Definitions {
	return Definitions{
		User: map[string]attribute.Definition{
			"plan":     {Type: attribute.Fixed, Choices: []string{"free", "pro"}},
			"age":      {Type: attribute.Integer},
			"score":    {Type: attribute.Float},
			"vip":      {Type: attribute.Boolean},
			"birthday": {Type: attribute.Date},
			"trial":    {Type: attribute.DateTime},
			"nick":     {Type: attribute.String},
			"meta":     {Type: attribute.JSON},
		},
		Company: map[string]attribute.Definition{"mrr": {Type: attribute.Integer}},
		Events: map[string]EventDefinition{
			"Purchased": {ID: 7, Properties: map[string]attribute.Definition{"amount": {Type: attribute.Float}}},
		},
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		filter string
		errs   []string // "path: message fragment"
	}{
		{`{"and":[{"field":{"field":"EMAIL","operator":"IS_SET"}},{"attribute":{"key":"age","operator":"GT","value":"old"}}]}`,
			[]string{"filter.and[1].attribute.value: must be a number"}},
		{`{"and":[{"field":{"field":"EMAIL","operator":"IS_SET"}},{"attribute":{"key":"age","operator":"GT"}}]}`,
			[]string{"filter.and[1].attribute.value: GT needs a value"}},
		{`{"attribute":{"key":"nope","operator":"IS_SET"}}`, []string{`filter.attribute.key: unknown user attribute "nope"`}},
		{`{"attribute":{"key":"","operator":"IS_SET"}}`, []string{`filter.attribute.key: the key is missing`}},
		{`{"field":{"field":"SHOE_SIZE","operator":"IS_SET"}}`, []string{`filter.field.field: unknown user field "SHOE_SIZE"`}},
		{`{"field":{"field":"EMAIL","operator":"GT","value":"a"}}`, []string{"filter.field.operator: GT does not apply to a text value"}},
		{`{"field":{"field":"EMAIL","operator":"LIKE","value":"a"}}`, []string{`filter.field.operator: unknown operator "LIKE"`}},
		{`{"field":{"field":"EMAIL","value":"a"}}`, []string{`filter.field.operator: the operator is missing`}},
		{`{"field":{"field":"EMAIL","operator":"CONTAINS","value":""}}`, []string{`filter.field.value: CONTAINS needs a non-empty text`}},
		{`{"field":{"field":"EMAIL","operator":"IS_SET","value":"x"}}`, []string{`filter.field.value: IS_SET takes no value`}},
		{`{"field":{"field":"EMAIL","operator":"IN","value":"x"}}`, []string{`filter.field.value: IN takes no value`}},
		{`{"field":{"field":"EMAIL","operator":"IN"}}`, []string{`filter.field.values: IN needs values`}},
		{`{"field":{"field":"EMAIL","operator":"IN","values":[]}}`, []string{`filter.field.values: IN needs at least one value`}},
		{`{"field":{"field":"EMAIL","operator":"IN","values":["a",{"x":1}]}}`, []string{`filter.field.values[1]: must be a single value`}},
		{`{"field":{"field":"PAGE_VIEWS","operator":"BETWEEN","values":[1]}}`, []string{`filter.field.values: BETWEEN needs exactly two values`}},
		{`{"field":{"field":"PAGE_VIEWS","operator":"CONTAINS","value":1}}`, []string{`filter.field.operator: CONTAINS does not apply to a number value`}},
		{`{"field":{"field":"LAST_SEEN","operator":"GT","value":"yesterday"}}`, []string{`filter.field.value: must be a date and time`}},
		{`{"field":{"field":"LAST_SEEN","operator":"EQUALS","value":"2024-01-01"}}`, []string{`filter.field.operator: EQUALS does not apply to a time value`}},
		{`{"field":{"field":"LAST_SEEN","operator":"WITHIN_LAST_DAYS"}}`, []string{`filter.field.days: WITHIN_LAST_DAYS needs days (or hours)`}},
		{`{"field":{"field":"LAST_SEEN","operator":"WITHIN_LAST_DAYS","days":1,"hours":2}}`, []string{`filter.field.hours: give days or hours, not both`}},
		{`{"field":{"field":"LAST_SEEN","operator":"WITHIN_LAST_DAYS","days":-1}}`, []string{`filter.field.days: days must be between 0 and`}},
		{`{"field":{"field":"LAST_SEEN","operator":"GT","value":"2024-01-01","days":3}}`, []string{`filter.field.days: GT takes no days`}},
		{`{"attribute":{"key":"birthday","operator":"GT","value":"2024-02-30"}}`, []string{`filter.attribute.value: must be a date (ISO-8601`}},
		{`{"attribute":{"key":"birthday","operator":"WITHIN_LAST_DAYS","hours":3}}`, []string{`filter.attribute.hours: a DATE attribute has no time of day`}},
		{`{"attribute":{"key":"trial","operator":"EQUALS","value":"2024-01-01"}}`, []string{`filter.attribute.operator: EQUALS does not apply to a DATETIME value`}},
		{`{"attribute":{"key":"plan","operator":"EQUALS","value":"gold"}}`, []string{`filter.attribute.value: must be one of the choices ["free", "pro"]`}},
		{`{"attribute":{"key":"plan","operator":"GT","value":"free"}}`, []string{`filter.attribute.operator: GT does not apply to a FIXED value`}},
		{`{"attribute":{"key":"vip","operator":"EQUALS","value":"maybe"}}`, []string{`filter.attribute.value: must be a boolean`}},
		{`{"attribute":{"key":"vip","operator":"CONTAINS","value":"t"}}`, []string{`filter.attribute.operator: CONTAINS does not apply to a BOOLEAN value`}},
		{`{"attribute":{"key":"meta","operator":"EQUALS","value":1}}`, []string{`filter.attribute.operator: EQUALS does not apply to a JSON value`}},
		{`{"attribute":{"key":"score","operator":"GT","value":true}}`, []string{`filter.attribute.value: must be a number`}},
		{`{"event":{"name":"Refunded"}}`, []string{`filter.event.name: unknown event "Refunded"`}},
		{`{"event":{"name":""}}`, []string{`filter.event.name: the event name is missing`}},
		{`{"event":{"name":"Purchased","count":-1}}`, []string{`filter.event.count: count must be between 0 and`}},
		{`{"event":{"name":"Purchased","countOp":"ABOUT"}}`, []string{`filter.event.countOp: unknown count operator "ABOUT"`}},
		{`{"event":{"name":"Purchased","days":3,"from":"2024-01-01T00:00:00Z"}}`, []string{`filter.event: give one window`}},
		{`{"event":{"name":"Purchased","from":"2024-02-01T00:00:00Z","to":"2024-01-01T00:00:00Z"}}`, []string{`filter.event.to: must be after from`}},
		{`{"event":{"name":"Purchased","properties":[{"key":"amount","operator":"GT","value":"x"},{"key":"color","operator":"IS_SET"}]}}`,
			[]string{`filter.event.properties[0].value: must be a number`, `filter.event.properties[1].key: unknown property of event "Purchased": "color"`}},
		{`{"pageView":{"operator":"GT","url":"x"}}`, []string{`filter.pageView.operator: GT does not apply to a page URL`}},
		{`{"pageView":{"operator":"CONTAINS","url":""}}`, []string{`filter.pageView.url: the URL is missing`}},
		{`{"pageView":{"url":"x"}}`, []string{`filter.pageView.operator: the operator is missing`}},
		{`{"company":{"fields":[{"field":"SIZE","operator":"IS_SET"}],"attributes":[{"key":"mrr","operator":"LT","value":"lots"}]}}`,
			[]string{`filter.company.fields[0].field: unknown company field "SIZE"`, `filter.company.attributes[0].value: must be a number`}},
		{`{"company":{"attributes":[{"key":"age","operator":"IS_SET"}]}}`, []string{`filter.company.attributes[0].key: unknown company attribute "age"`}},
		{`{"field":{"field":"EMAIL","operator":"IS_SET"},"noCompany":true}`, []string{`filter: exactly one of and, or, not, field, attribute, event, pageView, company, noCompany must be set; field, noCompany are`}},
		{`{"not":{}}`, []string{`filter.not: exactly one of`}},
		{`{"or":[null]}`, []string{`filter.or[0]: must not be null`}},
		{`{"or":[{"not":{"and":[{"attribute":{"key":"x","operator":"IS_SET"}}]}},{"field":{"field":"EMAIL","operator":"NOPE"}}]}`,
			[]string{`filter.or[0].not.and[0].attribute.key: unknown user attribute "x"`, `filter.or[1].field.operator: unknown operator "NOPE"`}},
	}
	defs := testDefs()
	for _, tc := range cases {
		f := mustDecode(t, tc.filter)
		err := Validate(f, defs)
		if err == nil {
			t.Errorf("%s: no error", tc.filter)
			continue
		}
		got := Errors(err)
		if len(got) != len(tc.errs) {
			t.Errorf("%s: %d errors, want %d: %v", tc.filter, len(got), len(tc.errs), err)
			continue
		}
		for i, want := range tc.errs {
			path, msg, _ := strings.Cut(want, ": ")
			if got[i].Path != path || !strings.Contains(got[i].Message, msg) {
				t.Errorf("%s: error %d is %q, want %q", tc.filter, i, got[i].Error(), want)
			}
		}
		// Predicate refuses what Validate refuses, with the same errors.
		if _, perr := Predicate(f, defs, dialect.SQLite, time.Now()); perr == nil || perr.Error() != err.Error() {
			t.Errorf("%s: Predicate: %v, Validate: %v", tc.filter, perr, err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Path == "" {
			t.Errorf("%s: errors.As found no *Error", tc.filter)
		}
	}
}

func TestValidateValid(t *testing.T) {
	defs := testDefs()
	for _, js := range []string{
		`{}`, `{"and":[]}`, `{"or":[]}`, `{"noCompany":false}`, `{"company":{}}`,
		`{"attribute":{"key":"plan","operator":"IN","values":["FREE"," pro "]}}`,
		`{"attribute":{"key":"age","operator":"BETWEEN","values":["1", 2.5]}}`,
		`{"attribute":{"key":"birthday","operator":"WITHIN_LAST_DAYS","days":0}}`,
		`{"attribute":{"key":"trial","operator":"MORE_THAN_DAYS_AGO","hours":5}}`,
		`{"attribute":{"key":"vip","operator":"NOT_EQUALS","value":"yes"}}`,
		`{"field":{"field":"LAST_SEEN","operator":"LT","value":1700000000}}`,
		`{"event":{"name":"Purchased","countOp":"EXACTLY","count":0,"hours":5}}`,
		`{"pageView":{"operator":"ENDS_WITH","url":"/x","to":"2024-01-01T00:00:00Z"}}`,
	} {
		if err := Validate(mustDecode(t, js), defs); err != nil {
			t.Errorf("%s: %v", js, err)
		}
	}
	if err := Validate(nil, defs); err != nil {
		t.Errorf("nil filter: %v", err)
	}
}

func TestValidateLimits(t *testing.T) {
	defs := testDefs()
	leaf := &Filter{Field: &FieldCondition{Field: UserEmail, Operator: IsSet}}
	deep := leaf
	for range MaxDepth + 1 {
		deep = &Filter{Not: deep}
	}
	if err := Validate(deep, defs); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("deep filter: %v", err)
	}
	wide := &Filter{}
	for range MaxNodes + 1 {
		wide.And = append(wide.And, leaf)
	}
	if err := Validate(wide, defs); err == nil || !strings.Contains(err.Error(), "more than 500 nodes") {
		t.Errorf("wide filter: %v", err)
	}
	many := make([]any, MaxValues+1)
	for i := range many {
		many[i] = "x"
	}
	in := &Filter{Field: &FieldCondition{Field: UserEmail, Operator: In, Values: many}}
	if err := Validate(in, defs); err == nil {
		t.Error("IN with too many values validated")
	}
	total := &Filter{}
	for range MaxTotalValues/MaxValues + 1 {
		total.Or = append(total.Or, &Filter{Field: &FieldCondition{Field: UserEmail, Operator: In, Values: many[:MaxValues]}})
	}
	if err := Validate(total, defs); err == nil || !strings.Contains(err.Error(), "values in all") {
		t.Errorf("too many values in all: %v", err)
	}
	// At most maxErrors problems are reported.
	bad := &Filter{}
	for range 50 {
		bad.Or = append(bad.Or, &Filter{Attribute: &AttributeCondition{Key: "nope", Operator: IsSet}})
	}
	if n := len(Errors(Validate(bad, defs))); n != maxErrors {
		t.Errorf("%d errors reported, want %d", n, maxErrors)
	}
}

func TestDecode(t *testing.T) {
	if _, err := Decode([]byte(`{"field":{"field":"EMAIL","operator":"IS_SET","extra":1}}`)); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := Decode([]byte(`{} {}`)); err == nil {
		t.Error("trailing data accepted")
	}
	f, err := Decode([]byte(`{"attribute":{"key":"age","operator":"EQUALS","value":9007199254740993}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.Map()
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromMap(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Attribute.Value; got.(interface{ String() string }).String() != "9007199254740993" {
		t.Errorf("a big integer did not survive the round trip: %v", got)
	}
	if f, err := FromMap(nil); f != nil || err != nil {
		t.Errorf("FromMap(nil) = %v, %v", f, err)
	}
}

func TestGQLEnums(t *testing.T) {
	var o Operator
	if err := o.UnmarshalGQL("GT"); err != nil || o != GT {
		t.Errorf("Operator: %v %v", o, err)
	}
	if err := o.UnmarshalGQL("gt"); err == nil {
		t.Error("lower-case operator accepted")
	}
	var c CountOp
	if err := c.UnmarshalGQL(1); err == nil {
		t.Error("number accepted as CountOp")
	}
	var uf UserField
	var cf CompanyField
	if uf.UnmarshalGQL("LAST_SEEN") != nil || cf.UnmarshalGQL("EMPLOYEES") != nil {
		t.Error("valid fields refused")
	}
	var b strings.Builder
	uf.MarshalGQL(&b)
	if b.String() != `"LAST_SEEN"` {
		t.Errorf("MarshalGQL: %s", b.String())
	}
	// The SDL (in graph/, where the schema lives) names every enum value the Go types know.
	sdl, err := os.ReadFile("../graph/segments.graphql")
	if err != nil {
		t.Fatal(err)
	}
	Schema := string(sdl)
	for _, op := range Operators() {
		if !strings.Contains(Schema, "  "+string(op)+"\n") {
			t.Errorf("schema lacks operator %s", op)
		}
	}
	for _, f := range UserFields() {
		if !strings.Contains(Schema, "  "+string(f)+"\n") {
			t.Errorf("schema lacks user field %s", f)
		}
	}
	if len(UserFields()) != len(userColumns) || len(CompanyFields()) != len(companyColumns) {
		t.Error("field lists and column maps differ")
	}
}

// LoadDefinitions reads what the app holds.
func TestLoadDefinitions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		a := seedTable(t, db)
		d := a.defs()
		if def, ok := d.UserAttribute("tags"); !ok || def.Type != attribute.Fixed || !def.AllowMultiple || len(def.Choices) != 3 {
			t.Errorf("tags: %+v %v", def, ok)
		}
		if def, ok := d.CompanyAttribute("mrr"); !ok || def.Type != attribute.Integer {
			t.Errorf("mrr: %+v %v", def, ok)
		}
		e, ok := d.Event("Purchased")
		if !ok || e.ID != a.events["Purchased"] || e.Properties["amount"].Type != attribute.Float {
			t.Errorf("Purchased: %+v %v", e, ok)
		}
		if e, ok := d.Event("Signed Up"); !ok || len(e.Properties) != 0 {
			t.Errorf("Signed Up: %+v %v", e, ok)
		}
		if _, ok := d.UserAttribute("amount"); ok {
			t.Error("an event property is a user attribute")
		}
	})
}

// The examples of docs/segments.md are valid filters.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/segments.md")
	if err != nil {
		t.Skip(err)
	}
	defs := Definitions{
		User: map[string]attribute.Definition{
			"plan":       {Type: attribute.Fixed, Choices: []string{"free", "pro"}},
			"trial_ends": {Type: attribute.DateTime},
			"interests":  {Type: attribute.Fixed, Choices: []string{"analytics", "email"}, AllowMultiple: true},
		},
		Company: map[string]attribute.Definition{"industry": {Type: attribute.String}},
		Events: map[string]EventDefinition{
			"Order Completed": {ID: 1, Properties: map[string]attribute.Definition{
				"currency": {Type: attribute.String}, "total": {Type: attribute.Float}}},
			"Signed Up": {ID: 2},
		},
	}
	blocks := strings.Split(string(data), "```json\n")[1:]
	if len(blocks) < 5 {
		t.Fatalf("%d examples found", len(blocks))
	}
	for _, b := range blocks {
		js, _, _ := strings.Cut(b, "```")
		f, err := Decode([]byte(js))
		if err != nil {
			t.Errorf("%s: %v", js, err)
			continue
		}
		if err := Validate(f, defs); err != nil {
			t.Errorf("%s: %v", js, err)
		}
	}
	// The default segments' filters in the table are the ones Defaults returns.
	for _, s := range Defaults() {
		js, _ := json.Marshal(s.Filter)
		if !strings.Contains(string(data), "| "+s.Name+" | `"+strings.NewReplacer(`":`, `": `, `,"`, `, "`).Replace(string(js))+"` |") {
			t.Errorf("docs/segments.md does not show %s as %s", s.Name, js)
		}
	}
}
