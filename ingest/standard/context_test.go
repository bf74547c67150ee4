package standard

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

const (
	chromeUA  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	ipadUA    = "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	androidUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
	botUA     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	macUA     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
)

// fullContext is what a Segment mobile library sends, with a browser user agent added.
const fullContext = `{
	"library": {"name": "analytics-ios", "version": "4.1.8"},
	"app": {"name": "Shop", "version": "2.3"},
	"ip": "203.0.113.7",
	"userAgent": "` + iphoneUA + `",
	"locale": "en-US",
	"page": {"url": "https://shop.example.com/cart?x=1", "path": "/cart"},
	"os": {"name": "iOS", "version": "17.1"},
	"device": {"type": "ios", "model": "iPhone15,2", "name": "Ada's iPhone", "manufacturer": "Apple"},
	"screen": {"width": 390, "height": 844, "density": 3},
	"timezone": "Europe/Berlin",
	"network": {"wifi": true}
}`

func TestContext(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Fields
	}{
		{"empty", `{}`, Fields{}},
		{"full", fullContext, Fields{
			"ip_address": "203.0.113.7", "user_agent": iphoneUA, "browser_family": "Safari", "browser_version": "17.1",
			"language": "en-US", "current_url": "https://shop.example.com/cart?x=1", "os": "iOS 17.1",
			"device_name": "Ada's iPhone", "device_type": "ios", "resolution": "390x844", "timezone": "Europe/Berlin",
		}},
		{"analytics-node server call", `{"library":{"name":"analytics-node","version":"3.1.0"}}`, Fields{}},
		{"chrome desktop", `{"userAgent":"` + chromeUA + `"}`, Fields{
			"user_agent": chromeUA, "browser_family": "Chrome", "browser_version": "120.0.0.0", "os": "Windows", "device_type": "desktop",
		}},
		{"mac safari", `{"userAgent":"` + macUA + `"}`, Fields{
			"user_agent": macUA, "browser_family": "Safari", "browser_version": "17.1", "os": "MacOS", "device_type": "desktop",
		}},
		{"android", `{"userAgent":"` + androidUA + `"}`, Fields{
			"user_agent": androidUA, "browser_family": "Chrome", "browser_version": "120.0.6099.144", "os": "Android", "device_type": "mobile",
		}},
		{"ipad tablet", `{"userAgent":"` + ipadUA + `"}`, Fields{
			"user_agent": ipadUA, "browser_family": "Safari", "browser_version": "17.1", "os": "iOS", "device_type": "tablet",
		}},
		{"bot", `{"userAgent":"` + botUA + `"}`, Fields{
			"user_agent": botUA, "browser_family": nil, "browser_version": nil, "device_type": "bot",
		}},
		{"unknown agent clears browser only", `{"userAgent":"analytics-node-next/latest"}`, Fields{
			"user_agent": "analytics-node-next/latest", "browser_family": nil, "browser_version": nil,
		}},
		{"context os wins over agent", `{"userAgent":"` + chromeUA + `","os":{"name":"Windows","version":"11"}}`, Fields{
			"user_agent": chromeUA, "browser_family": "Chrome", "browser_version": "120.0.0.0", "os": "Windows 11", "device_type": "desktop",
		}},
		{"context device type wins over agent", `{"userAgent":"` + chromeUA + `","device":{"type":"kiosk"}}`, Fields{
			"user_agent": chromeUA, "browser_family": "Chrome", "browser_version": "120.0.0.0", "os": "Windows", "device_type": "kiosk",
		}},
		{"empty context os does not count", `{"userAgent":"` + chromeUA + `","os":{"name":"","version":"11"},"device":{"type":null}}`, Fields{
			"user_agent": chromeUA, "browser_family": "Chrome", "browser_version": "120.0.0.0", "os": "Windows", "device_type": "desktop",
		}},
		{"os name only", `{"os":{"name":"Android"}}`, Fields{"os": "Android"}},
		{"os version number", `{"os":{"name":"Android","version":14}}`, Fields{"os": "Android 14"}},
		{"os version only ignored", `{"os":{"version":"14"}}`, Fields{}},
		{"os version object ignored", `{"os":{"name":"iOS","version":{"major":17}}}`, Fields{"os": "iOS"}},
		{"os not an object", `{"os":"iOS"}`, Fields{}},
		{"device model fallback", `{"device":{"model":"Pixel 8","name":""}}`, Fields{"device_name": "Pixel 8"}},
		{"device name wins", `{"device":{"model":"Pixel 8","name":"Work phone"}}`, Fields{"device_name": "Work phone"}},
		{"device type kept as given", `{"device":{"type":"Android"}}`, Fields{"device_type": "Android"}},
		{"screen", `{"screen":{"width":1920,"height":1080}}`, Fields{"resolution": "1920x1080"}},
		{"screen integral floats", `{"screen":{"width":1920.0,"height":1.08e3}}`, Fields{"resolution": "1920x1080"}},
		{"screen fraction", `{"screen":{"width":1920.5,"height":1080}}`, Fields{}},
		{"screen zero", `{"screen":{"width":0,"height":1080}}`, Fields{}},
		{"screen negative", `{"screen":{"width":-1920,"height":1080}}`, Fields{}},
		{"screen missing height", `{"screen":{"width":1920}}`, Fields{}},
		{"screen strings", `{"screen":{"width":"1920","height":"1080"}}`, Fields{}},
		{"screen absurd", `{"screen":{"width":1e300,"height":99999999999999999999}}`, Fields{}},
		{"ip v6", `{"ip":"2001:DB8::1"}`, Fields{"ip_address": "2001:db8::1"}},
		{"ip mapped v4", `{"ip":"::ffff:203.0.113.7"}`, Fields{"ip_address": "203.0.113.7"}},
		{"ip zone dropped", `{"ip":"fe80::1%eth0"}`, Fields{"ip_address": "fe80::1"}},
		{"ip trimmed", `{"ip":" 203.0.113.7 "}`, Fields{"ip_address": "203.0.113.7"}},
		{"ip invalid", `{"ip":"not-an-ip"}`, Fields{}},
		{"ip with port", `{"ip":"203.0.113.7:443"}`, Fields{}},
		{"ip list", `{"ip":"203.0.113.7, 10.0.0.1"}`, Fields{}},
		{"locale and timezone", `{"locale":"de-DE","timezone":"Europe/Berlin"}`, Fields{"language": "de-DE", "timezone": "Europe/Berlin"}},
		{"page url", `{"page":{"url":"https://example.com/"}}`, Fields{"current_url": "https://example.com/"}},
		{"page without url", `{"page":{"path":"/"}}`, Fields{}},
		{"nulls and empties never clear", `{"userAgent":null,"locale":"","timezone":"  ","ip":null,"page":{"url":null},"os":null,"device":{"name":null,"type":""}}`, Fields{}},
		{"objects ignored", `{"userAgent":{"a":1},"locale":["en"],"timezone":{},"page":"https://x.test"}`, Fields{}},
		{"number locale becomes text", `{"locale":1031}`, Fields{"language": "1031"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Context(object(t, c.in))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("\n got %#v\nwant %#v", got, c.want)
			}
		})
	}
	if got := Context(nil); got == nil || len(got) != 0 {
		t.Errorf("Context(nil) = %#v", got)
	}
}

func TestContextCaps(t *testing.T) {
	longURL := "https://example.com/?q=" + strings.Repeat("x", 2000)
	longUA := chromeUA + " " + strings.Repeat("Z", 2000)
	f := Context(map[string]any{
		"page":      map[string]any{"url": longURL},
		"userAgent": longUA,
		"os":        map[string]any{"name": strings.Repeat("o", 1020), "version": "17.1"},
	})
	if f["current_url"] != longURL[:MaxText] {
		t.Errorf("current_url not capped: %d bytes", len(f["current_url"].(string)))
	}
	if f["user_agent"] != longUA[:MaxText] || f["browser_family"] != "Chrome" {
		t.Errorf("user agent: %d bytes, family %v", len(f["user_agent"].(string)), f["browser_family"])
	}
	if os := f["os"].(string); len(os) != MaxText || !strings.HasSuffix(os, "o 17.") {
		t.Errorf("os = …%q (%d bytes)", os[max(0, len(os)-10):], len(os))
	}
}

// TestContextConcurrent shares the parser between goroutines; run with -race.
func TestContextConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ua := []string{chromeUA, iphoneUA, androidUA, botUA}[i%4]
			want := Context(map[string]any{"userAgent": ua})
			for range 500 {
				if got := Context(map[string]any{"userAgent": ua}); !reflect.DeepEqual(got, want) {
					t.Errorf("concurrent Context(%q) = %v, want %v", ua, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkContext(b *testing.B) {
	ctx := object(b, `{
		"library": {"name": "analytics.js", "version": "next-1.64.0"},
		"ip": "203.0.113.7",
		"userAgent": "`+chromeUA+`",
		"locale": "en-US",
		"page": {"url": "https://shop.example.com/products/42?utm_source=news", "path": "/products/42", "title": "Anvil"},
		"screen": {"width": 1920, "height": 1080},
		"timezone": "Europe/Berlin"
	}`)
	Context(ctx) // build the parser outside the timed loop
	b.ReportAllocs()
	for b.Loop() {
		Context(ctx)
	}
}

// BenchmarkParseUA isolates the user-agent parse from the rest of Context.
func BenchmarkParseUA(b *testing.B) {
	p := uaParser()
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(chromeUA)
	}
}
