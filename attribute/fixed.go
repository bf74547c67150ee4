package attribute

import (
	"encoding/json"
	"strings"
)

func coerceFixed(def Definition, v any) (any, bool) {
	if !def.AllowMultiple {
		s, ok := scalarText(v)
		if !ok {
			return nil, false
		}
		i := matchChoice(def.Choices, s)
		if i < 0 {
			return nil, false
		}
		return sanitize(def.Choices[i]), true
	}
	picked := make([]bool, len(def.Choices))
	pick := func(s string) {
		if i := matchChoice(def.Choices, s); i >= 0 {
			picked[i] = true
		}
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := scalarText(e); ok {
				pick(s)
			}
		}
	case []string:
		for _, s := range x {
			pick(s)
		}
	default:
		s, ok := scalarText(v)
		if !ok {
			return nil, false
		}
		// A string that is a choice as a whole wins over splitting it, so choices may
		// contain commas.
		if i := matchChoice(def.Choices, s); i >= 0 {
			picked[i] = true
		} else if strings.Contains(s, ",") {
			for part := range strings.SplitSeq(s, ",") {
				if strings.TrimSpace(part) != "" {
					pick(part)
				}
			}
		}
	}
	var out []string
	for i, p := range picked {
		if p {
			out = append(out, sanitize(def.Choices[i]))
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return out, true
}

// scalarText is the text a FIXED choice is matched against; objects and arrays have none.
func scalarText(v any) (string, bool) {
	switch v.(type) {
	case nil, map[string]any, []any, []string:
		return "", false
	case string:
		return v.(string), true
	case json.Number:
		return string(v.(json.Number)), true
	}
	return textOf(v)
}

// matchChoice returns the index of the choice s stands for, or -1. Exact first, so a
// stored choice always finds itself; then ignoring surrounding space; then ignoring case,
// because "Premium" for a choice "premium" is a typo, not a different answer — unless
// several choices match that way, when guessing would be wrong.
func matchChoice(choices []string, s string) int {
	for i, c := range choices {
		if c == s {
			return i
		}
	}
	t := strings.TrimSpace(s)
	for i, c := range choices {
		if strings.TrimSpace(c) == t {
			return i
		}
	}
	found := -1
	for i, c := range choices {
		if strings.EqualFold(strings.TrimSpace(c), t) {
			if found >= 0 && choices[found] != c {
				return -1
			}
			if found < 0 {
				found = i
			}
		}
	}
	return found
}
