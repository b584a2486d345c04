package browser

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/api/v1/view", true},
		{"https://127.0.0.1/", true},
		{"http://127.0.0.2/", true},
		{"http://localhost:3000/app.js", true},
		{"http://LOCALHOST/", true},
		{"http://[::1]:8080/", true},
		{"ws://127.0.0.1:8080/live", true},
		{"data:image/png;base64,iVBORw0KGgo=", true},
		{"blob:http://127.0.0.1:8080/2f6e0c1a-1b2c-4d5e-8f90-123456789abc", true},
		{"about:blank", true},
		{"http://example.invalid/x.js", false},
		{"https://fonts.example.com/font.woff2", false},
		{"http://10.0.0.1/", false},
		{"http://192.168.1.1/", false},
		{"http://0.0.0.0:8080/", false},
		{"http://localhost.example.com/", false},
		{"wss://example.invalid/ws", false},
		{"file:///etc/passwd", false},
		{"ftp://127.0.0.1/", false},
		{"chrome-extension://abc/x.js", false},
		{"//127.0.0.1/", false},
		{"::not a url", false},
	} {
		err := checkURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("checkURL(%q) = %v; want allowed %v", c.url, err, c.ok)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	good := []Request{{URL: "http://127.0.0.1:1/", Type: "Document"}, {URL: "data:,x", Type: "Image"}}
	if err := CheckLoopback(good); err != nil {
		t.Errorf("CheckLoopback(loopback only) = %v", err)
	}
	bad := append(good, Request{URL: "http://example.invalid/x.js", Type: "Script", Method: "GET", Error: "net::ERR_NAME_NOT_RESOLVED"})
	err := CheckLoopback(bad)
	if !errors.Is(err, errOutside) || !strings.Contains(err.Error(), "example.invalid") || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("CheckLoopback = %v; want errOutside naming only the outside request", err)
	}
}

// TestCheckAtEnd: the end-of-test check reports what no explicit check
// reported, and nothing when an option allows it.
func TestCheckAtEnd(t *testing.T) {
	page := func(tb testing.TB, opts ...Option) *Page {
		cfg := defaults()
		for _, o := range opts {
			o(&cfg)
		}
		return &Page{t: tb, cfg: cfg,
			requests:   []Request{{URL: "http://127.0.0.1/"}, {URL: "https://cdn.example.com/x.js"}},
			exceptions: []string{"Uncaught Error: boom (http://127.0.0.1/:1:1)"},
		}
	}

	var strict fakeTB
	page(&strict).checkAtEnd()
	if len(strict.errors) != 2 || !strings.Contains(strict.errors[0], "cdn.example.com") || !strings.Contains(strict.errors[1], "boom") {
		t.Errorf("check at end: %q; want the outside request and the exception", strict.errors)
	}

	var allowed fakeTB
	page(&allowed, AllowOutsideRequests(), AllowExceptions()).checkAtEnd()
	if len(allowed.errors) != 0 {
		t.Errorf("check at end with both allowed: %q; want nothing", allowed.errors)
	}

	var explicit fakeTB
	p := page(&explicit)
	p.RequireLoopback()
	p.RequireNoExceptions()
	p.checkAtEnd()
	if len(explicit.errors) != 2 {
		t.Errorf("explicit checks then the check at end: %q; want each problem reported once", explicit.errors)
	}
}
