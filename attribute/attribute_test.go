package attribute_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/attribute"
)

// decode parses JSON the way the ingestion endpoint does.
func decode(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

var (
	str     = attribute.Definition{Type: attribute.String}
	integer = attribute.Definition{Type: attribute.Integer}
	float   = attribute.Definition{Type: attribute.Float}
	boolean = attribute.Definition{Type: attribute.Boolean}
	date    = attribute.Definition{Type: attribute.Date}
	dtime   = attribute.Definition{Type: attribute.DateTime}
	jsonDef = attribute.Definition{Type: attribute.JSON}
	plan    = attribute.Definition{Type: attribute.Fixed, Choices: []string{"free", "pro", "Enterprise"}}
	colors  = attribute.Definition{Type: attribute.Fixed, Choices: []string{"red", "green", "blue", "black, white"}, AllowMultiple: true}
)

type coerceCase struct {
	name string
	def  attribute.Definition
	json string // input as JSON text; used when in is nil
	in   any    // input as a Go value
	want any    // nil with ok=false: rejected
	ok   bool
}

func runCoerce(t *testing.T, cases []coerceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in == nil && c.json != "" {
				in = decode(t, c.json)
			}
			got, ok := attribute.Coerce(c.def, in)
			if ok != c.ok || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Coerce(%s, %#v) = %#v, %v; want %#v, %v", c.def.Type, in, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestContractExample(t *testing.T) {
	// identify traits {custom_integer:"123", custom_integer_new:999}, custom_integer being
	// INTEGER and custom_integer_new undefined.
	traits := decode(t, `{"custom_integer":"123","custom_integer_new":999}`).(map[string]any)
	if got, ok := attribute.Coerce(integer, traits["custom_integer"]); !ok || got != int64(123) {
		t.Errorf("custom_integer: got %#v, %v; want int64(123)", got, ok)
	}
	if got := attribute.AsText(traits["custom_integer_new"]); got != "999" {
		t.Errorf("AsText(999) = %q; want \"999\"", got)
	}
	if got, ok := attribute.Coerce(str, traits["custom_integer_new"]); !ok || got != "999" {
		t.Errorf("custom_integer_new: got %#v, %v; want \"999\"", got, ok)
	}
}

func TestNullClears(t *testing.T) {
	for _, typ := range attribute.Types() {
		def := attribute.Definition{Type: typ, Choices: []string{"a"}}
		if got, ok := attribute.Coerce(def, nil); got != nil || !ok {
			t.Errorf("Coerce(%s, nil) = %#v, %v; want nil, true", typ, got, ok)
		}
	}
}

func TestInvalidType(t *testing.T) {
	for _, in := range []any{nil, "x", json.Number("1")} {
		if got, ok := attribute.Coerce(attribute.Definition{Type: "TEXT"}, in); ok || got != nil {
			t.Errorf("Coerce(TEXT, %#v) = %#v, %v; want rejection", in, got, ok)
		}
	}
}

func TestTypes(t *testing.T) {
	types := attribute.Types()
	if len(types) != 8 {
		t.Fatalf("Types() has %d entries", len(types))
	}
	for _, typ := range types {
		if !typ.Valid() {
			t.Errorf("%s not Valid", typ)
		}
	}
	for _, typ := range []attribute.Type{"", "string", "TEXT", "NUMBER"} {
		if typ.Valid() {
			t.Errorf("%q Valid", typ)
		}
	}
	types[0] = "X"
	if attribute.Types()[0] != attribute.String {
		t.Error("Types returns a shared slice")
	}
}

func TestString(t *testing.T) {
	long := strings.Repeat("a", attribute.MaxTextLength)
	runCoerce(t, []coerceCase{
		{"string as is", str, `"  Hello  "`, nil, "  Hello  ", true},
		{"empty string is a value", str, `""`, nil, "", true},
		{"integer", str, `999`, nil, "999", true},
		{"number keeps its spelling", str, `1.50`, nil, "1.50", true},
		{"exponent spelling", str, `1E3`, nil, "1E3", true},
		{"negative zero", str, `-0`, nil, "-0", true},
		{"true", str, `true`, nil, "true", true},
		{"false", str, `false`, nil, "false", true},
		{"object compact, sorted, unescaped", str, `{ "b": [1, 2], "a": "<x>&" }`, nil, `{"a":"<x>&","b":[1,2]}`, true},
		{"array", str, `[1, "two", null, {"x": false}]`, nil, `[1,"two",null,{"x":false}]`, true},
		{"empty object", str, `{}`, nil, `{}`, true},
		{"NUL replaced", str, `"a\u0000b"`, nil, "a\uFFFDb", true},
		{"NUL in nested text", str, `{"k\u0000":"v\u0000"}`, nil, "{\"k\uFFFD\":\"v\uFFFD\"}", true},
		{"invalid UTF-8 replaced", str, "", "a\xffb", "a\uFFFDb", true},
		{"unicode kept", str, `"żółw 🐢"`, nil, "żółw 🐢", true},
		{"max length", str, "", long, long, true},
		{"too long rejected", str, "", long + "b", nil, false},
		{"too long object rejected", str, "", map[string]any{"k": long}, nil, false},
		{"Go int", str, "", 42, "42", true},
		{"Go int64", str, "", int64(-7), "-7", true},
		{"Go uint64", str, "", uint64(math.MaxUint64), "18446744073709551615", true},
		{"Go float64", str, "", 12.5, "12.5", true},
		{"Go float64 large", str, "", 1e21, "1e+21", true},
		{"Go float32", str, "", float32(0.1), "0.1", true},
		{"Go []string", str, "", []string{"a", "b"}, `["a","b"]`, true},
		{"NaN rejected", str, "", math.NaN(), nil, false},
		{"Inf rejected", str, "", math.Inf(1), nil, false},
		{"NaN nested rejected", str, "", map[string]any{"x": math.NaN()}, nil, false},
		{"invalid json.Number rejected", str, "", json.Number("abc"), nil, false},
		{"struct rejected", str, "", struct{ A int }{1}, nil, false},
		{"channel rejected", str, "", make(chan int), nil, false},
	})
}

func TestAsText(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{"x", "x"},
		{json.Number("999"), "999"},
		{true, "true"},
		{nil, ""},
		{math.NaN(), ""},
		{map[string]any{"a": []any{json.Number("1"), "b"}}, `{"a":[1,"b"]}`},
		// AsText does not apply the length limit; Coerce does.
		{strings.Repeat("x", attribute.MaxTextLength+1), strings.Repeat("x", attribute.MaxTextLength+1)},
	}
	for _, c := range cases {
		if got := attribute.AsText(c.in); got != c.want {
			t.Errorf("AsText(%#v) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestInteger(t *testing.T) {
	runCoerce(t, []coerceCase{
		{"number", integer, `42`, nil, int64(42), true},
		{"negative", integer, `-42`, nil, int64(-42), true},
		{"string", integer, `"123"`, nil, int64(123), true},
		{"string with spaces", integer, `"  123 \t"`, nil, int64(123), true},
		{"string with plus", integer, `"+7"`, nil, int64(7), true},
		{"leading zeros in a string", integer, `"007"`, nil, int64(7), true},
		{"12.0 is integral", integer, `12.0`, nil, int64(12), true},
		{"1e3 is integral", integer, `1e3`, nil, int64(1000), true},
		{"1.2e1 is integral", integer, `"1.2e1"`, nil, int64(12), true},
		{"120e-1 is integral", integer, `120e-1`, nil, int64(12), true},
		{"-0", integer, `-0`, nil, int64(0), true},
		{"0.0e999999999999", integer, `0.0e999999999999`, nil, int64(0), true},
		{"max int64", integer, `9223372036854775807`, nil, int64(math.MaxInt64), true},
		{"min int64", integer, `-9223372036854775808`, nil, int64(math.MinInt64), true},
		{"max int64 with fraction zeros", integer, `9223372036854775807.000`, nil, int64(math.MaxInt64), true},
		{"above int64", integer, `9223372036854775808`, nil, nil, false},
		{"below int64", integer, `-9223372036854775809`, nil, nil, false},
		{"huge", integer, `123456789012345678901234567890`, nil, nil, false},
		{"1e400", integer, `1e400`, nil, nil, false},
		{"huge exponent", integer, `1e1000000000000`, nil, nil, false},
		{"12.5", integer, `12.5`, nil, nil, false},
		{"1e-1", integer, `1e-1`, nil, nil, false},
		{"tiny fraction", integer, `1.0000000000000000000001`, nil, nil, false},
		{"abc", integer, `"abc"`, nil, nil, false},
		{"empty string", integer, `""`, nil, nil, false},
		{"spaces only", integer, `"   "`, nil, nil, false},
		{"hex", integer, `"0x10"`, nil, nil, false},
		{"underscores", integer, `"1_000"`, nil, nil, false},
		{"thousands separator", integer, `"1,000"`, nil, nil, false},
		{"NaN string", integer, `"NaN"`, nil, nil, false},
		{"true", integer, `true`, nil, nil, false},
		{"false", integer, `false`, nil, nil, false},
		{"object", integer, `{"a":1}`, nil, nil, false},
		{"array", integer, `[1]`, nil, nil, false},
		{"Go int", integer, "", 5, int64(5), true},
		{"Go float64 integral", integer, "", 12.0, int64(12), true},
		{"Go float64 2^63", integer, "", math.Pow(2, 63), nil, false},
		{"Go float64 -2^63", integer, "", -math.Pow(2, 63), int64(math.MinInt64), true},
		{"Go float64 fraction", integer, "", 12.5, nil, false},
		{"Go NaN", integer, "", math.NaN(), nil, false},
		{"Go uint64 too big", integer, "", uint64(math.MaxUint64), nil, false},
	})
}

func TestFloat(t *testing.T) {
	runCoerce(t, []coerceCase{
		{"number", float, `12.5`, nil, 12.5, true},
		{"integer", float, `3`, nil, 3.0, true},
		{"string", float, `" 12.5 "`, nil, 12.5, true},
		{"string exponent", float, `"1.5e3"`, nil, 1500.0, true},
		{"string .5", float, `".5"`, nil, 0.5, true},
		{"1e308", float, `1e308`, nil, 1e308, true},
		{"huge integer", float, `123456789012345678901234567890`, nil, 1.2345678901234568e29, true},
		{"-0 becomes 0", float, `-0`, nil, 0.0, true},
		{"underflow rounds to 0", float, `1e-400`, nil, 0.0, true},
		{"1e400 overflows", float, `1e400`, nil, nil, false},
		{"-1e400 overflows", float, `"-1e400"`, nil, nil, false},
		{"NaN", float, `"NaN"`, nil, nil, false},
		{"Infinity", float, `"Infinity"`, nil, nil, false},
		{"inf", float, `"inf"`, nil, nil, false},
		{"hex float", float, `"0x1p-2"`, nil, nil, false},
		{"abc", float, `"abc"`, nil, nil, false},
		{"empty", float, `""`, nil, nil, false},
		{"bool", float, `true`, nil, nil, false},
		{"array", float, `[1.5]`, nil, nil, false},
		{"Go NaN", float, "", math.NaN(), nil, false},
		{"Go -Inf", float, "", math.Inf(-1), nil, false},
		{"Go int", float, "", 7, 7.0, true},
		{"Go -0", float, "", math.Copysign(0, -1), 0.0, true},
	})
	if got, _ := attribute.Coerce(float, decode(t, `-0`)); math.Signbit(got.(float64)) {
		t.Error("-0 kept its sign")
	}
}

func TestBoolean(t *testing.T) {
	runCoerce(t, []coerceCase{
		{"true", boolean, `true`, nil, true, true},
		{"false", boolean, `false`, nil, false, true},
		{"string true", boolean, `"true"`, nil, true, true},
		{"string TRUE", boolean, `" TRUE "`, nil, true, true},
		{"string False", boolean, `"False"`, nil, false, true},
		{"yes", boolean, `"Yes"`, nil, true, true},
		{"no", boolean, `"NO"`, nil, false, true},
		{"string 1", boolean, `"1"`, nil, true, true},
		{"string 0", boolean, `"0"`, nil, false, true},
		{"number 1", boolean, `1`, nil, true, true},
		{"number 0", boolean, `0`, nil, false, true},
		{"number 1.0", boolean, `1.0`, nil, true, true},
		{"number -0", boolean, `-0`, nil, false, true},
		{"number 2", boolean, `2`, nil, nil, false},
		{"number -1", boolean, `-1`, nil, nil, false},
		{"number 0.5", boolean, `0.5`, nil, nil, false},
		{"string 2", boolean, `"2"`, nil, nil, false},
		{"string 1.0", boolean, `"1.0"`, nil, nil, false},
		{"on", boolean, `"on"`, nil, nil, false},
		{"y", boolean, `"y"`, nil, nil, false},
		{"empty", boolean, `""`, nil, nil, false},
		{"object", boolean, `{}`, nil, nil, false},
		{"Go int 1", boolean, "", 1, true, true},
		{"Go float 0", boolean, "", 0.0, false, true},
	})
}

func TestDate(t *testing.T) {
	runCoerce(t, []coerceCase{
		{"bare date", date, `"2024-05-01"`, nil, "2024-05-01", true},
		{"date with spaces", date, `" 2024-05-01 "`, nil, "2024-05-01", true},
		{"datetime Z", date, `"2024-05-01T10:00:00Z"`, nil, "2024-05-01", true},
		{"offset moves the UTC date", date, `"2024-05-01T23:30:00-05:00"`, nil, "2024-05-02", true},
		{"offset moves it back", date, `"2024-05-01T00:30:00+02:00"`, nil, "2024-04-30", true},
		{"space separator", date, `"2024-05-01 10:00:00"`, nil, "2024-05-01", true},
		{"stored datetime", date, `"2024-05-01T10:00:00.000000Z"`, nil, "2024-05-01", true},
		{"unix seconds", date, `1714557600`, nil, "2024-05-01", true},
		{"unix seconds string", date, `"1714557600"`, nil, "2024-05-01", true},
		{"fractional unix seconds", date, `1714557600.75`, nil, "2024-05-01", true},
		{"unix 0", date, `0`, nil, "1970-01-01", true},
		{"negative unix", date, `-86400`, nil, "1969-12-31", true},
		{"negative fraction floors", date, `-0.5`, nil, "1969-12-31", true},
		{"year 1", date, `"0001-01-01"`, nil, "0001-01-01", true},
		{"year 9999", date, `"9999-12-31"`, nil, "9999-12-31", true},
		{"year 0", date, `"0000-12-31"`, nil, nil, false},
		{"year 10000", date, `"10000-01-01"`, nil, nil, false},
		{"leap day", date, `"2024-02-29"`, nil, "2024-02-29", true},
		{"not a leap year", date, `"2023-02-29"`, nil, nil, false},
		{"month 13", date, `"2024-13-01"`, nil, nil, false},
		{"single-digit month", date, `"2024-5-1"`, nil, nil, false},
		{"unix milliseconds are too far out", date, `1714557600000`, nil, nil, false},
		{"words", date, `"yesterday"`, nil, nil, false},
		{"empty", date, `""`, nil, nil, false},
		{"bool", date, `true`, nil, nil, false},
		{"object", date, `{"date":"2024-05-01"}`, nil, nil, false},
	})
}

func TestDateTime(t *testing.T) {
	runCoerce(t, []coerceCase{
		{"Z", dtime, `"2024-05-01T10:00:00Z"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"lower case t and z", dtime, `"2024-05-01t10:00:00z"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"milliseconds", dtime, `"2024-05-01T10:00:00.123Z"`, nil, "2024-05-01T10:00:00.123000Z", true},
		{"nanoseconds truncated", dtime, `"2024-05-01T10:00:00.123456789Z"`, nil, "2024-05-01T10:00:00.123456Z", true},
		{"many digits truncated", dtime, `"2024-05-01T10:00:00.99999999999Z"`, nil, "2024-05-01T10:00:00.999999Z", true},
		{"comma fraction", dtime, `"2024-05-01T10:00:00,5Z"`, nil, "2024-05-01T10:00:00.500000Z", true},
		{"offset", dtime, `"2024-05-01T12:00:00+02:00"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"negative offset", dtime, `"2024-05-01T05:30:00-04:30"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"offset without colon", dtime, `"2024-05-01T12:00:00+0200"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"hour-only offset", dtime, `"2024-05-01T12:00:00+02"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"fraction and offset", dtime, `"2024-05-01T12:00:00.5+02:00"`, nil, "2024-05-01T10:00:00.500000Z", true},
		{"no zone is UTC", dtime, `"2024-05-01T10:00:00"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"space separator", dtime, `"2024-05-01 10:00:00"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"space and fraction", dtime, `"2024-05-01 10:00:00.25"`, nil, "2024-05-01T10:00:00.250000Z", true},
		{"space before offset", dtime, `"2024-05-01 12:00:00 +02:00"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"UTC suffix", dtime, `"2024-05-01 10:00:00 UTC"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"GMT suffix", dtime, `"2024-05-01 10:00:00 gmt"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"postgres text", dtime, `"2024-05-01 12:00:00+02"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"no seconds", dtime, `"2024-05-01T10:00Z"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"no seconds no zone", dtime, `"2024-05-01T10:00"`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"bare date is midnight", dtime, `"2024-05-01"`, nil, "2024-05-01T00:00:00.000000Z", true},
		{"stored form", dtime, `"2024-05-01T10:00:00.000001Z"`, nil, "2024-05-01T10:00:00.000001Z", true},
		{"unix seconds", dtime, `1714557600`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"unix string", dtime, `" 1714557600 "`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"fractional unix", dtime, `1714557600.123456789`, nil, "2024-05-01T10:00:00.123456Z", true},
		{"fractional unix string", dtime, `"1714557600.5"`, nil, "2024-05-01T10:00:00.500000Z", true},
		{"unix exponent", dtime, `1.7145576e9`, nil, "2024-05-01T10:00:00.000000Z", true},
		{"unix 0", dtime, `0`, nil, "1970-01-01T00:00:00.000000Z", true},
		{"tiny negative floors", dtime, `-0.0000001`, nil, "1969-12-31T23:59:59.999999Z", true},
		{"tiny positive truncates", dtime, `0.0000009`, nil, "1970-01-01T00:00:00.000000Z", true},
		{"first second", dtime, `-62135596800`, nil, "0001-01-01T00:00:00.000000Z", true},
		{"before year 1", dtime, `-62135596800.000001`, nil, nil, false},
		{"last second", dtime, `253402300799.999999`, nil, "9999-12-31T23:59:59.999999Z", true},
		{"after year 9999", dtime, `253402300800`, nil, nil, false},
		{"year 0 string", dtime, `"0000-01-01T00:00:00Z"`, nil, nil, false},
		{"year 1 pushed to year 0 by offset", dtime, `"0001-01-01T00:30:00+01:00"`, nil, nil, false},
		{"year 9999 pushed to 10000 by offset", dtime, `"9999-12-31T23:30:00-01:00"`, nil, nil, false},
		{"year 9999 end", dtime, `"9999-12-31T23:59:59.9999999Z"`, nil, "9999-12-31T23:59:59.999999Z", true},
		{"1e400", dtime, `1e400`, nil, nil, false},
		{"huge exponent", dtime, `"1e999999999999"`, nil, nil, false},
		{"tiny exponent", dtime, `1e-999999999999`, nil, "1970-01-01T00:00:00.000000Z", true},
		{"milliseconds rejected", dtime, `1714557600000`, nil, nil, false},
		{"hour 24", dtime, `"2024-05-01T24:00:00Z"`, nil, nil, false},
		{"offset out of range", dtime, `"2024-05-01T10:00:00+25:00"`, nil, nil, false},
		{"named zone", dtime, `"2024-05-01 10:00:00 PST"`, nil, nil, false},
		{"RFC 1123", dtime, `"Wed, 01 May 2024 10:00:00 GMT"`, nil, nil, false},
		{"trailing garbage", dtime, `"2024-05-01T10:00:00Zx"`, nil, nil, false},
		{"NaN", dtime, `"NaN"`, nil, nil, false},
		{"bool", dtime, `false`, nil, nil, false},
		{"array", dtime, `["2024-05-01"]`, nil, nil, false},
		{"Go int", dtime, "", 1714557600, "2024-05-01T10:00:00.000000Z", true},
		{"Go float", dtime, "", 1714557600.25, "2024-05-01T10:00:00.250000Z", true},
		{"Go NaN", dtime, "", math.NaN(), nil, false},
	})
}

func TestFixed(t *testing.T) {
	runCoerce(t, []coerceCase{
		{"choice", plan, `"pro"`, nil, "pro", true},
		{"trimmed", plan, `"  pro "`, nil, "pro", true},
		{"case-insensitive, stored as defined", plan, `"PRO"`, nil, "pro", true},
		{"case-insensitive other way", plan, `"enterprise"`, nil, "Enterprise", true},
		{"not a choice", plan, `"gold"`, nil, nil, false},
		{"empty", plan, `""`, nil, nil, false},
		{"array rejected when single", plan, `["pro"]`, nil, nil, false},
		{"object rejected", plan, `{"pro":true}`, nil, nil, false},
		{"comma string is not split when single", plan, `"free,pro"`, nil, nil, false},
		{"number matches its text", attribute.Definition{Type: attribute.Fixed, Choices: []string{"1", "2"}}, `2`, nil, "2", true},
		{"bool matches its text", attribute.Definition{Type: attribute.Fixed, Choices: []string{"true"}}, `true`, nil, "true", true},
		{"exact wins over case", attribute.Definition{Type: attribute.Fixed, Choices: []string{"a", "A"}}, `"A"`, nil, "A", true},
		{"ambiguous case rejected", attribute.Definition{Type: attribute.Fixed, Choices: []string{"Ab", "aB"}}, `"ab"`, nil, nil, false},
		{"duplicate choices are not ambiguous", attribute.Definition{Type: attribute.Fixed, Choices: []string{"X", "X"}}, `"x"`, nil, "X", true},
		{"no choices", attribute.Definition{Type: attribute.Fixed}, `"a"`, nil, nil, false},

		{"multi array", colors, `["blue","red"]`, nil, []string{"red", "blue"}, true},
		{"multi drops invalid", colors, `["blue","pink",3,null,{"a":1},["red"]]`, nil, []string{"blue"}, true},
		{"multi dedups", colors, `["red","RED"," red "]`, nil, []string{"red"}, true},
		{"multi single string", colors, `"green"`, nil, []string{"green"}, true},
		{"multi comma string", colors, `"blue, red,,pink"`, nil, []string{"red", "blue"}, true},
		{"multi choice with a comma", colors, `"black, white"`, nil, []string{"black, white"}, true},
		{"multi array with comma choice", colors, `["black, white","green"]`, nil, []string{"green", "black, white"}, true},
		{"multi none valid", colors, `["pink"]`, nil, nil, false},
		{"multi empty array", colors, `[]`, nil, nil, false},
		{"multi empty string", colors, `""`, nil, nil, false},
		{"multi object", colors, `{"red":true}`, nil, nil, false},
		{"multi Go []string", colors, "", []string{"green", "red", "x"}, []string{"red", "green"}, true},
	})
}

func TestJSON(t *testing.T) {
	obj := decode(t, `{"a":[1,2.5,{"b":null}],"c":"d","e":true}`)
	runCoerce(t, []coerceCase{
		{"object unchanged", jsonDef, "", obj, obj, true},
		{"string kept", jsonDef, `"{\"a\":1}"`, nil, `{"a":1}`, true},
		{"number kept", jsonDef, `1.50`, nil, json.Number("1.50"), true},
		{"bool kept", jsonDef, `false`, nil, false, true},
		{"empty array kept", jsonDef, `[]`, nil, []any{}, true},
		{"NUL sanitized", jsonDef, `{"a\u0000":["x\u0000"]}`, nil, map[string]any{"a\uFFFD": []any{"x\uFFFD"}}, true},
		{"sanitized key collision keeps the clean key", jsonDef, "", map[string]any{"a\x00": 1, "a\uFFFD": 2, "a\xff": 3}, map[string]any{"a\uFFFD": 2}, true},
		{"long string kept", jsonDef, "", strings.Repeat("j", attribute.MaxTextLength+1), strings.Repeat("j", attribute.MaxTextLength+1), true},
		{"NaN rejected", jsonDef, "", []any{math.NaN()}, nil, false},
		{"invalid number rejected", jsonDef, "", json.Number("01"), nil, false},
		{"unsupported type rejected", jsonDef, "", map[string]any{"f": func() {}}, nil, false},
	})
	// Unchanged means the very same value, not a copy.
	m := map[string]any{"k": "v"}
	got, _ := attribute.Coerce(jsonDef, m)
	got.(map[string]any)["k"] = "w"
	if m["k"] != "w" {
		t.Error("clean JSON value was copied")
	}
	// A sanitized value must be a copy: the caller's input is not modified.
	in := map[string]any{"k": "v\x00"}
	attribute.Coerce(jsonDef, in)
	if in["k"] != "v\x00" {
		t.Error("input was modified")
	}
}

func TestDeepAndCyclicValues(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	v := decode(t, deep)
	for _, typ := range attribute.Types() {
		attribute.Coerce(attribute.Definition{Type: typ, Choices: []string{"a"}, AllowMultiple: true}, v)
	}
	if _, ok := attribute.Coerce(jsonDef, v); !ok {
		t.Error("10000-deep array rejected as JSON")
	}
	if s, ok := attribute.Coerce(str, v); !ok || s != deep {
		t.Error("10000-deep array not texted")
	}

	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	loop := make([]any, 1)
	loop[0] = loop
	for _, in := range []any{cyclic, loop} {
		for _, typ := range attribute.Types() {
			def := attribute.Definition{Type: typ, Choices: []string{"a"}, AllowMultiple: true}
			if _, ok := attribute.Coerce(def, in); ok {
				t.Errorf("Coerce(%s, cyclic value) accepted", typ)
			}
		}
		if s := attribute.AsText(in); s != "" {
			t.Errorf("AsText(cyclic) = %q", s)
		}
	}
}

func TestConvert(t *testing.T) {
	cases := []struct {
		name   string
		from   attribute.Type
		to     attribute.Definition
		stored any
		want   any
		ok     bool
	}{
		{"STRING 42 to INTEGER", attribute.String, integer, "42", int64(42), true},
		{"STRING abc to INTEGER removed", attribute.String, integer, "abc", nil, false},
		{"STRING 1.5 to FLOAT", attribute.String, float, "1.5", 1.5, true},
		{"STRING yes to BOOLEAN", attribute.String, boolean, "yes", true, true},
		{"STRING to DATETIME", attribute.String, dtime, "2024-05-01 10:00", "2024-05-01T10:00:00.000000Z", true},
		{"STRING to FIXED", attribute.String, plan, "Pro", "pro", true},
		{"STRING to JSON keeps the string", attribute.String, jsonDef, `{"a":1}`, `{"a":1}`, true},
		{"INTEGER 1 to BOOLEAN", attribute.Integer, boolean, int64(1), true, true},
		{"INTEGER 0 to BOOLEAN", attribute.Integer, boolean, int64(0), false, true},
		{"INTEGER 2 to BOOLEAN removed", attribute.Integer, boolean, int64(2), nil, false},
		{"INTEGER to FLOAT", attribute.Integer, float, int64(3), 3.0, true},
		{"INTEGER to STRING", attribute.Integer, str, int64(-42), "-42", true},
		{"INTEGER to DATETIME is Unix seconds", attribute.Integer, dtime, int64(1714557600), "2024-05-01T10:00:00.000000Z", true},
		{"INTEGER to JSON", attribute.Integer, jsonDef, int64(7), int64(7), true},
		{"FLOAT 12.0 to INTEGER", attribute.Float, integer, 12.0, int64(12), true},
		{"FLOAT 12.5 to INTEGER removed", attribute.Float, integer, 12.5, nil, false},
		{"FLOAT to STRING", attribute.Float, str, 12.5, "12.5", true},
		{"BOOLEAN to STRING", attribute.Boolean, str, true, "true", true},
		{"BOOLEAN to INTEGER removed", attribute.Boolean, integer, true, nil, false},
		{"DATETIME to DATE drops the time", attribute.DateTime, date, "2024-05-01T23:59:59.999999Z", "2024-05-01", true},
		{"DATE to DATETIME is midnight UTC", attribute.Date, dtime, "2024-05-01", "2024-05-01T00:00:00.000000Z", true},
		{"DATETIME to STRING keeps its string", attribute.DateTime, str, "2024-05-01T10:00:00.000000Z", "2024-05-01T10:00:00.000000Z", true},
		{"DATE to STRING", attribute.Date, str, "2024-05-01", "2024-05-01", true},
		{"DATETIME to INTEGER removed", attribute.DateTime, integer, "2024-05-01T10:00:00.000000Z", nil, false},
		{"FIXED to STRING", attribute.Fixed, str, "pro", "pro", true},
		{"FIXED multi to STRING", attribute.Fixed, str, []string{"red", "blue"}, `["red","blue"]`, true},
		{"FIXED multi to single, one valid", attribute.Fixed, plan, []string{"pro", "red"}, "pro", true},
		{"FIXED multi to single, two valid", attribute.Fixed, plan, []string{"pro", "free"}, nil, false},
		{"FIXED multi read back as []any", attribute.Fixed, plan, []any{"free"}, "free", true},
		{"FIXED single to multi", attribute.Fixed, colors, "red", []string{"red"}, true},
		{"FIXED choice removed", attribute.Fixed, plan, "gold", nil, false},
		{"FIXED multi choices shrink", attribute.Fixed, colors, []string{"red", "pink"}, []string{"red"}, true},
		{"JSON object to STRING", attribute.JSON, str, map[string]any{"b": json.Number("1"), "a": "x"}, `{"a":"x","b":1}`, true},
		{"JSON string to INTEGER", attribute.JSON, integer, " 5 ", int64(5), true},
		{"JSON object to INTEGER removed", attribute.JSON, integer, map[string]any{}, nil, false},
		{"FIXED multi to JSON", attribute.Fixed, jsonDef, []string{"a"}, []string{"a"}, true},
		{"read-back json.Number INTEGER to STRING", attribute.Integer, str, json.Number("42"), "42", true},
		{"nil removed", attribute.String, str, nil, nil, false},
		{"invalid target type", attribute.String, attribute.Definition{Type: "X"}, "a", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := attribute.Convert(c.from, c.to, c.stored)
			if ok != c.ok || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Convert(%s→%s, %#v) = %#v, %v; want %#v, %v", c.from, c.to.Type, c.stored, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	cases := []struct {
		key string
		ok  bool
	}{
		{"plan", true},
		{"custom_integer", true},
		{"user.address.city", true},
		{`it's "quoted"`, true},
		{"with spaces", true},
		{" padded ", true},
		{"__proto__", true},
		{"'; DROP TABLE users; --", true},
		{"$.a[0]", true},
		{"żółw 🐢", true},
		{strings.Repeat("k", attribute.MaxKeyLength), true},
		{strings.Repeat("ż", attribute.MaxKeyLength/2), true},
		{"", false},
		{"   ", false},
		{"\t\n", false},
		{strings.Repeat("k", attribute.MaxKeyLength+1), false},
		{strings.Repeat("ż", attribute.MaxKeyLength/2) + "k", false},
		{"bad\xffutf8", false},
		{"nul\x00", false},
		{"tab\tkey", false},
		{"new\nline", false},
		{"del\x7f", false},
		{"c1\u0085", false},
	}
	for _, c := range cases {
		if err := attribute.ValidateKey(c.key); (err == nil) != c.ok {
			t.Errorf("ValidateKey(%q) = %v; want ok=%v", c.key, err, c.ok)
		}
	}
}

func BenchmarkCoerce(b *testing.B) {
	cases := []struct {
		name string
		def  attribute.Definition
		in   any
	}{
		{"STRING", str, "Jane Doe"},
		{"STRING/number", str, json.Number("999")},
		{"INTEGER", integer, json.Number("123")},
		{"INTEGER/string", integer, " 123 "},
		{"FLOAT", float, json.Number("12.5")},
		{"BOOLEAN", boolean, "yes"},
		{"DATE", date, "2024-05-01"},
		{"DATETIME", dtime, "2024-05-01T10:00:00.123Z"},
		{"DATETIME/unix", dtime, json.Number("1714557600")},
		{"FIXED", plan, "pro"},
		{"FIXED/multi", colors, []any{"red", "blue"}},
		{"JSON", jsonDef, map[string]any{"a": []any{json.Number("1"), "b"}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				attribute.Coerce(c.def, c.in)
			}
		})
	}
}
