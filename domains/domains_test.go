package domains

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	// 4×63 + 3 dots = 255; trim to exactly 253 and one over.
	name253 := long63 + "." + long63 + "." + long63 + "." + strings.Repeat("b", 61)
	ok := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"  Example.COM  ", "example.com"},
		{"example.com.", "example.com"},
		{"*.example.com", "*.example.com"},
		{"*.Example.Com.", "*.example.com"},
		{"localhost", "localhost"},
		{"*.localhost", "*.localhost"},
		{"a.b.c.example.co.uk", "a.b.c.example.co.uk"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"*.XN--BCHER-KVA.example", "*.xn--bcher-kva.example"},
		{"my-app.example.com", "my-app.example.com"},
		{"_dmarc.example.com", "_dmarc.example.com"},
		{"a--b.example", "a--b.example"},
		{"123.example.com", "123.example.com"},
		{"example.c0m", "example.c0m"},
		{"127.0.0.1", "127.0.0.1"},
		{"192.168.1.10", "192.168.1.10"},
		{"com", "com"},
		{"*.com", "*.com"},
		{long63 + ".com", long63 + ".com"},
		{name253, name253},
		{name253 + ".", name253},
		{"*." + name253[2:], "*." + name253[2:]},
	}
	for _, c := range ok {
		t.Run("ok/"+c.in, func(t *testing.T) {
			got, err := Normalize(c.in)
			if err != nil || got != c.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			again, err := Normalize(got)
			if err != nil || again != got {
				t.Fatalf("Normalize(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}

	bad := []string{
		"", "   ", ".", "..", "*", "*.", "*.*", "**.example.com", "*example.com", "a*.example.com",
		"ex*ample.com", "example.*", "*.*.example.com", "a.*.example.com", "example.com*",
		"https://example.com", "http://example.com/", "HTTPS://EXAMPLE.COM", "example.com/path",
		"example.com?x=1", "example.com#frag", "example.com:8080", "*.example.com:443",
		"user@example.com", "exa mple.com", "example.com\t.org", "example\x00.com", "exa\x7fmple.com",
		".example.com", "example..com", "example.com..", "*..example.com", "*.",
		"-example.com", "example-.com", "a.-b.com", "exam_ple!.com", "exa%6dple.com", "exa\\mple.com",
		"bücher.de", "*.bücher.de", "例え.jp", "example.com\u200b", "ｅxample.com",
		long63 + "a.com", name253 + "b", "*." + name253,
		"*.127.0.0.1", "*.1.2.3.4", "1.2.3", "999.1.1.1", "01.2.3.4", "1.2.3.4.5", "example.123",
		"a.0x7f", "0x7f000001", "a.0x", "::1", "[::1]", "[2001:db8::1]", "*.[::1]",
	}
	for _, in := range bad {
		t.Run("bad/"+in, func(t *testing.T) {
			got, err := Normalize(in)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q, want an error", in, got)
			}
			if !errors.Is(err, ErrInvalidPattern) {
				t.Fatalf("error %v does not wrap ErrInvalidPattern", err)
			}
			if got != "" {
				t.Fatalf("Normalize(%q) returned %q with an error", in, got)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	cases := []struct {
		name     string
		patterns []string
		host     string
		want     bool
	}{
		{"empty list, any host", nil, "evil.example", true},
		{"empty list, no host", []string{}, "", true},
		{"no host with patterns", []string{"example.com"}, "", true},
		{"blank host is no host", []string{"example.com"}, "  ", true},
		{"exact", []string{"example.com"}, "example.com", true},
		{"exact other host", []string{"example.com"}, "example.org", false},
		{"exact does not cover subdomain", []string{"example.com"}, "www.example.com", false},
		{"exact suffix trick", []string{"example.com"}, "evilexample.com", false},
		{"exact prefix trick", []string{"example.com"}, "example.com.evil.net", false},
		{"case", []string{"example.com"}, "ExAmPlE.CoM", true},
		{"port", []string{"example.com"}, "example.com:8443", true},
		{"empty port", []string{"example.com"}, "example.com:", true},
		{"trailing dot", []string{"example.com"}, "example.com.", true},
		{"trailing dot and port", []string{"example.com"}, "Example.COM.:80", true},
		{"two trailing dots", []string{"example.com"}, "example.com..", false},
		{"wildcard subdomain", []string{"*.example.com"}, "app.example.com", true},
		{"wildcard deep subdomain", []string{"*.example.com"}, "a.b.c.example.com", true},
		{"wildcard not apex", []string{"*.example.com"}, "example.com", false},
		{"wildcard suffix trick", []string{"*.example.com"}, "app.evilexample.com", false},
		{"wildcard prefix trick", []string{"*.example.com"}, "app.example.com.evil.net", false},
		{"wildcard empty label", []string{"*.example.com"}, ".example.com", false},
		{"wildcard malformed label", []string{"*.example.com"}, "a b.example.com", false},
		{"wildcard inner empty label", []string{"*.example.com"}, "a..example.com", false},
		{"exact non-ASCII lookalike", []string{"example.com"}, "examp\u0142e.com", false},
		{"wildcard with port and case", []string{"*.example.com"}, "WWW.Example.com:3000", true},
		{"apex and wildcard", []string{"example.com", "*.example.com"}, "example.com", true},
		{"apex and wildcard sub", []string{"example.com", "*.example.com"}, "x.example.com", true},
		{"second pattern", []string{"a.test", "b.test"}, "b.test", true},
		{"non-canonical pattern normalized", []string{"  Example.COM. "}, "example.com", true},
		{"wildcard TLD", []string{"*.com"}, "example.com", true},
		{"ipv4 exact", []string{"127.0.0.1"}, "127.0.0.1:8080", true},
		{"ipv4 other", []string{"127.0.0.1"}, "127.0.0.2", false},
		{"ipv6 host never matches", []string{"example.com"}, "[::1]:8080", false},
		{"bare ipv6 host", []string{"example.com"}, "::1", false},
		{"only invalid patterns fail closed", []string{"https://example.com/"}, "example.com", false},
		{"invalid pattern ignored beside valid", []string{"exa mple.com", "example.com"}, "example.com", true},
		{"punycode", []string{"xn--bcher-kva.example"}, "XN--BCHER-KVA.example", true},
		{"unicode host", []string{"xn--bcher-kva.example"}, "bücher.example", false},
		{"port only", []string{"example.com"}, ":80", false},
		{"overlong host", []string{"*.example.com"}, strings.Repeat("a.", 200) + "example.com", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := NewMatcher(c.patterns).Allows(c.host); got != c.want {
				t.Errorf("NewMatcher(%q).Allows(%q) = %v, want %v", c.patterns, c.host, got, c.want)
			}
		})
	}
	var nilMatcher *Matcher
	if !nilMatcher.Allows("example.com") {
		t.Error("nil Matcher refused a host")
	}
}

func TestHostOf(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://example.com", "example.com"},
		{"https://Example.COM:8443/path?q=1#f", "example.com"},
		{"http://app.example.com./", "app.example.com"},
		{"  https://example.com/  ", "example.com"},
		{"//example.com/path", "example.com"},
		{"http://user:pass@example.com/", "example.com"},
		{"http://127.0.0.1:3000/", "127.0.0.1"},
		{"http://[::1]:8080/", "::1"},
		{"https://xn--bcher-kva.example/", "xn--bcher-kva.example"},
		{"android-app://com.example.app/", "com.example.app"},
		{"", ""},
		{"null", ""},
		{"example.com", ""},
		{"example.com/page", ""},
		{"localhost:3000", ""},
		{"/relative/path", ""},
		{"file:///home/user/index.html", ""},
		{"about:blank", ""},
		{"http://", ""},
		{"http://:80/", ""},
		{"http://exa mple.com/", ""},
		{"http://exam%70le.com/", ""},
		{"http://ex\x00ample.com/", ""},
		{"http://example.com:port/", ""},
		{"%%%", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := HostOf(c.in); got != c.want {
				t.Errorf("HostOf(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestHostOfAllows runs the way the ingest handler uses the two together.
func TestHostOfAllows(t *testing.T) {
	m := NewMatcher([]string{"example.com", "*.example.com"})
	cases := []struct {
		origin string
		want   bool
	}{
		{"https://example.com", true},
		{"https://shop.example.com:8443", true},
		{"https://example.com.evil.net", false},
		{"https://evil.net/?u=https://example.com", false},
		{"", true}, // server-side call: no domain
	}
	for _, c := range cases {
		if got := m.Allows(HostOf(c.origin)); got != c.want {
			t.Errorf("Allows(HostOf(%q)) = %v, want %v", c.origin, got, c.want)
		}
	}
}

func BenchmarkAllows(b *testing.B) {
	m := NewMatcher([]string{"example.com", "*.example.com", "*.shop.example.org", "localhost"})
	for b.Loop() {
		m.Allows("a.b.c.shop.example.org:443")
	}
}

func TestNormalizeErrorShortensPattern(t *testing.T) {
	_, err := Normalize("https://" + strings.Repeat("é", 10000))
	if err == nil || len(err.Error()) > 300 {
		t.Fatalf("error too long (%d bytes) or missing: %v", len(err.Error()), err)
	}
}
