package attribute

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth is one more than encoding/json's own nesting limit, so every document the
// decoder accepts is accepted here, while hand-built values cannot recurse without bound.
const maxDepth = 10001

// cycleCheckDepth: values from the decoder are trees, so paths are only tracked once a
// value is deeper than any sane document, as encoding/json does; that keeps the common
// case free of bookkeeping and still stops self-referencing maps and slices.
const cycleCheckDepth = 1000

// textOf implements the STRING rule; ok=false when v has no JSON form.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return sanitize(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case json.Number:
		if !isJSONNumber(string(x)) {
			return "", false
		}
		return string(x), true
	case map[string]any, []any, []string:
		clean, ok := cleanJSON(v)
		if !ok {
			return "", false
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// Text is data, not HTML: "<b>" should read as "<b>", not "\u003cb\u003e".
		enc.SetEscapeHTML(false)
		if err := enc.Encode(clean); err != nil {
			return "", false
		}
		return strings.TrimSuffix(buf.String(), "\n"), true
	}
	if n, ok := intOf(v); ok {
		return strconv.FormatInt(n, 10), true
	}
	if u, ok := v.(uint64); ok {
		return strconv.FormatUint(u, 10), true
	}
	if u, ok := v.(uint); ok {
		return strconv.FormatUint(uint64(u), 10), true
	}
	switch x := v.(type) {
	case float64, float32:
		if f, _ := floatOf(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return "", false
		}
		// encoding/json's spelling (1e+21, 0.1 for a float32 0.1) matches what a JSON
		// number in the input would have looked like.
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	return "", false
}

// intOf returns the value of any signed integer kind, and of unsigned kinds that fit.
func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// sanitize makes s storable in jsonb: valid UTF-8 without NUL.
func sanitize(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// cleanJSON validates a JSON-like value and returns it with its text sanitized. The
// input is returned itself when nothing needed changing, so the common case does not copy.
func cleanJSON(v any) (any, bool) {
	var c cleaner
	out, _, ok := c.clean(v, 0)
	if !ok {
		return nil, false
	}
	return out, true
}

type pathKey struct {
	ptr uintptr
	len int
}

type cleaner struct {
	path map[pathKey]struct{}
}

// enter records a container on the current path; false means v contains itself.
func (c *cleaner) enter(v any, n, depth int) (pathKey, bool) {
	if depth < cycleCheckDepth {
		return pathKey{}, true
	}
	k := pathKey{reflect.ValueOf(v).Pointer(), n}
	if c.path == nil {
		c.path = make(map[pathKey]struct{})
	}
	if _, seen := c.path[k]; seen {
		return k, false
	}
	c.path[k] = struct{}{}
	return k, true
}

func (c *cleaner) leave(k pathKey, depth int) {
	if depth >= cycleCheckDepth {
		delete(c.path, k)
	}
}

func (c *cleaner) clean(v any, depth int) (out any, changed, ok bool) {
	if depth > maxDepth {
		return nil, false, false
	}
	switch x := v.(type) {
	case nil, bool:
		return v, false, true
	case string:
		s := sanitize(x)
		return s, s != x, true
	case json.Number:
		if !isJSONNumber(string(x)) {
			return nil, false, false
		}
		// A number no float64 holds (1e400, 1e-400) could be stored but never read back
		// by a JSON decoder that uses float64, so it is kept as its text.
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return string(x), true, true
		}
		return v, false, true
	case float64, float32:
		f, _ := floatOf(x)
		return v, false, !math.IsNaN(f) && !math.IsInf(f, 0)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return v, false, true
	case []string:
		var res []string
		for i, s := range x {
			if t := sanitize(s); t != s {
				if res == nil {
					res = slices.Clone(x)
				}
				res[i] = t
			}
		}
		if res == nil {
			return v, false, true
		}
		return res, true, true
	case []any:
		if x == nil {
			return v, false, true
		}
		k, fresh := c.enter(x, len(x), depth)
		if !fresh {
			return nil, false, false
		}
		defer c.leave(k, depth)
		var res []any
		for i, e := range x {
			ce, ch, ok := c.clean(e, depth+1)
			if !ok {
				return nil, false, false
			}
			if ch {
				if res == nil {
					res = slices.Clone(x)
				}
				res[i] = ce
			}
		}
		if res == nil {
			return v, false, true
		}
		return res, true, true
	case map[string]any:
		if x == nil {
			return v, false, true
		}
		k, fresh := c.enter(x, 0, depth)
		if !fresh {
			return nil, false, false
		}
		defer c.leave(k, depth)
		var res map[string]any
		var renamed []string // keys that need sanitizing, applied after the loop
		for key, e := range x {
			ce, ch, ok := c.clean(e, depth+1)
			if !ok {
				return nil, false, false
			}
			keyChanged := sanitize(key) != key
			if !ch && !keyChanged {
				continue
			}
			if res == nil {
				res = make(map[string]any, len(x))
				for kk, vv := range x {
					res[kk] = vv
				}
			}
			res[key] = ce
			if keyChanged {
				renamed = append(renamed, key)
			}
		}
		if res == nil {
			return v, false, true
		}
		// Sanitized keys may collide with existing ones; keys that were already clean
		// win, then the lowest original key, so the result does not depend on map order.
		slices.Sort(renamed)
		moved := make(map[string]any, len(renamed))
		for _, key := range renamed {
			moved[key] = res[key]
			delete(res, key)
		}
		for _, key := range renamed {
			nk := sanitize(key)
			if _, exists := res[nk]; !exists {
				res[nk] = moved[key]
			}
		}
		return res, true, true
	}
	return nil, false, false
}
