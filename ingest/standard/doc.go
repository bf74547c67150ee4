// Package standard maps the reserved Segment traits of identify and group calls, and the
// context of every call, to the standard columns of user and company profiles (PRODUCT.md
// sections 2.2 and 2.5). It is pure apart from a shared, read-only user-agent parser.
//
// Input values are what encoding/json produces with Decoder.UseNumber: nil, bool, string,
// json.Number, map[string]any and []any. Go's float64 and integer kinds are accepted too,
// for callers that decoded differently.
//
// # Fields
//
// Results are Fields: standard columns by Ent field name. A value is a string, an int64
// (a company's employees) or nil, which clears the column; a column without a key is left
// as it is.
//
// # Text columns
//
//   - A string is trimmed of surrounding white space. Invalid UTF-8 is replaced by U+FFFD,
//     and so is NUL, which PostgreSQL text cannot hold (as package attribute does).
//   - Text is capped at MaxText bytes, cut at a character boundary. Standard columns are
//     short by nature (names, a user agent, a URL); cutting a pathological value keeps the
//     rest of the call, where rejecting it would drop the whole profile update.
//   - A number keeps its JSON spelling (42 → "42"), a boolean becomes "true"/"false".
//   - Objects and arrays are ignored: there is no sensible text for them in these columns.
//   - In traits, null, and a string that is empty after trimming, clear the column. Clients
//     send "" to mean "no value" far more often than to store an empty text, and an empty
//     column and a missing one should not be two states a segment filter must know about.
//
// # Reserved traits
//
// User traits: email, first_name/firstName, last_name/lastName, name, phone, gender and
// address. Company traits: name, description, email, employees, phone and address. They
// never become custom attributes, even when ignored ("employees":"many"), so that a
// reserved key cannot turn into a STRING attribute by accident.
//
// Where a column has several keys (first_name and firstName, state and region, …), the
// first key in the documented order that gives a value wins; a null or empty one clears
// only when no key gives a value; keys whose value is ignored count as absent. The outcome
// never depends on map order.
//
// name (users) is used only when none of first_name, firstName, last_name, lastName is
// present: it is split at its first white space into first_name and last_name (one word
// sets first_name only and leaves last_name alone); null or "" clears both.
//
// address must be an object (anything else is ignored; null clears country, region, city,
// street and postal_code). Its keys: country; state, then region → region; city; street,
// then street_address, streetAddress, then line1 (with ", " and line2 when that is given)
// → street; postal_code, then postalCode, zip, zip_code, zipCode → postal_code. Keys not
// present leave their column alone.
//
// employees (companies) accepts a number or a numeric string whose value is a
// non-negative integer that fits int64: 12, "12", " 12 ", 12.0 and 1e3 — the INTEGER rule
// of package attribute. Anything else (12.5, "many", "", -3, booleans) is ignored; null
// clears.
//
// # Context
//
// Context returns only values the context carries: it never clears a column from an
// absent or empty context value, since most calls carry only part of a context. The one
// exception is the browser: when userAgent is given, browser_family and browser_version
// always describe it, and are cleared when the parser does not recognize the browser, so
// they never disagree with user_agent.
//
//   - userAgent → user_agent, and parsed (github.com/medama-io/go-useragent) → browser_family
//     ("Chrome", "Safari", "Edge", …), browser_version as the library gives it
//     ("120.0.0.0"); os ("Windows", "MacOS", "iOS", "Android", …) and device_type
//     (lower case: "desktop", "mobile", "tablet", "tv", "bot") only when the context's os
//     or device give none and the parser recognizes them.
//   - os.name, with " " and os.version when present → os.
//   - device.name, else device.model → device_name; device.type → device_type as given
//     (Segment's mobile libraries send "ios", "android").
//   - locale → language; timezone → timezone; page.url → current_url.
//   - screen.width × screen.height → resolution "1920x1080", only when both are positive
//     integers.
//   - ip → ip_address, only when it is an IP address, in canonical form (an IPv4-mapped
//     IPv6 address becomes IPv4, a zone is dropped).
package standard
