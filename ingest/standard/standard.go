package standard

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/peoplegraph/peoplegraph/attribute"
)

// Fields holds standard columns by Ent field name. A value is a string, an int64 (company
// employees only), or nil meaning "clear the column". Absent key = leave the column alone.
type Fields map[string]any

// MaxText is the longest text, in bytes, stored in a standard column.
const MaxText = 1024

// Column names: the Ent field names of the user and company schemas.
const (
	colEmail          = "email"
	colFirstName      = "first_name"
	colLastName       = "last_name"
	colName           = "name"
	colDescription    = "description"
	colEmployees      = "employees"
	colPhone          = "phone"
	colGender         = "gender"
	colCountry        = "country"
	colRegion         = "region"
	colCity           = "city"
	colStreet         = "street"
	colPostalCode     = "postal_code"
	colUserAgent      = "user_agent"
	colOS             = "os"
	colDeviceName     = "device_name"
	colDeviceType     = "device_type"
	colLanguage       = "language"
	colResolution     = "resolution"
	colIPAddress      = "ip_address"
	colBrowserFamily  = "browser_family"
	colBrowserVersion = "browser_version"
	colTimezone       = "timezone"
	colCurrentURL     = "current_url"
)

var (
	firstNameKeys = []string{"first_name", "firstName"}
	lastNameKeys  = []string{"last_name", "lastName"}

	userReserved = map[string]bool{
		"email": true, "first_name": true, "firstName": true, "last_name": true, "lastName": true,
		"name": true, "phone": true, "gender": true, "address": true,
	}
	companyReserved = map[string]bool{
		"address": true, "description": true, "email": true, "employees": true, "name": true, "phone": true,
	}
)

// outcome is what a trait value means for its column.
type outcome uint8

const (
	ignored outcome = iota // leave the column alone
	cleared                // set the column to NULL
	set                    // store the text
)

// UserTraits splits identify traits into the standard user columns and the custom traits
// (everything not reserved, returned unchanged for the attribute typer). The custom map
// is new; its values are the caller's.
func UserTraits(traits map[string]any) (Fields, map[string]any) {
	f := Fields{}
	for _, k := range []string{colEmail, colPhone, colGender} {
		f.put(k, pick(traits, k))
	}
	first, last := pick(traits, firstNameKeys...), pick(traits, lastNameKeys...)
	if !present(traits, firstNameKeys...) && !present(traits, lastNameKeys...) {
		if v, ok := traits["name"]; ok {
			first, last = splitName(v)
		}
	}
	f.put(colFirstName, first)
	f.put(colLastName, last)
	if v, ok := traits["address"]; ok {
		f.address(v)
	}
	return f, custom(traits, userReserved)
}

// CompanyTraits splits group traits into the standard company columns and the custom
// traits, as UserTraits does.
func CompanyTraits(traits map[string]any) (Fields, map[string]any) {
	f := Fields{}
	for _, k := range []string{colName, colDescription, colEmail, colPhone} {
		f.put(k, pick(traits, k))
	}
	if v, ok := traits["employees"]; ok {
		if v == nil {
			f[colEmployees] = nil
		} else if n, ok := employees(v); ok {
			f[colEmployees] = n
		}
	}
	if v, ok := traits["address"]; ok {
		f.address(v)
	}
	return f, custom(traits, companyReserved)
}

func custom(traits map[string]any, reserved map[string]bool) map[string]any {
	out := make(map[string]any, len(traits))
	for k, v := range traits {
		if !reserved[k] {
			out[k] = v
		}
	}
	return out
}

// result is a column's decision: its outcome and, when set, its text.
type result struct {
	o    outcome
	text string
}

func (f Fields) put(col string, r result) {
	switch r.o {
	case set:
		f[col] = r.text
	case cleared:
		f[col] = nil
	}
}

func present(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// pick resolves a column with several keys: the first key giving text wins, else a
// clearing key clears, else the column is left alone.
func pick(m map[string]any, keys ...string) result {
	r := result{}
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		switch t := traitText(v); t.o {
		case set:
			return t
		case cleared:
			r.o = cleared
		}
	}
	return r
}

// traitText applies the text rules for traits: null and "" clear.
func traitText(v any) result {
	if v == nil {
		return result{o: cleared}
	}
	s, ok := textOf(v)
	if !ok {
		return result{}
	}
	if s == "" {
		return result{o: cleared}
	}
	return result{o: set, text: s}
}

// textOf renders a scalar as column text (cleaned and capped); ok=false for values that
// have no text form here (nil, objects, arrays, non-finite floats, other types).
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return clean(x), true
	case json.Number:
		return clean(string(x)), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", false
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", false
		}
		return strconv.FormatFloat(f, 'g', -1, 32), true
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}

// clean makes s storable: valid UTF-8 without NUL, trimmed, at most MaxText bytes.
func clean(s string) string {
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRightFunc(s[:cut], unicode.IsSpace)
	}
	return s
}

// splitName splits a full name at its first white space; the last name is left alone
// (ignored) for a single word.
func splitName(v any) (first, last result) {
	r := traitText(v)
	switch r.o {
	case cleared:
		return r, r
	case set:
		i := strings.IndexFunc(r.text, unicode.IsSpace)
		if i < 0 {
			return r, result{}
		}
		_, size := utf8.DecodeRuneInString(r.text[i:])
		// r.text is trimmed, so both halves are non-empty.
		return result{o: set, text: r.text[:i]}, result{o: set, text: strings.TrimSpace(r.text[i+size:])}
	}
	return result{}, result{}
}

var addressColumns = []string{colCountry, colRegion, colCity, colStreet, colPostalCode}

func (f Fields) address(v any) {
	if v == nil {
		for _, c := range addressColumns {
			f[c] = nil
		}
		return
	}
	a, ok := v.(map[string]any)
	if !ok {
		return
	}
	f.put(colCountry, pick(a, "country"))
	f.put(colRegion, pick(a, "state", "region"))
	f.put(colCity, pick(a, "city"))
	street := pick(a, "street", "street_address", "streetAddress")
	if street.o != set {
		switch line1 := pick(a, "line1"); line1.o {
		case set:
			street = line1
			if line2 := pick(a, "line2"); line2.o == set {
				street.text = clean(line1.text + ", " + line2.text)
			}
		case cleared:
			street = line1
		}
	}
	f.put(colStreet, street)
	f.put(colPostalCode, pick(a, "postal_code", "postalCode", "zip", "zip_code", "zipCode"))
}

// employees is the INTEGER rule of package attribute (one rule for every integer a
// message carries), without negative head counts.
func employees(v any) (int64, bool) {
	n, ok := attribute.Coerce(attribute.Definition{Type: attribute.Integer}, v)
	i, isInt := n.(int64)
	return i, ok && isInt && i >= 0
}
