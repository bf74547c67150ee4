package attribute

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// decimal is an exact decimal value: digits × 10^exp. Working on the digits rather than
// on a float64 is what lets INTEGER accept 9223372036854775807 and reject
// 9223372036854775808, and lets "1e1000000000" be judged without building a huge number.
type decimal struct {
	neg    bool
	digits string // significant digits, no leading or trailing zeros; "" is zero
	exp    int
}

// expLimit caps parsed exponents; anything this large is out of every range we accept,
// and capping keeps the arithmetic below from overflowing.
const expLimit = 1_000_000_000

// scanNumber splits a decimal number: optional sign, digits with an optional point (at
// least one digit), optional exponent. No hex, no underscores, no NaN or Infinity. The
// syntax is a subset of strconv.ParseFloat's, which FLOAT relies on.
func scanNumber(s string) (neg bool, intPart, fracPart string, exp int, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart = s[start:i]
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracPart = s[start:i]
	}
	if intPart == "" && fracPart == "" {
		return false, "", "", 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			if exp < expLimit {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start {
			return false, "", "", 0, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return false, "", "", 0, false
	}
	return neg, intPart, fracPart, exp, true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// parseDecimal parses a number in the scanNumber syntax, surrounding white space allowed.
func parseDecimal(s string) (decimal, bool) {
	neg, intPart, fracPart, exp, ok := scanNumber(strings.TrimSpace(s))
	if !ok {
		return decimal{}, false
	}
	mant := intPart
	if fracPart != "" {
		mant = intPart + fracPart
	}
	exp -= len(fracPart)
	mant = strings.TrimLeft(mant, "0")
	if mant == "" {
		return decimal{}, true
	}
	trimmed := strings.TrimRight(mant, "0")
	exp += len(mant) - len(trimmed)
	return decimal{neg: neg, digits: trimmed, exp: exp}, true
}

// decimalOf reads a number from a JSON number, a numeric string, or a Go number.
func decimalOf(v any) (decimal, bool) {
	switch x := v.(type) {
	case string:
		return parseDecimal(x)
	case json.Number:
		return parseDecimal(string(x))
	case float64, float32:
		f, _ := floatOf(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return decimal{}, false
		}
		// The shortest spelling that round-trips is what the sender meant; the exact
		// binary value of 0.1 is not.
		return parseDecimal(strconv.FormatFloat(f, 'g', -1, 64))
	case uint:
		return parseDecimal(strconv.FormatUint(uint64(x), 10))
	case uint64:
		return parseDecimal(strconv.FormatUint(x, 10))
	}
	if n, ok := intOf(v); ok {
		return parseDecimal(strconv.FormatInt(n, 10))
	}
	return decimal{}, false
}

// int64 returns d when it is an integer in the int64 range.
func (d decimal) int64() (int64, bool) {
	if d.digits == "" {
		return 0, true
	}
	if d.exp < 0 || len(d.digits)+d.exp > 19 {
		return 0, false
	}
	s := d.digits + strings.Repeat("0", d.exp)
	if d.neg {
		s = "-" + s
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func coerceInteger(v any) (any, bool) {
	switch x := v.(type) {
	case float64, float32:
		// Exact binary value, not the shortest spelling: an integral float64 is an
		// integer, and int64(f) is exactly it.
		f, _ := floatOf(x)
		if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) ||
			f < -(1<<63) || f >= 1<<63 {
			return nil, false
		}
		return int64(f), true
	case bool:
		return nil, false
	}
	if n, ok := intOf(v); ok {
		return n, true
	}
	d, ok := decimalOf(v)
	if !ok {
		return nil, false
	}
	n, ok := d.int64()
	if !ok {
		return nil, false
	}
	return n, true
}

func coerceFloat(v any) (any, bool) {
	var f float64
	switch x := v.(type) {
	case float64, float32:
		f, _ = floatOf(x)
	case string, json.Number:
		s, _ := x.(string)
		if n, isNum := x.(json.Number); isNum {
			s = string(n)
		}
		s = strings.TrimSpace(s)
		if _, _, _, _, ok := scanNumber(s); !ok {
			return nil, false
		}
		var err error
		// An overflow comes back as ±Inf with ErrRange; underflow rounds to 0 silently.
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, false
		}
	case uint:
		f = float64(x)
	case uint64:
		f = float64(x)
	default:
		n, ok := intOf(v)
		if !ok {
			return nil, false
		}
		f = float64(n)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == 0 {
		f = 0 // -0 is not a value anyone means, and jsonb drops the sign anyway
	}
	return f, true
}

func coerceBoolean(v any) (any, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		s := strings.TrimSpace(x)
		for _, w := range [...]string{"true", "yes", "1"} {
			if strings.EqualFold(s, w) {
				return true, true
			}
		}
		for _, w := range [...]string{"false", "no", "0"} {
			if strings.EqualFold(s, w) {
				return false, true
			}
		}
		return nil, false
	}
	d, ok := decimalOf(v)
	if !ok {
		return nil, false
	}
	switch {
	case d.digits == "":
		return false, true
	case !d.neg && d.digits == "1" && d.exp == 0:
		return true, true
	}
	return nil, false
}

// isJSONNumber reports whether s is a number in strict JSON syntax, which json.Marshal
// demands of a json.Number.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}
