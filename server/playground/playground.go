// Package playground serves a GraphiQL page for exploring the GraphQL API.
//
// Every script and stylesheet the page needs is embedded in the binary and
// served by the same handler, so the playground works on machines without
// internet access and never leaks the user's key or queries to a CDN.
package playground

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Options configure the page.
type Options struct {
	Title        string // page title, e.g. "peoplegraph"
	Endpoint     string // GraphQL endpoint path, e.g. "/graphql"
	DefaultQuery string // query pre-filled in the editor
	AssetPrefix  string // URL path prefix under which embedded assets are served, e.g. "/playground/"
}

// defaultHeaders is what the headers editor starts with: the API rejects
// anonymous requests, so the user is shown exactly where their key goes.
const defaultHeaders = `{"Authorization": "Bearer <paste your ADMIN key>"}`

// contentSecurityPolicy limits the page to its own origin. Fonts and icons
// are allowed from data: because graphiql.min.css inlines them that way.
// Nothing else is relaxed: the bootstrap script and layout CSS are files, not
// inline blocks, precisely so that script-src and style-src can stay 'self'.
//
// One known casualty: GraphiQL's dialogs (via react-remove-scroll) inject a
// <style> element to lock page scrolling, which this policy blocks with a
// console warning. That is accepted: playground.css already keeps the page
// from scrolling, so the dialogs work and look the same without it.
const contentSecurityPolicy = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"connect-src 'self'; " +
	"font-src 'self' data:; " +
	"img-src 'self' data:; " +
	"base-uri 'none'; " +
	"form-action 'none'; " +
	"frame-ancestors 'none'"

// Only web assets and their licences are embedded; README.md documents the
// directory for maintainers and is not meant to be served.
//
//go:embed assets/*.js assets/*.css assets/*.txt
var assetFS embed.FS

// contentTypes is explicit rather than mime.TypeByExtension because the
// latter consults the host's mime.types, which can differ between machines.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
	version     string // short content hash, appended to URLs to bust caches
	integrity   string // Subresource Integrity value
}

// assets is built once: the files never change at run time, so hashing them
// per request would be wasted work.
var assets = loadAssets()

func loadAssets() map[string]*asset {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic("playground: reading embedded assets: " + err.Error())
	}
	m := make(map[string]*asset, len(entries))
	for _, e := range entries {
		name := e.Name()
		body, err := assetFS.ReadFile("assets/" + name)
		if err != nil {
			panic("playground: reading embedded asset " + name + ": " + err.Error())
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			panic("playground: no content type for embedded asset " + name)
		}
		sum := sha256.Sum256(body)
		sri := sha512.Sum384(body)
		version := hex.EncodeToString(sum[:])[:16]
		m[name] = &asset{
			body:        body,
			contentType: ct,
			etag:        `"` + version + `"`,
			version:     version,
			integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
		}
	}
	return m
}

// pageTemplate passes every option through data- attributes so html/template
// escapes them for an attribute context; the bootstrap script reads them back
// with element.dataset, and no option is ever spliced into script source.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}" integrity="{{.Integrity}}">
{{- end}}
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-default-headers="{{.DefaultHeaders}}"
{{- if .DefaultQuery}} data-default-query="{{.DefaultQuery}}"{{end}}>Loading GraphiQL…</div>
<noscript>The GraphQL playground needs JavaScript.</noscript>
{{- range .Scripts}}
<script src="{{.URL}}" integrity="{{.Integrity}}"></script>
{{- end}}
</body>
</html>
`))

type pageRef struct {
	URL       string
	Integrity string
}

type pageData struct {
	Title          string
	Endpoint       string
	DefaultQuery   string
	DefaultHeaders string
	Styles         []pageRef
	Scripts        []pageRef
}

// Load order matters: the UMD bundles find React and ReactDOM as globals,
// and the bootstrap needs all three.
var (
	pageStyles  = []string{"graphiql.min.css", "playground.css"}
	pageScripts = []string{
		"react.production.min.js",
		"react-dom.production.min.js",
		"graphiql.min.js",
		"playground.js",
	}
)

type handler struct {
	prefix string
	page   []byte
}

// Handler serves the HTML page at any path not under AssetPrefix, and the embedded
// assets under AssetPrefix (correct Content-Type, immutable Cache-Control, 404 for unknown files).
//
// AssetPrefix is matched against the request path as the handler sees it and
// is also written verbatim into the page's URLs, so the handler must not sit
// behind http.StripPrefix. Endpoint must be on the same origin as the page:
// the Content-Security-Policy only allows connections to 'self'.
func Handler(opts Options) http.Handler {
	if opts.Title == "" {
		opts.Title = "GraphiQL"
	}
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	prefix := opts.AssetPrefix
	if prefix == "" {
		prefix = "/playground/"
	}
	// Without the surrounding slashes the page's relative asset URLs would
	// resolve against the page path, and "/playgroundX" would count as an
	// asset path.
	if !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}

	data := pageData{
		Title:          opts.Title,
		Endpoint:       opts.Endpoint,
		DefaultQuery:   opts.DefaultQuery,
		DefaultHeaders: defaultHeaders,
	}
	ref := func(name string) pageRef {
		a := assets[name]
		return pageRef{URL: prefix + name + "?v=" + a.version, Integrity: a.integrity}
	}
	for _, n := range pageStyles {
		data.Styles = append(data.Styles, ref(n))
	}
	for _, n := range pageScripts {
		data.Scripts = append(data.Scripts, ref(n))
	}

	// The page depends only on opts, so it is rendered once here instead of
	// on every request.
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		panic("playground: rendering page: " + err.Error())
	}
	return &handler{prefix: prefix, page: buf.Bytes()}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")

	if name, ok := strings.CutPrefix(r.URL.Path, h.prefix); ok {
		h.serveAsset(w, r, name)
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("Referrer-Policy", "no-referrer")
	// Revalidate every time: the page pins asset versions, so a stale copy
	// would keep loading old assets after an upgrade.
	hdr.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(h.page)
	}
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	// Safe to cache forever: the page links every asset with ?v=<content
	// hash>, so a changed file is a new URL.
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("ETag", a.etag)
	// ServeContent rather than Write gives conditional and range requests;
	// embedded files carry no modification time, hence the zero time.Time.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
