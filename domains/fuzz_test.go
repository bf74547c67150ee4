package domains

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"example.com", "*.Example.COM.", "https://example.com/", "*.1.2.3.4", "xn--bcher-kva.example", "a.0x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Normalize(in)
		if err != nil {
			if out != "" {
				t.Fatalf("Normalize(%q) = %q with error %v", in, out, err)
			}
			return
		}
		again, err := Normalize(out)
		if err != nil || again != out {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v", in, out, out, again, err)
		}
		if out == "" || len(out) > MaxLength || !utf8.ValidString(out) || out != strings.ToLower(out) ||
			strings.HasSuffix(out, ".") || strings.ContainsAny(out, " :/@?#") {
			t.Fatalf("Normalize(%q) = %q: not canonical", in, out)
		}
		if strings.Count(out, "*") > 1 || (strings.Contains(out, "*") && !strings.HasPrefix(out, "*.")) {
			t.Fatalf("Normalize(%q) = %q: misplaced wildcard", in, out)
		}
		// A canonical pattern must accept the hosts it describes.
		m := NewMatcher([]string{out})
		if base, ok := strings.CutPrefix(out, "*."); ok {
			if m.Allows(base) {
				t.Fatalf("%q allows its apex", out)
			}
			if len(base) <= MaxLength-2 && !m.Allows("a."+base) {
				t.Fatalf("%q refuses a.%s", out, base)
			}
		} else if !m.Allows(out) || !m.Allows(strings.ToUpper(out)+".:443") {
			t.Fatalf("%q refuses itself", out)
		}
	})
}

// reference is the obvious, slow reading of the matching rules, to compare Allows with.
func reference(patterns []string, host string) bool {
	host = strings.TrimSpace(host)
	if host == "" || len(patterns) == 0 {
		return true
	}
	h := canonicalHost(host)
	if h == "" {
		return false
	}
	for _, p := range patterns {
		c, err := Normalize(p)
		if err != nil {
			continue
		}
		if base, ok := strings.CutPrefix(c, "*."); ok {
			if strings.HasSuffix(h, "."+base) {
				return true
			}
		} else if h == c {
			return true
		}
	}
	return false
}

// FuzzAllows takes newline-separated patterns and a host.
func FuzzAllows(f *testing.F) {
	f.Add("example.com\n*.example.com", "www.Example.com:443")
	f.Add("*.example.com", "example.com")
	f.Add("", "anything")
	f.Add("not a pattern", "not")
	f.Add("*.com", "[::1]:80")
	f.Fuzz(func(t *testing.T, list, host string) {
		var patterns []string
		if list != "" {
			patterns = strings.Split(list, "\n")
		}
		m := NewMatcher(patterns)
		got := m.Allows(host)
		if want := reference(patterns, host); got != want {
			t.Fatalf("NewMatcher(%q).Allows(%q) = %v, reference says %v", patterns, host, got, want)
		}
		// HostOf output is always something Allows can take, already lower case.
		h := HostOf(host)
		if h != strings.ToLower(h) {
			t.Fatalf("HostOf(%q) = %q: not lower case", host, h)
		}
		if m.Allows(h) != reference(patterns, h) {
			t.Fatalf("NewMatcher(%q).Allows(HostOf(%q)) disagrees with the reference", patterns, host)
		}
	})
}
