// Package domains validates the trusted-domain patterns of an app and matches request
// hosts against them (PRODUCT.md section 1 and 2).
//
// A pattern is either an exact host, "example.com", or a wildcard, "*.example.com", which
// matches every subdomain at any depth (a.example.com, a.b.example.com) but not
// example.com itself: an admin who trusts both adds both. That is how "*.example.com"
// reads in TLS certificates and CORS settings, and it keeps the apex a deliberate choice.
//
// Names are ASCII only. Internationalized names are entered in their punycode form
// ("xn--bcher-kva.example"): browsers put that form in Origin and Referer, so it is what
// matching sees, and converting Unicode would need golang.org/x/net/idna, a dependency
// the project does not otherwise have. Labels hold letters, digits, hyphens (not first or
// last) and underscores, which browsers accept in host names. A name whose last label is
// all digits is taken as an IPv4 address, as browsers do, and must be a dotted quad; IPv4
// addresses are allowed as exact patterns but not under a wildcard. IPv6 literals are not
// accepted as patterns.
//
// Hosts are compared case-insensitively, without port and without a trailing dot. A
// Matcher built from an empty list accepts every host; a host of "" (a message without a
// domain, such as a server-side call) is accepted by every Matcher.
package domains

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxLength is the longest canonical pattern accepted, the DNS limit on a name's text form.
const MaxLength = 253

const maxLabel = 63

// ErrInvalidPattern is wrapped by every error Normalize returns.
var ErrInvalidPattern = errors.New("invalid domain pattern")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidPattern, fmt.Sprintf(format, args...))
}

// shown is the pattern as quoted in error messages, shortened so that a pasted
// megabyte does not come back in the GraphQL error.
func shown(pattern string) string {
	const limit = 80
	if len(pattern) <= limit {
		return pattern
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(pattern[cut]) {
		cut--
	}
	return pattern[:cut] + "…"
}

// Normalize validates a pattern as an admin enters it and returns its canonical form:
// trimmed, lower case, without a trailing dot. See the package documentation for what is
// accepted; every error wraps ErrInvalidPattern and says what is wrong.
func Normalize(pattern string) (string, error) {
	p := strings.TrimSpace(pattern)
	if p == "" {
		return "", invalid("empty")
	}
	if strings.Contains(p, "://") {
		return "", invalid("%q has a scheme; enter the host only, e.g. example.com", shown(pattern))
	}
	for _, r := range p {
		switch {
		case r >= 0x80:
			return "", invalid("%q is not ASCII; enter internationalized names in punycode (xn--…)", shown(pattern))
		case r == '/' || r == '?' || r == '#':
			return "", invalid("%q has a path; enter the host only", shown(pattern))
		case r == ':':
			return "", invalid("%q has a port or is an IPv6 address; ports are ignored when matching", shown(pattern))
		case r == '@':
			return "", invalid("%q has user information; enter the host only", shown(pattern))
		case r <= ' ' || r == 0x7f:
			return "", invalid("%q contains spaces or control characters", shown(pattern))
		}
	}
	p = strings.ToLower(p)
	p = strings.TrimSuffix(p, ".")

	base, wildcard := strings.CutPrefix(p, "*.")
	if strings.Contains(base, "*") {
		return "", invalid("%q: a wildcard is only allowed as the whole first label, as in *.example.com", shown(pattern))
	}
	if len(p) > MaxLength {
		return "", invalid("%q is longer than %d characters", shown(pattern), MaxLength)
	}
	if problem := nameProblem(base); problem != "" {
		return "", invalid("%q %s", shown(pattern), problem)
	}
	if numericLast(base) {
		if wildcard {
			return "", invalid("%q ends in a number, so browsers read it as an IP address, which has no subdomains", shown(pattern))
		}
		a, err := netip.ParseAddr(base)
		if err != nil || !a.Is4() {
			return "", invalid("%q is neither a host name nor an IPv4 address", shown(pattern))
		}
		// ParseAddr refuses leading zeros, so base is already the canonical spelling.
	}
	return p, nil
}

// nameProblem describes what makes name (no wildcard, no trailing dot) not a host name,
// or returns "" when it is one. It does not allocate: Allows runs it on every message.
func nameProblem(name string) string {
	if name == "" {
		return "has no host name"
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return "has an empty label (two dots in a row, or a leading dot)"
		}
		if len(label) > maxLabel {
			return "has a label longer than 63 characters"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "has a label that starts or ends with a hyphen"
		}
		for i := 0; i < len(label); i++ {
			if !labelByte(label[i]) {
				return "contains a character other than letters, digits, hyphens and underscores"
			}
		}
	}
	return ""
}

func labelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// numericLast reports whether the last label is a number in the sense of the WHATWG URL
// standard (decimal digits, or 0x and hex digits), which makes browsers read the whole
// name as an IPv4 address: "example.123" and "a.0x7f" are not host names to them.
func numericLast(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	digits := "0123456789"
	if rest, ok := strings.CutPrefix(last, "0x"); ok {
		last, digits = rest, "0123456789abcdef"
		if last == "" {
			return true
		}
	}
	if last == "" {
		return false
	}
	for i := 0; i < len(last); i++ {
		if strings.IndexByte(digits, last[i]) < 0 {
			return false
		}
	}
	return true
}

// Matcher matches hosts against a fixed list of patterns. It is safe for concurrent use.
type Matcher struct {
	any      bool                // the list was empty
	exact    map[string]struct{} // exact hosts
	suffixes map[string]struct{} // wildcard bases: "example.com" for "*.example.com"
}

// NewMatcher builds a Matcher from patterns, normally the canonical forms Normalize
// returned. Other spellings are normalized here; a pattern that does not normalize matches
// nothing, but still counts, so a list of only invalid patterns refuses every host with a
// domain rather than accepting all of them.
func NewMatcher(patterns []string) *Matcher {
	m := &Matcher{
		any:      len(patterns) == 0,
		exact:    make(map[string]struct{}),
		suffixes: make(map[string]struct{}),
	}
	for _, p := range patterns {
		c, err := Normalize(p)
		if err != nil {
			continue
		}
		if base, ok := strings.CutPrefix(c, "*."); ok {
			m.suffixes[base] = struct{}{}
		} else {
			m.exact[c] = struct{}{}
		}
	}
	return m
}

// Allows reports whether host may send messages. host may carry a port
// ("example.com:8080", "[::1]:3000"), a trailing dot and any case. "" means the message
// has no domain and is always allowed; so does every host when the pattern list is empty.
// A nil Matcher behaves like one built from an empty list.
func (m *Matcher) Allows(host string) bool {
	host = strings.TrimSpace(host)
	if host == "" || m == nil || m.any {
		return true
	}
	h := canonicalHost(host)
	if h == "" {
		return false
	}
	if _, ok := m.exact[h]; ok {
		return true
	}
	if len(m.suffixes) == 0 {
		return false
	}
	// Walk the parent names of h: "a.b.example.com" tries b.example.com, example.com, com.
	for i := strings.IndexByte(h, '.'); i >= 0; {
		parent := h[i+1:]
		if _, ok := m.suffixes[parent]; ok {
			return true
		}
		j := strings.IndexByte(parent, '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// canonicalHost lower-cases host and strips a port and a trailing dot; "" when what is
// left is not a host name or IPv4 address (no pattern may match such a host, so a
// malformed value cannot slip through a wildcard).
func canonicalHost(host string) string {
	if strings.HasPrefix(host, "[") {
		// An IPv6 literal, with or without port: no pattern names one.
		return ""
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		if strings.IndexByte(host, ':') != i {
			return "" // a bare IPv6 address
		}
		host = host[:i]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if len(host) > MaxLength || nameProblem(host) != "" {
		return ""
	}
	return host
}

// HostOf returns the lower-cased host, without port or trailing dot, of an Origin or
// Referer header or of a page URL; "" when rawURL has none or cannot be parsed. Only
// absolute URLs carry a host: "example.com/page" and "null" (the Origin of sandboxed and
// file pages) yield "". An IPv6 host is returned without brackets.
func HostOf(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}
