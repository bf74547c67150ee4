package standard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	userColumns = map[string]bool{
		"email": true, "first_name": true, "last_name": true, "phone": true, "gender": true,
		"country": true, "region": true, "city": true, "street": true, "postal_code": true,
	}
	companyColumns = map[string]bool{
		"name": true, "description": true, "email": true, "employees": true, "phone": true,
		"country": true, "region": true, "city": true, "street": true, "postal_code": true,
	}
	contextColumns = map[string]bool{
		"user_agent": true, "os": true, "device_name": true, "device_type": true, "language": true,
		"resolution": true, "ip_address": true, "browser_family": true, "browser_version": true,
		"timezone": true, "current_url": true,
	}
)

// watchdog panics with the input when one run takes far longer than any should, so that
// a pathological input shows up as a failure instead of a silently stalled fuzzer.
func watchdog(data []byte) (stop func()) {
	t := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("slow input %q", data)) })
	return func() { t.Stop() }
}

// decodeObject decodes data as the ingestion endpoint does; ok=false for non-objects.
func decodeObject(data []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// checkFields asserts the Fields contract: known columns only; values string, int64 or
// nil; text valid UTF-8, without NUL, trimmed, non-empty and within MaxText.
func checkFields(t *testing.T, what string, f Fields, columns map[string]bool, mayClear func(string) bool) {
	t.Helper()
	if f == nil {
		t.Fatalf("%s: nil Fields", what)
	}
	for k, v := range f {
		if !columns[k] {
			t.Fatalf("%s: unexpected column %q", what, k)
		}
		switch x := v.(type) {
		case nil:
			if !mayClear(k) {
				t.Fatalf("%s: %s cleared", what, k)
			}
		case string:
			if x == "" || len(x) > MaxText || !utf8.ValidString(x) || strings.IndexByte(x, 0) >= 0 || strings.TrimSpace(x) != x {
				t.Fatalf("%s: %s = %q (%d bytes) is not clean text", what, k, x, len(x))
			}
		case int64:
			if k != "employees" || x < 0 {
				t.Fatalf("%s: %s = %d", what, k, x)
			}
		default:
			t.Fatalf("%s: %s has type %T", what, k, v)
		}
	}
}

func checkCustom(t *testing.T, what string, in, custom map[string]any, reserved map[string]bool) {
	t.Helper()
	for k, v := range in {
		cv, ok := custom[k]
		if reserved[k] == ok {
			t.Fatalf("%s: key %q reserved=%v but in custom=%v", what, k, reserved[k], ok)
		}
		if ok && !reflect.DeepEqual(cv, v) {
			t.Fatalf("%s: custom %q changed", what, k)
		}
	}
	if len(custom) > len(in) {
		t.Fatalf("%s: custom has keys the input lacks", what)
	}
}

func FuzzUserTraits(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.c","name":"Ada Lovelace","address":{"state":"CA","line1":"1","line2":"2"}}`,
		`{"firstName":null,"last_name":"","phone":4930,"gender":true,"address":null}`,
		`{"employees":"1e3","name":"ACME","description":{"x":1}}`,
		`{"employees":-0.0e-999999999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		in, ok := decodeObject(data)
		if !ok {
			return
		}
		snapshot, _ := decodeObject(data)
		all := func(string) bool { return true }

		uf, uc := UserTraits(in)
		checkFields(t, "UserTraits", uf, userColumns, all)
		checkCustom(t, "UserTraits", in, uc, userReserved)

		cf, cc := CompanyTraits(in)
		checkFields(t, "CompanyTraits", cf, companyColumns, all)
		checkCustom(t, "CompanyTraits", in, cc, companyReserved)

		if !reflect.DeepEqual(in, snapshot) {
			t.Fatal("input modified")
		}
		// Deterministic, whatever the map order.
		if again, _ := UserTraits(in); !reflect.DeepEqual(again, uf) {
			t.Fatalf("UserTraits not deterministic: %v then %v", uf, again)
		}
	})
}

func FuzzContext(f *testing.F) {
	f.Add([]byte(fullContext))
	f.Add([]byte(`{"userAgent":"` + chromeUA + `","os":{"name":"Windows"},"screen":{"width":1e3,"height":"1"}}`))
	f.Add([]byte(`{"ip":"::ffff:1.2.3.4%eth0","locale":null,"page":{"url":""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		in, ok := decodeObject(data)
		if !ok {
			return
		}
		got := Context(in)
		checkFields(t, "Context", got, contextColumns, func(k string) bool {
			return k == "browser_family" || k == "browser_version"
		})
		if _, ok := got["browser_family"]; ok {
			if _, ok := got["user_agent"]; !ok {
				t.Fatal("browser fields without user_agent")
			}
		}
		if r, ok := got["resolution"].(string); ok && strings.Count(r, "x") != 1 {
			t.Fatalf("resolution %q", r)
		}
	})
}
