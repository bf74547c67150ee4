package standard

import (
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// uaParser is built on first use: building the trie takes a while and allocates a few
// megabytes, which processes that never parse a user agent (CLI commands) should not pay.
// The parser is safe for concurrent use: Parse only reads the trie, and each result is a
// value of its own.
var uaParser = sync.OnceValue(useragent.NewParser)

// Context maps a Segment message context to user columns. See the package documentation
// for the mapping; values the context does not carry are absent from the result.
func Context(ctx map[string]any) Fields {
	if len(ctx) == 0 {
		return Fields{}
	}
	// Sized for a browser context, so filling it does not grow the map.
	f := make(Fields, 12)

	osGiven, typeGiven := false, false
	if o, ok := ctx["os"].(map[string]any); ok {
		if name, ok := contextText(o["name"]); ok {
			if version, ok := contextText(o["version"]); ok {
				name = clean(name + " " + version)
			}
			f[colOS] = name
			osGiven = true
		}
	}
	if d, ok := ctx["device"].(map[string]any); ok {
		if name, ok := contextText(d["name"]); ok {
			f[colDeviceName] = name
		} else if model, ok := contextText(d["model"]); ok {
			f[colDeviceName] = model
		}
		if typ, ok := contextText(d["type"]); ok {
			f[colDeviceType] = typ
			typeGiven = true
		}
	}

	if ua, ok := contextText(ctx["userAgent"]); ok {
		f[colUserAgent] = ua
		// ua is already capped at MaxText, which also bounds the parse on the hot path.
		agent := uaParser().Parse(ua)
		// The browser columns describe this agent only: an unrecognized one clears them
		// rather than leaving another browser's name beside it.
		if family := string(agent.Browser()); family != "" {
			f[colBrowserFamily] = family
			if version := agent.BrowserVersion(); version != "" {
				f[colBrowserVersion] = version
			} else {
				f[colBrowserVersion] = nil
			}
		} else {
			f[colBrowserFamily] = nil
			f[colBrowserVersion] = nil
		}
		if os := string(agent.OS()); !osGiven && os != "" {
			f[colOS] = os
		}
		if dt := deviceType(agent.Device()); !typeGiven && dt != "" {
			f[colDeviceType] = dt
		}
	}

	if s, ok := contextText(ctx["locale"]); ok {
		f[colLanguage] = s
	}
	if s, ok := contextText(ctx["timezone"]); ok {
		f[colTimezone] = s
	}
	if p, ok := ctx["page"].(map[string]any); ok {
		if s, ok := contextText(p["url"]); ok {
			f[colCurrentURL] = s
		}
	}
	if sc, ok := ctx["screen"].(map[string]any); ok {
		w, wok := dimension(sc["width"])
		h, hok := dimension(sc["height"])
		if wok && hok {
			f[colResolution] = strconv.FormatInt(w, 10) + "x" + strconv.FormatInt(h, 10)
		}
	}
	if s, ok := contextText(ctx["ip"]); ok {
		if a, err := netip.ParseAddr(s); err == nil {
			f[colIPAddress] = a.Unmap().WithZone("").String()
		}
	}
	return f
}

// deviceType spells the parser's device classes in lower case, like the types Segment's
// libraries send ("ios", "android"), so that filters need not care where a value came from.
func deviceType(d agents.Device) string {
	switch d {
	case agents.DeviceDesktop:
		return "desktop"
	case agents.DeviceMobile:
		return "mobile"
	case agents.DeviceTablet:
		return "tablet"
	case agents.DeviceTV:
		return "tv"
	case agents.DeviceBot:
		return "bot"
	}
	return strings.ToLower(string(d))
}

// contextText is the text of a context value; ok=false for null, "", objects and arrays.
func contextText(v any) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := textOf(v)
	return s, ok && s != ""
}

// maxDimension bounds screen sizes: larger values are not screens, and the bound keeps
// the resolution text short.
const maxDimension = 1 << 20

// dimension is a screen width or height: a positive integer (12 or 12.0, not 12.5).
func dimension(v any) (int64, bool) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, n > 0 && n <= maxDimension
		}
		g, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false
		}
		f = g
	case float64:
		f = x
	case int:
		return int64(x), x > 0 && x <= maxDimension
	case int64:
		return x, x > 0 && x <= maxDimension
	default:
		return 0, false
	}
	if f != math.Trunc(f) || f <= 0 || f > maxDimension {
		return 0, false
	}
	return int64(f), true
}
