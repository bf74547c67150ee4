package playground

import (
	"crypto/sha512"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

const hostileQuery = `</script><script>alert(1)</script>`

func testOptions() Options {
	return Options{
		Title:        `peoplegraph <b>"admin"</b>`,
		Endpoint:     "/graphql",
		DefaultQuery: "{\n  people { id }\n}\n" + hostileQuery,
		AssetPrefix:  "/playground/",
	}
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestPageServed(t *testing.T) {
	h := Handler(testOptions())
	for _, p := range []string{"/", "/playground", "/anything/else"} {
		res, body := get(t, h, p)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", p, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		if !strings.Contains(body, `id="graphiql"`) {
			t.Errorf("GET %s: no GraphiQL container in page", p)
		}
	}
}

func TestPageCSP(t *testing.T) {
	res, _ := get(t, Handler(testOptions()), "/")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q relaxes inline/eval", csp)
	}
}

// The CSP forbids inline script, so any inline <script> would silently not
// run; this catches one creeping back into the template.
func TestPageHasNoInlineScript(t *testing.T) {
	_, body := get(t, Handler(testOptions()), "/")
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(m, " src=") {
			t.Errorf("inline script tag %q", m)
		}
	}
	if strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Error("page has inline style, which the CSP blocks")
	}
}

func TestPageReferencesNoExternalHost(t *testing.T) {
	_, body := get(t, Handler(testOptions()), "/")
	for _, bad := range []string{"http://", "https://"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?//`).FindString(body); m != "" {
		t.Errorf("page has protocol-relative reference %q", m)
	}
}

var refRE = regexp.MustCompile(`<(script|link)\b[^>]*?\b(?:src|href)="([^"]*)"[^>]*>`)
var integrityRE = regexp.MustCompile(`\bintegrity="([^"]*)"`)

func TestReferencedAssetsServed(t *testing.T) {
	h := Handler(testOptions())
	_, body := get(t, h, "/")
	refs := refRE.FindAllStringSubmatch(body, -1)
	var scripts, styles int
	for _, m := range refs {
		tag, url := m[1], html.UnescapeString(m[2])
		want := "text/javascript"
		if tag == "link" {
			want = "text/css"
			styles++
		} else {
			scripts++
		}
		if !strings.HasPrefix(url, "/playground/") {
			t.Errorf("%s references %q outside the asset prefix", tag, url)
			continue
		}
		res, asset := get(t, h, url)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", url, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", url, ct, want)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q", url, cc)
		}
		if len(asset) == 0 {
			t.Errorf("GET %s: empty body", url)
		}
		// A wrong integrity value makes the browser refuse the file, which
		// would leave a blank page with no server-side error.
		im := integrityRE.FindStringSubmatch(m[0])
		if im == nil {
			t.Errorf("%s %s has no integrity attribute", tag, url)
			continue
		}
		sum := sha512.Sum384([]byte(asset))
		if got, want := html.UnescapeString(im[1]), "sha384-"+base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("%s integrity %q, body hashes to %q", url, got, want)
		}
	}
	if scripts != 4 || styles != 2 {
		t.Errorf("page references %d scripts and %d stylesheets, want 4 and 2", scripts, styles)
	}
}

func TestUnknownAssetNotFound(t *testing.T) {
	h := Handler(testOptions())
	for _, p := range []string{
		"/playground/nope.js",
		"/playground/",
		"/playground/README.md",
		"/playground/../playground.go",
		"/playground/assets/graphiql.min.js",
	} {
		res, _ := get(t, h, p)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestDefaultQueryEscaped(t *testing.T) {
	opts := testOptions()
	_, body := get(t, Handler(opts), "/")
	if strings.Contains(body, hostileQuery) || strings.Contains(body, "<script>alert") {
		t.Fatal("DefaultQuery appears unescaped in the page")
	}
	if strings.Contains(body, "<b>") {
		t.Error("Title appears unescaped in the page")
	}
	// Escaping must not lose information: the browser's attribute decoding
	// has to give the bootstrap script the exact query back.
	m := regexp.MustCompile(`data-default-query="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no data-default-query attribute")
	}
	if got := html.UnescapeString(m[1]); got != opts.DefaultQuery {
		t.Errorf("default query round-trips to %q, want %q", got, opts.DefaultQuery)
	}
}

func TestDefaultHeadersAndEndpoint(t *testing.T) {
	_, body := get(t, Handler(testOptions()), "/")
	m := regexp.MustCompile(`data-default-headers="([^"]*)"`).FindStringSubmatch(body)
	if m == nil || html.UnescapeString(m[1]) != defaultHeaders {
		t.Errorf("default headers attribute = %v, want %q", m, defaultHeaders)
	}
	if !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Error("endpoint not passed to the page")
	}
}

func TestEmptyDefaultQueryOmitted(t *testing.T) {
	opts := testOptions()
	opts.DefaultQuery = ""
	_, body := get(t, Handler(opts), "/")
	if strings.Contains(body, "data-default-query") {
		t.Error("empty DefaultQuery should leave GraphiQL's own default in place")
	}
}

func TestAssetPrefixNormalised(t *testing.T) {
	opts := testOptions()
	opts.AssetPrefix = "gql/assets"
	h := Handler(opts)
	_, body := get(t, h, "/")
	if !strings.Contains(body, `src="/gql/assets/playground.js?v=`) {
		t.Fatal("asset URLs do not use the normalised prefix")
	}
	if res, _ := get(t, h, "/gql/assets/playground.js"); res.StatusCode != http.StatusOK {
		t.Errorf("asset under normalised prefix: status %d", res.StatusCode)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(testOptions()).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

func TestAssetConditionalGet(t *testing.T) {
	h := Handler(testOptions())
	res, _ := get(t, h, "/playground/graphiql.min.css")
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest(http.MethodGet, "/playground/graphiql.min.css", nil)
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", rec.Code)
	}
}
