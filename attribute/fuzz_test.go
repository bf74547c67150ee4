package attribute_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/peoplegraph/peoplegraph/attribute"
)

var (
	storedDate     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	storedDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$`)
)

// fuzzDefs covers every type, FIXED both ways, with choices that exercise trimming,
// case folding, commas, numbers and duplicates.
var fuzzDefs = []attribute.Definition{
	str, integer, float, boolean, date, dtime, jsonDef,
	{Type: attribute.Fixed, Choices: []string{"free", "pro", "Pro ", "1", "true", "a,b", "X", "X", ""}},
	{Type: attribute.Fixed, Choices: []string{"free", "pro", "Pro ", "1", "true", "a,b", "X", "X", ""}, AllowMultiple: true},
}

func FuzzCoerce(f *testing.F) {
	for _, s := range []string{
		`null`, `"123"`, `999`, `12.0`, `1e3`, `12.5`, `-0`, `true`, `"yes"`, `"2024-05-01"`,
		`"2024-05-01T10:00:00Z"`, `"2024-05-01 10:00:00 +02:00"`, `1714557600.5`,
		`"pro"`, `["free","PRO","a,b"]`, `"free, pro"`, `{"a":[1,"b",null]}`, `""`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzer has no per-input timeout; a panic from the watchdog makes it save an
		// input that is pathologically slow (the values come from untrusted senders).
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("input took over 10s: %q", data)) })
		defer watchdog.Stop()
		// Both the decoded document and the raw bytes as a string: callers may pass
		// strings that never went through a JSON decoder (NUL, invalid UTF-8).
		inputs := []any{string(data)}
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err == nil {
			inputs = append(inputs, v)
		}
		for _, in := range inputs {
			checkCoerce(t, in)
		}
	})
}

func checkCoerce(t *testing.T, in any) {
	results := make(map[attribute.Type]any)
	for _, def := range fuzzDefs {
		stored, ok := attribute.Coerce(def, in)
		if in == nil {
			if stored != nil || !ok {
				t.Fatalf("Coerce(%s, nil) = %#v, %v; want nil, true", def.Type, stored, ok)
			}
			continue
		}
		checkStored(t, "Coerce", def, in, stored, ok)
		if !ok {
			continue
		}
		if def.Type != attribute.Fixed {
			results[def.Type] = stored
		}

		// The stored form is a fixed point, directly and after a trip through the
		// database (marshal, then decode with UseNumber as a reader would).
		again, ok := attribute.Coerce(def, stored)
		if !ok || !reflect.DeepEqual(again, stored) {
			t.Fatalf("%s: stored %#v re-coerces to %#v, %v", def.Type, stored, again, ok)
		}
		b, _ := json.Marshal(stored)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var back any
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("%s: stored %#v does not decode: %v", def.Type, stored, err)
		}
		again, ok = attribute.Coerce(def, back)
		if !ok {
			t.Fatalf("%s: stored %#v rejected after a database round trip", def.Type, stored)
		}
		if b2, _ := json.Marshal(again); !bytes.Equal(b, b2) {
			t.Fatalf("%s: stored %s becomes %s after a database round trip", def.Type, b, b2)
		}

		for _, to := range fuzzDefs {
			converted, ok := attribute.Convert(def.Type, to, stored)
			if ok && converted == nil {
				t.Fatalf("Convert(%s→%s, %#v) = nil, true", def.Type, to.Type, stored)
			}
			checkStored(t, "Convert", to, stored, converted, ok)
		}
	}

	// Cross-type consistency.
	dt, dtOK := results[attribute.DateTime]
	dd, dOK := results[attribute.Date]
	if dtOK != dOK || (dtOK && dt.(string)[:10] != dd.(string)) {
		t.Fatalf("DATE %#v and DATETIME %#v disagree on %#v", dd, dt, in)
	}
	if n, ok := results[attribute.Integer]; ok {
		if f, ok := results[attribute.Float]; !ok || f.(float64) != float64(n.(int64)) {
			t.Fatalf("INTEGER %#v but FLOAT %#v for %#v", n, f, in)
		}
	}
}

// checkStored asserts that an accepted value has exactly the storage form of def.
func checkStored(t *testing.T, op string, def attribute.Definition, in, stored any, ok bool) {
	t.Helper()
	fail := func(why string) {
		t.Helper()
		t.Fatalf("%s(%s multiple=%v, %#v) = %#v, %v: %s", op, def.Type, def.AllowMultiple, in, stored, ok, why)
	}
	if !ok {
		if stored != nil {
			fail("rejected with a value")
		}
		return
	}
	if stored == nil {
		fail("accepted as nil")
	}
	if _, err := json.Marshal(stored); err != nil {
		fail("does not marshal: " + err.Error())
	}
	if !storableText(stored) {
		fail("holds text jsonb cannot store")
	}
	switch def.Type {
	case attribute.String:
		s, isString := stored.(string)
		if !isString || len(s) > attribute.MaxTextLength {
			fail("not a string within MaxTextLength")
		}
	case attribute.Integer:
		if _, isInt := stored.(int64); !isInt {
			fail("not an int64")
		}
	case attribute.Float:
		f, isFloat := stored.(float64)
		if !isFloat || math.IsNaN(f) || math.IsInf(f, 0) || math.Signbit(f) && f == 0 {
			fail("not a finite float64 without -0")
		}
	case attribute.Boolean:
		if _, isBool := stored.(bool); !isBool {
			fail("not a bool")
		}
	case attribute.Date:
		s, isString := stored.(string)
		if !isString || !storedDate.MatchString(s) {
			fail("not a stored date")
		}
		if tm, err := time.Parse("2006-01-02", s); err != nil || tm.Year() < 1 {
			fail("not a valid date")
		}
	case attribute.DateTime:
		s, isString := stored.(string)
		if !isString || !storedDateTime.MatchString(s) {
			fail("not a fixed-width datetime")
		}
		if tm, err := time.Parse(time.RFC3339Nano, s); err != nil || tm.Year() < 1 {
			fail("not a valid datetime")
		}
	case attribute.Fixed:
		if !def.AllowMultiple {
			s, isString := stored.(string)
			if !isString || !slices.Contains(def.Choices, s) {
				fail("not one of the choices")
			}
			return
		}
		list, isList := stored.([]string)
		if !isList || len(list) == 0 {
			fail("not a non-empty []string")
		}
		last := -1
		for _, s := range list {
			i := slices.Index(def.Choices, s)
			if i <= last {
				fail("not distinct choices in choice order")
			}
			last = i
		}
	case attribute.JSON:
		// Any JSON value; marshalling was checked above.
	default:
		fail("accepted for an invalid type")
	}
}

// storableText reports whether every string and key in v is valid UTF-8 without NUL.
func storableText(v any) bool {
	ok := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	switch x := v.(type) {
	case string:
		return ok(x)
	case []string:
		for _, s := range x {
			if !ok(s) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !storableText(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if !ok(k) || !storableText(e) {
				return false
			}
		}
	}
	return true
}

func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"plan", "", " ", "a.b", "__proto__", "\x00", "\xff", "a\tb",
		strings.Repeat("k", 128), strings.Repeat("k", 129), "żółw", "\u0085", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := attribute.ValidateKey(key)
		want := strings.TrimSpace(key) != "" && len(key) <= attribute.MaxKeyLength &&
			utf8.ValidString(key) && !strings.ContainsFunc(key, unicode.IsControl)
		if (err == nil) != want {
			t.Fatalf("ValidateKey(%q) = %v; want ok=%v", key, err, want)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
