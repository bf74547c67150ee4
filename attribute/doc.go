// Package attribute holds the typing rules for custom attributes (user, company and event
// traits): which incoming JSON values each attribute type accepts, the form each type is
// stored in, how a stored value is re-typed when an admin changes a definition, and which
// attribute keys are acceptable. It is pure: no database, no I/O, standard library only.
//
// # Input
//
// Values are what encoding/json produces with Decoder.UseNumber: nil, bool, string,
// json.Number, map[string]any and []any, nested the same way. For callers' convenience the
// Go integer and float kinds and []string are accepted too. Anything else (structs,
// channels, NaN floats, invalid json.Number text, cyclic maps) is rejected, never panicked on.
//
// # Results of Coerce
//
//   - (stored, true): store stored. It is never nil.
//   - (nil, true): the input was null, which clears the attribute. It is reported as a
//     success, not a rejection, because clearing is a legitimate update and must not be
//     counted as a rejected value; callers must check stored == nil before storing.
//   - (nil, false): the value cannot be converted; the old value stays and the caller
//     counts a rejection on the definition.
//
// # Storage forms
//
// Values live in a JSON column and are compared in SQL by type, on PostgreSQL (jsonb) and
// SQLite (json_extract), so each type has exactly one Go form, chosen so that the JSON
// type of the column value identifies the attribute type and SQL comparisons are correct:
//
//	STRING    string
//	INTEGER   int64
//	FLOAT     float64 (finite; -0 is stored as 0)
//	BOOLEAN   bool
//	DATE      string "2006-01-02" (UTC)
//	DATETIME  string "2006-01-02T15:04:05.000000Z" (UTC, always six fractional digits, so
//	          text order is time order; finer precision is truncated)
//	FIXED     string, or []string in choice order without duplicates when AllowMultiple
//	JSON      the decoded value, unchanged but for numbers no float64 holds (1e400), kept as text
//
// Text anywhere in a stored value (strings, and map keys in JSON values) has NUL
// characters and invalid UTF-8 replaced by U+FFFD, because PostgreSQL jsonb cannot hold
// \u0000 and both databases need valid UTF-8; without this one odd value would fail the
// whole write.
//
// # Rules and decisions
//
// STRING, and keys without a definition: a string is kept as it is (not trimmed, "" is a
// value; only null clears); a number keeps its JSON spelling (999 → "999", 1.50 → "1.50");
// a boolean becomes "true"/"false"; an object or array becomes its compact JSON text (keys
// sorted, no HTML escaping). Text longer than MaxTextLength bytes is rejected, not
// truncated: a truncated value (a cut URL, half a JSON document) looks right but is wrong,
// while a rejection is counted and shown to the admin with the offending value.
//
// INTEGER: a JSON number or a string holding a number (surrounding white space and a
// leading + allowed, digits in base 10 only), accepted when its value is an integer in the
// int64 range. The decision is on the exact decimal value, never on a float64
// approximation: 12.0, 1e3 and "1.2e1" are integral and accepted; 12.5, 1e-1 and
// 9223372036854775808 are rejected. Booleans, "abc", hex and empty strings are rejected.
//
// FLOAT: a JSON number or a numeric string (same syntax as above), rounded to the nearest
// float64. NaN, infinities and anything that overflows float64 (1e400) are rejected;
// underflow (1e-400) rounds to 0.
//
// BOOLEAN: true and false; the strings true/false/yes/no/1/0 in any case, trimmed; numbers
// whose value is exactly 1 or 0 (so 1.0 and 0e5 too). Other words (on/off, y/n) are
// rejected because the contract lists the accepted ones.
//
// DATE and DATETIME: RFC 3339 / ISO-8601 extended-format strings — a bare date
// "2024-05-01" (midnight UTC), or a date and time separated by "T" or a space, with or
// without seconds, with optional fractional seconds (dot or comma), and an optional zone
// "Z", "+02:00", "+0200", "+02", " UTC" or " GMT" (no zone means UTC); T and Z may be
// lower case. Numbers, and strings holding one, are Unix seconds, fractional parts
// allowed for both types. Everything is converted to UTC first, so a DATE of
// "2024-05-01T23:30:00-05:00" is 2024-05-02; this keeps DATE consistent with re-typing a
// DATETIME to DATE. Results outside the years 0001–9999 (after conversion to UTC) are
// rejected. Unix milliseconds are not guessed at: any present-day millisecond value lands
// after the year 9999 and is therefore rejected rather than misread. An all-digit string
// such as "20240501" is Unix seconds, not an ISO basic-format date.
//
// FIXED: a value matches a choice exactly; failing that, after trimming surrounding white
// space on both sides; failing that, case-insensitively, provided exactly one choice
// matches that way (ambiguous values do not match). The stored value is always the
// choice's own spelling, so re-coercing a stored value gives it back unchanged. Numbers
// and booleans are matched by their text. Without AllowMultiple the value must be a single
// matching scalar; arrays are rejected. With AllowMultiple the value may be an array, a
// single value, or a comma-separated string (a string that matches a choice as a whole is
// taken whole first, so choices may contain commas); invalid elements are dropped and the
// value is rejected only when no valid choice remains (an empty array is therefore
// rejected; send null to clear).
//
// JSON: any value is kept as it is. Its size is bounded by the ingestion request limits,
// not by MaxTextLength.
//
// # Re-typing
//
// Convert applies the Coerce rules of the new type to the stored value of the old one, so
// STRING "42" becomes INTEGER 42 and STRING "abc" is removed; INTEGER 1 becomes BOOLEAN
// true while BOOLEAN true is removed from an INTEGER (booleans are not numbers); DATETIME
// to DATE keeps the UTC date; DATE to DATETIME is midnight UTC; any type to STRING is its
// text form (a DATETIME keeps its stored string, a multiple FIXED becomes its JSON array
// text); any type to JSON keeps the stored value. The one addition to the Coerce rules: a
// multiple FIXED value converted to a single FIXED is kept when exactly one of its
// choices is still valid. Stored values read back from the database (json.Number, []any,
// float64) are accepted as well as the Go forms above.
//
// # Keys
//
// A key must be non-empty after trimming, at most MaxKeyLength bytes, valid UTF-8 and free
// of control characters. Anything else is allowed — dots, quotes, spaces (including
// leading and trailing ones, which are kept), "__proto__", SQL keywords — because keys are
// data: callers pass them as bind parameters (quoting them when they build a JSON path)
// and never interpolate them into SQL or use them as object fields, so rejecting them
// would only lose customer data that Segment accepted.
package attribute
