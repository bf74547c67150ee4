package attribute

// Type is the type of a custom attribute, as stored in its definition.
type Type string

// The attribute types. The string values are the ones exposed by the API and stored in
// definitions, so they must never change.
const (
	String   Type = "STRING"
	Integer  Type = "INTEGER"
	Float    Type = "FLOAT"
	Boolean  Type = "BOOLEAN"
	Date     Type = "DATE"
	DateTime Type = "DATETIME"
	Fixed    Type = "FIXED"
	JSON     Type = "JSON"
)

// Valid reports whether t is one of the defined types.
func (t Type) Valid() bool {
	switch t {
	case String, Integer, Float, Boolean, Date, DateTime, Fixed, JSON:
		return true
	}
	return false
}

// Types returns every type in a stable order (a fresh slice, so callers may modify it).
func Types() []Type {
	return []Type{String, Integer, Float, Boolean, Date, DateTime, Fixed, JSON}
}

// Definition is the part of an attribute definition that decides how values are typed.
type Definition struct {
	Type Type
	// Choices are the allowed values of a FIXED attribute; ignored for other types.
	Choices []string
	// AllowMultiple lets a FIXED attribute hold several choices at once.
	AllowMultiple bool
}

// MaxTextLength is the longest text, in bytes, that Coerce accepts for a STRING value
// (after converting it to text). Longer values are rejected rather than truncated; see the
// package documentation.
const MaxTextLength = 64 << 10

// Coerce converts v to the stored form for def. ok=false: the value cannot be converted
// (the caller keeps the old value and counts a rejection). A nil v yields (nil, true): the
// attribute is to be cleared. Coerce never panics, whatever v is.
func Coerce(def Definition, v any) (stored any, ok bool) {
	if !def.Type.Valid() {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	switch def.Type {
	case String:
		s, ok := textOf(v)
		if !ok || len(s) > MaxTextLength {
			return nil, false
		}
		return s, true
	case Integer:
		return coerceInteger(v)
	case Float:
		return coerceFloat(v)
	case Boolean:
		return coerceBoolean(v)
	case Date:
		t, ok := timeOf(v)
		if !ok {
			return nil, false
		}
		return t.Format(dateLayout), true
	case DateTime:
		t, ok := timeOf(v)
		if !ok {
			return nil, false
		}
		return t.Format(dateTimeLayout), true
	case Fixed:
		return coerceFixed(def, v)
	case JSON:
		return cleanJSON(v)
	}
	return nil, false
}

// AsText is the STRING rule, used for keys without a definition: strings as they are
// (NUL and invalid UTF-8 replaced), numbers in their JSON spelling, booleans as
// "true"/"false", objects and arrays as compact JSON text. It returns "" for nil and for
// values that have no JSON form. It does not apply MaxTextLength: to store a value, use
// Coerce(Definition{Type: String}, v), which does.
func AsText(v any) string {
	s, _ := textOf(v)
	return s
}

// Convert re-types an already stored value (the stored form of from) to the definition
// to, by the rules of Coerce, for when an admin changes a definition's type or choices.
// ok=false means the value must be removed.
func Convert(from Type, to Definition, stored any) (any, bool) {
	if stored == nil || !to.Type.Valid() {
		return nil, false
	}
	// A multiple FIXED value re-typed to a single FIXED: Coerce rejects arrays there, but
	// a stored selection that still has exactly one valid choice has an obvious meaning.
	if from == Fixed && to.Type == Fixed && !to.AllowMultiple {
		if _, isString := stored.(string); !isString {
			multi := to
			multi.AllowMultiple = true
			out, ok := coerceFixed(multi, stored)
			if !ok {
				return nil, false
			}
			if list := out.([]string); len(list) == 1 {
				return list[0], true
			}
			return nil, false
		}
	}
	return Coerce(to, stored)
}
