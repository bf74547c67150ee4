package standard

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/ent/company"
	"github.com/peoplegraph/peoplegraph/ent/user"
)

// object decodes a JSON object the way the ingestion endpoint does.
func object(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

type traitsCase struct {
	name   string
	in     string
	want   Fields
	custom map[string]any // nil: expect an empty map
}

func runTraits(t *testing.T, fn func(map[string]any) (Fields, map[string]any), cases []traitsCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := object(t, c.in)
			before := maps.Clone(in)
			got, custom := fn(in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("fields\n got %#v\nwant %#v", got, c.want)
			}
			want := c.custom
			if want == nil {
				want = map[string]any{}
			}
			if !reflect.DeepEqual(custom, want) {
				t.Errorf("custom\n got %#v\nwant %#v", custom, want)
			}
			if !reflect.DeepEqual(in, before) {
				t.Errorf("input modified: %#v", in)
			}
		})
	}
}

var long = strings.Repeat("é", 600) // 1,200 bytes

func TestUserTraits(t *testing.T) {
	runTraits(t, UserTraits, []traitsCase{
		{"empty", `{}`, Fields{}, nil},
		{"basic", `{"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace","phone":"+44 20 7946 0000","gender":"female"}`,
			Fields{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0000", "gender": "female"}, nil},
		{"camelCase", `{"firstName":"Ada","lastName":"Lovelace"}`, Fields{"first_name": "Ada", "last_name": "Lovelace"}, nil},
		{"snake wins over camel", `{"first_name":"Ada","firstName":"Augusta"}`, Fields{"first_name": "Ada"}, nil},
		{"value wins over null", `{"first_name":null,"firstName":"Augusta"}`, Fields{"first_name": "Augusta"}, nil},
		{"value wins over empty", `{"last_name":"  ","lastName":"King"}`, Fields{"last_name": "King"}, nil},
		{"both null clear", `{"first_name":null,"firstName":null}`, Fields{"first_name": nil}, nil},
		{"object alias is absent", `{"first_name":{"x":1},"firstName":"Ada"}`, Fields{"first_name": "Ada"}, nil},
		{"only object alias", `{"first_name":{"x":1}}`, Fields{}, nil},
		{"trimmed", `{"email":"  ada@example.com\n"}`, Fields{"email": "ada@example.com"}, nil},
		{"case kept", `{"email":"Ada@Example.COM"}`, Fields{"email": "Ada@Example.COM"}, nil},
		{"null clears", `{"email":null,"phone":null,"gender":null}`, Fields{"email": nil, "phone": nil, "gender": nil}, nil},
		{"empty string clears", `{"email":"","phone":"   "}`, Fields{"email": nil, "phone": nil}, nil},
		{"number becomes text", `{"phone":4930123456,"gender":1.50}`, Fields{"phone": "4930123456", "gender": "1.50"}, nil},
		{"bool becomes text", `{"gender":false}`, Fields{"gender": "false"}, nil},
		{"object ignored", `{"email":{"work":"a@b.c"},"phone":["1","2"]}`, Fields{}, nil},
		{"invalid UTF-8 and NUL replaced", "{\"first_name\":\"A\\u0000da\",\"last_name\":\"Lo\xffve\"}",
			Fields{"first_name": "A\uFFFDda", "last_name": "Lo\uFFFDve"}, nil},
		{"capped at a character boundary", `{"first_name":"` + long + `"}`, Fields{"first_name": strings.Repeat("é", 512)}, nil},

		{"name split", `{"name":"Ada Lovelace"}`, Fields{"first_name": "Ada", "last_name": "Lovelace"}, nil},
		{"name split at first space", `{"name":"  Ada  King Lovelace "}`, Fields{"first_name": "Ada", "last_name": "King Lovelace"}, nil},
		{"name split at tab", "{\"name\":\"Ada\\tLovelace\"}", Fields{"first_name": "Ada", "last_name": "Lovelace"}, nil},
		{"name split at ideographic space", `{"name":"山田　太郎"}`, Fields{"first_name": "山田", "last_name": "太郎"}, nil},
		{"name one word", `{"name":"Ada"}`, Fields{"first_name": "Ada"}, nil},
		{"name null clears both", `{"name":null}`, Fields{"first_name": nil, "last_name": nil}, nil},
		{"name empty clears both", `{"name":""}`, Fields{"first_name": nil, "last_name": nil}, nil},
		{"name number", `{"name":42}`, Fields{"first_name": "42"}, nil},
		{"name object ignored", `{"name":{"first":"Ada"}}`, Fields{}, nil},
		{"name unused with first", `{"name":"Ada Lovelace","firstName":"Augusta"}`, Fields{"first_name": "Augusta"}, nil},
		{"name unused with last", `{"name":"Ada Lovelace","last_name":"King"}`, Fields{"last_name": "King"}, nil},
		{"name unused with null first", `{"name":"Ada Lovelace","first_name":null}`, Fields{"first_name": nil}, nil},

		{"address", `{"address":{"country":"DE","state":"Berlin","city":"Berlin","street":"Unter den Linden 1","postal_code":"10117"}}`,
			Fields{"country": "DE", "region": "Berlin", "city": "Berlin", "street": "Unter den Linden 1", "postal_code": "10117"}, nil},
		{"address aliases", `{"address":{"region":"CA","streetAddress":"1 Infinite Loop","postalCode":95014}}`,
			Fields{"region": "CA", "street": "1 Infinite Loop", "postal_code": "95014"}, nil},
		{"address state wins over region", `{"address":{"state":"NY","region":"US-East"}}`, Fields{"region": "NY"}, nil},
		{"address zip", `{"address":{"zip":"02134"}}`, Fields{"postal_code": "02134"}, nil},
		{"address street_address", `{"address":{"street_address":"Main St 5"}}`, Fields{"street": "Main St 5"}, nil},
		{"address line1 and line2", `{"address":{"line1":"Main St 5","line2":"Apt 3"}}`, Fields{"street": "Main St 5, Apt 3"}, nil},
		{"address line1 only", `{"address":{"line1":"Main St 5","line2":""}}`, Fields{"street": "Main St 5"}, nil},
		{"address street wins over line1", `{"address":{"street":"A","line1":"B"}}`, Fields{"street": "A"}, nil},
		{"address line1 null clears", `{"address":{"line1":null}}`, Fields{"street": nil}, nil},
		{"address partial null", `{"address":{"city":null,"country":"FR"}}`, Fields{"city": nil, "country": "FR"}, nil},
		{"address null clears all", `{"address":null}`,
			Fields{"country": nil, "region": nil, "city": nil, "street": nil, "postal_code": nil}, nil},
		{"address string ignored", `{"address":"1 Main St"}`, Fields{}, nil},
		{"address array ignored", `{"address":["1 Main St"]}`, Fields{}, nil},
		{"address empty object", `{"address":{}}`, Fields{}, nil},
		{"address unknown keys dropped", `{"address":{"planet":"Earth"}}`, Fields{}, nil},

		{"custom traits unchanged", `{"email":"a@b.c","plan":"pro","logins":12,"tags":["x"],"Email":"X@Y.Z","company":{"name":"ACME"},"custom_null":null}`,
			Fields{"email": "a@b.c"},
			map[string]any{"plan": "pro", "logins": json.Number("12"), "tags": []any{"x"}, "Email": "X@Y.Z", "company": map[string]any{"name": "ACME"}, "custom_null": nil}},
		{"ignored reserved not custom", `{"email":{"x":1},"name":["Ada"]}`, Fields{}, nil},
		{"contract example", `{"custom_integer":"123","custom_integer_new":999}`, Fields{},
			map[string]any{"custom_integer": "123", "custom_integer_new": json.Number("999")}},
	})
}

func TestUserTraitsNil(t *testing.T) {
	f, c := UserTraits(nil)
	if f == nil || len(f) != 0 || c == nil || len(c) != 0 {
		t.Fatalf("UserTraits(nil) = %#v, %#v", f, c)
	}
	f, c = CompanyTraits(nil)
	if f == nil || len(f) != 0 || c == nil || len(c) != 0 {
		t.Fatalf("CompanyTraits(nil) = %#v, %#v", f, c)
	}
}

func TestUserTraitsGoValues(t *testing.T) {
	f, _ := UserTraits(map[string]any{"phone": 4930123456, "gender": 1.5, "email": int64(-3), "first_name": float32(2), "last_name": uint8(7)})
	want := Fields{"phone": "4930123456", "gender": "1.5", "email": "-3", "first_name": "2", "last_name": "7"}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got %#v, want %#v", f, want)
	}
}

func TestCompanyTraits(t *testing.T) {
	runTraits(t, CompanyTraits, []traitsCase{
		{"empty", `{}`, Fields{}, nil},
		{"all", `{"name":"ACME Inc.","description":"Anvils","email":"hi@acme.test","employees":250,"phone":"+1 555 0100","address":{"country":"US","state":"AZ","city":"Phoenix","street":"1 Desert Rd","postalCode":"85001"}}`,
			Fields{"name": "ACME Inc.", "description": "Anvils", "email": "hi@acme.test", "employees": int64(250), "phone": "+1 555 0100",
				"country": "US", "region": "AZ", "city": "Phoenix", "street": "1 Desert Rd", "postal_code": "85001"}, nil},
		{"employees string", `{"employees":"1200"}`, Fields{"employees": int64(1200)}, nil},
		{"employees string spaces", `{"employees":"  42 "}`, Fields{"employees": int64(42)}, nil},
		{"employees plus sign", `{"employees":"+42"}`, Fields{"employees": int64(42)}, nil},
		{"employees integral float", `{"employees":12.0}`, Fields{"employees": int64(12)}, nil},
		{"employees exponent", `{"employees":1e3}`, Fields{"employees": int64(1000)}, nil},
		{"employees exponent string", `{"employees":"1.2e1"}`, Fields{"employees": int64(12)}, nil},
		{"employees zero", `{"employees":0}`, Fields{"employees": int64(0)}, nil},
		{"employees negative zero", `{"employees":-0}`, Fields{"employees": int64(0)}, nil},
		{"employees max", `{"employees":9223372036854775807}`, Fields{"employees": int64(9223372036854775807)}, nil},
		{"employees overflow", `{"employees":9223372036854775808}`, Fields{}, nil},
		{"employees huge exponent", `{"employees":1e999999999999}`, Fields{}, nil},
		{"employees tiny exponent", `{"employees":1e-999999999999}`, Fields{}, nil},
		{"employees fraction", `{"employees":12.5}`, Fields{}, nil},
		{"employees negative", `{"employees":-3}`, Fields{}, nil},
		{"employees words", `{"employees":"many"}`, Fields{}, nil},
		{"employees range", `{"employees":"10-50"}`, Fields{}, nil},
		{"employees hex", `{"employees":"0x10"}`, Fields{}, nil},
		{"employees underscores", `{"employees":"1_000"}`, Fields{}, nil},
		{"employees empty", `{"employees":""}`, Fields{}, nil},
		{"employees bool", `{"employees":true}`, Fields{}, nil},
		{"employees object", `{"employees":{"n":1}}`, Fields{}, nil},
		{"employees null clears", `{"employees":null}`, Fields{"employees": nil}, nil},
		{"name null and empty clear", `{"name":null,"description":""}`, Fields{"name": nil, "description": nil}, nil},
		{"name not split", `{"name":"ACME Inc."}`, Fields{"name": "ACME Inc."}, nil},
		{"address null", `{"address":null}`, Fields{"country": nil, "region": nil, "city": nil, "street": nil, "postal_code": nil}, nil},
		{"user-only traits are custom", `{"first_name":"Ada","gender":"x","plan":"enterprise","industry":"Anvils"}`, Fields{},
			map[string]any{"first_name": "Ada", "gender": "x", "plan": "enterprise", "industry": "Anvils"}},
	})
}

func TestEmployeesGoValues(t *testing.T) {
	cases := []struct {
		in   any
		want any // nil: absent
	}{
		{12, int64(12)}, {int64(7), int64(7)}, {int32(3), int64(3)}, {-1, nil},
		{12.0, int64(12)}, {12.5, nil}, {-1.0, nil}, {9.3e18, nil},
	}
	for _, c := range cases {
		f, _ := CompanyTraits(map[string]any{"employees": c.in})
		got, ok := f["employees"]
		if c.want == nil && ok || c.want != nil && got != c.want {
			t.Errorf("employees %#v: got %#v (present %v), want %#v", c.in, got, ok, c.want)
		}
	}
}

// TestColumnNames keeps the column names in step with the Ent schema.
func TestColumnNames(t *testing.T) {
	userCols := []string{colEmail, colFirstName, colLastName, colPhone, colGender, colCountry, colRegion,
		colCity, colStreet, colPostalCode, colUserAgent, colOS, colDeviceName, colDeviceType, colLanguage,
		colResolution, colIPAddress, colBrowserFamily, colBrowserVersion, colTimezone, colCurrentURL}
	for _, c := range userCols {
		if !user.ValidColumn(c) {
			t.Errorf("user has no column %q", c)
		}
	}
	companyCols := []string{colName, colDescription, colEmail, colEmployees, colPhone, colCountry, colRegion,
		colCity, colStreet, colPostalCode}
	for _, c := range companyCols {
		if !company.ValidColumn(c) {
			t.Errorf("company has no column %q", c)
		}
	}
	// Every column the functions can produce is one of the above.
	all := map[string]bool{}
	for _, c := range append(userCols, companyCols...) {
		all[c] = true
	}
	f, _ := UserTraits(object(t, `{"email":1,"name":"a b","phone":1,"gender":1,"address":null}`))
	g, _ := CompanyTraits(object(t, `{"name":1,"description":1,"email":1,"employees":1,"phone":1,"address":null}`))
	h := Context(object(t, fullContext))
	for _, m := range []Fields{f, g, h} {
		for k := range m {
			if !all[k] {
				t.Errorf("unexpected column %q", k)
			}
		}
	}
	if len(h) != 11 {
		t.Errorf("full context gives %d columns, want all 11: %v", len(h), h)
	}
}
