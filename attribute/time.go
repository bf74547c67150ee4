package attribute

import (
	"strconv"
	"strings"
	"time"
)

const (
	dateLayout = "2006-01-02"
	// Fixed width on purpose: with always six fractional digits and a literal Z, comparing
	// the stored strings as text (which is all SQL does with them) orders them by time.
	dateTimeLayout = "2006-01-02T15:04:05.000000Z"
)

// timeLayouts are tried in order after normalizeTime; the most common ones come first.
// time.Parse accepts fractional seconds after "05" even though the layouts don't show them.
var timeLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04Z07",
}

// timeOf reads a point in time, in UTC, truncated to microseconds, years 1–9999.
func timeOf(v any) (time.Time, bool) {
	var t time.Time
	if s, isString := v.(string); isString {
		s = strings.TrimSpace(s)
		if d, ok := parseDecimal(s); ok {
			if t, ok = d.unixTime(); !ok {
				return time.Time{}, false
			}
		} else if t, ok = parseTimeString(s); !ok {
			return time.Time{}, false
		}
	} else {
		if _, isBool := v.(bool); isBool {
			return time.Time{}, false
		}
		d, ok := decimalOf(v)
		if !ok {
			return time.Time{}, false
		}
		if t, ok = d.unixTime(); !ok {
			return time.Time{}, false
		}
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, false
	}
	return t.Truncate(time.Microsecond), true
}

// unixTime reads d as Unix seconds, floored to the microsecond.
func (d decimal) unixTime() (time.Time, bool) {
	if d.digits == "" {
		return time.Unix(0, 0), true
	}
	intDigits := len(d.digits) + d.exp // digits before the decimal point
	// 12 digits hold every second of the years 1–9999 (±253402300799).
	if intDigits > 12 {
		return time.Time{}, false
	}
	var ip, fp string
	rest := false // nonzero digits beyond the microseconds
	switch {
	case d.exp >= 0:
		ip = d.digits + strings.Repeat("0", d.exp)
	case intDigits <= -6:
		rest = true
	case intDigits <= 0:
		fp = strings.Repeat("0", -intDigits) + d.digits
	default:
		ip, fp = d.digits[:intDigits], d.digits[intDigits:]
	}
	var sec int64
	if ip != "" {
		var err error
		if sec, err = strconv.ParseInt(ip, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	if len(fp) > 6 {
		fp, rest = fp[:6], true
	}
	micro := int64(0)
	if fp != "" {
		m, err := strconv.ParseInt(fp+strings.Repeat("0", 6-len(fp)), 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		micro = m
	}
	// At most 12 integer digits, so this cannot overflow; the year check comes later.
	total := sec*1_000_000 + micro
	if d.neg {
		// Floor, like truncating an ISO time: -0.5µs is in the microsecond before 0.
		total = -total
		if rest {
			total--
		}
	}
	return time.UnixMicro(total), true
}

// parseTimeString reads the ISO-8601 / RFC 3339 variants listed in the package doc.
func parseTimeString(s string) (time.Time, bool) {
	// No accepted form is longer than this; the cap keeps time.Parse off huge strings.
	if len(s) < len(dateLayout) || len(s) > 64 {
		return time.Time{}, false
	}
	if len(s) == len(dateLayout) {
		t, err := time.Parse(dateLayout, s)
		return t, err == nil
	}
	s = normalizeTime(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// normalizeTime maps the accepted spellings onto the layouts: "T" as separator, upper-case
// "Z", " UTC"/" GMT" as "Z", and no space between the time and its zone.
func normalizeTime(s string) string {
	b := []byte(s)
	if b[10] == ' ' || b[10] == 't' {
		b[10] = 'T'
	}
	if n := len(b); n > 4 {
		if suffix := strings.ToUpper(string(b[n-4:])); suffix == " UTC" || suffix == " GMT" {
			b = append(b[:n-4], 'Z')
		}
	}
	if n := len(b); b[n-1] == 'z' {
		b[n-1] = 'Z'
	}
	if i := strings.LastIndexByte(string(b), ' '); i > 10 && i+1 < len(b) {
		if c := b[i+1]; c == '+' || c == '-' || c == 'Z' {
			b = append(b[:i], b[i+1:]...)
		}
	}
	return string(b)
}

// ParseTime parses the ISO-8601 / RFC 3339 strings accepted for DATETIME values. Message
// timestamps use it too, so a time that types as DATETIME is also a valid timestamp.
func ParseTime(s string) (time.Time, bool) {
	return parseTimeString(s)
}
