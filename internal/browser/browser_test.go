package browser

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The pages the harness tests drive. The main one has what a dashboard page
// has: a script that fetches from its own origin, a button, a field, a table
// and more content than one screen.
const (
	mainPage = `<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>harness</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>body { font: 16px sans-serif; margin: 1em } .tall { height: 2000px; background: linear-gradient(#fff, #9cf) }</style>
</head><body>
<a id="skip" href="#facts">Skip to the table</a>
<h1>咸阳 harness</h1>
<button id="refresh">Refresh</button>
<input id="q" aria-label="Search" value="">
<table id="facts"><tr><th>County</th><th>Facts</th></tr><tr><td id="county">乾县</td><td>3</td></tr></table>
<p id="status">loading</p>
<div class="tall"></div>
<script>
const status = document.getElementById("status");
fetch("/api/ping").then(r => r.text()).then(t => { status.textContent = t; status.className = "done"; });
document.getElementById("refresh").addEventListener("click", () => { status.textContent = "clicked"; });
</script>
</body></html>`

	// outsidePage tries three outside hosts (a script, a WebSocket) and one
	// same-origin EventSource.
	outsidePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>outside</title><link rel="icon" href="data:,">
<script src="http://example.invalid/x.js"></script>
</head><body><p id="done">done</p>
<script>
new WebSocket("ws://example.invalid/ws");
const es = new EventSource("/events");
es.onmessage = e => { document.getElementById("done").className = "heard"; es.close(); };
</script>
</body></html>`

	throwsPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>throws</title><link rel="icon" href="data:,"></head><body><p id="p">text</p>
<script>
console.error("bad thing", 42);
console.log("not an error");
Promise.reject(new Error("rejected"));
throw new Error("boom");
</script>
</body></html>`
)

// server serves the pages on 127.0.0.1, and is closed when the test ends.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	html := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("GET /{$}", html(mainPage))
	mux.HandleFunc("GET /outside", html(outsidePage))
	mux.HandleFunc("GET /throws", html(throwsPage))
	mux.HandleFunc("GET /api/ping", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "pong") })
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		// One event, and no reconnect for the rest of the test.
		fmt.Fprint(w, "retry: 600000\ndata: hello\n\n")
	})
	srv := httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestLoopbackPagePasses(t *testing.T) {
	srv := server(t)
	p := New(t)
	p.Navigate(srv.URL, "#status.done")
	if got := p.Text("#status"); got != "pong" {
		t.Errorf("status = %q; want the fetched pong", got)
	}
	p.RequireLoopback()
	p.RequireNoExceptions()
	p.RequireNoConsoleErrors()

	reqs := p.Requests()
	if !slices.ContainsFunc(reqs, func(r Request) bool { return r.URL == srv.URL+"/" && r.Type == "Document" }) ||
		!slices.ContainsFunc(reqs, func(r Request) bool { return r.URL == srv.URL+"/api/ping" && r.Type == "Fetch" }) {
		t.Errorf("requests %v; want the document and the fetch", reqs)
	}
}

func TestLoopbackGuardReportsOutsideHosts(t *testing.T) {
	srv := server(t)
	p := New(t, AllowOutsideRequests())
	p.Navigate(srv.URL+"/outside", "#done.heard")

	reqs := p.Requests()
	script := slices.IndexFunc(reqs, func(r Request) bool { return r.URL == "http://example.invalid/x.js" })
	switch {
	case script < 0:
		t.Fatalf("requests %v; want the script from example.invalid recorded", reqs)
	case reqs[script].Type != "Script" || reqs[script].Error == "":
		t.Errorf("script request %v; want type Script and the error that it failed offline", reqs[script])
	}
	if !slices.ContainsFunc(reqs, func(r Request) bool { return r.URL == "ws://example.invalid/ws" && r.Type == "WebSocket" }) {
		t.Errorf("requests %v; want the WebSocket recorded", reqs)
	}
	if !slices.ContainsFunc(reqs, func(r Request) bool { return r.URL == srv.URL+"/events" && r.Type == "EventSource" }) {
		t.Errorf("requests %v; want the EventSource recorded", reqs)
	}

	err := CheckLoopback(reqs)
	if !errors.Is(err, errOutside) {
		t.Fatalf("CheckLoopback = %v; want errOutside", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "http://example.invalid/x.js") || !strings.Contains(msg, "ws://example.invalid/ws") || strings.Contains(msg, srv.URL) {
		t.Errorf("CheckLoopback:\n%s\nwant the two outside requests and no loopback one", msg)
	}
	t.Logf("the guard says:\n%v", err)
}

func TestConsoleAndExceptions(t *testing.T) {
	srv := server(t)
	p := New(t, AllowExceptions())
	p.Navigate(srv.URL+"/throws", "#p")
	// The rejection is reported when the task ends; give it the page's time.
	deadline := time.Now().Add(DefaultTimeout)
	for len(p.Exceptions()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ex := p.Exceptions()
	if len(ex) != 2 || !slices.ContainsFunc(ex, func(s string) bool { return strings.Contains(s, "Error: boom") }) ||
		!slices.ContainsFunc(ex, func(s string) bool { return strings.Contains(s, "Error: rejected") }) {
		t.Errorf("exceptions %q; want boom and the rejection", ex)
	}
	if got := p.ConsoleErrors(); !slices.Contains(got, "console.error: bad thing 42") || len(got) != 1 {
		t.Errorf("console errors %q; want the one console.error", got)
	}
}

func TestKeyboardFocus(t *testing.T) {
	srv := server(t)
	p := New(t)
	p.Navigate(srv.URL, "#status.done")
	if f := p.Focused(); f.Tag != "body" {
		t.Errorf("focus before any key: %v; want body", f)
	}
	if f := p.Tab(1); f != (Focused{Tag: "a", ID: "skip", Text: "Skip to the table"}) {
		t.Errorf("after one Tab: %v; want the skip link", f)
	}
	if f := p.Tab(2); f != (Focused{Tag: "input", ID: "q", Label: "Search"}) {
		t.Errorf("after three Tabs: %v; want the search field", f)
	}
	if f := p.ShiftTab(1); f.String() != `button#refresh "Refresh"` {
		t.Errorf("after Shift+Tab: %v; want the Refresh button", f)
	}
}

func TestClickTextEval(t *testing.T) {
	srv := server(t)
	p := New(t)
	p.Navigate(srv.URL, "#status.done")
	if got := p.Text("#county"); got != "乾县" {
		t.Errorf("table cell = %q; want 乾县", got)
	}
	p.Click("#refresh")
	if got := p.Text("#status"); got != "clicked" {
		t.Errorf("status after the click = %q; want clicked", got)
	}
	if got := Eval[string](p, `fetch("/api/ping").then(r => r.text())`); got != "pong" {
		t.Errorf("awaited fetch = %q; want pong", got)
	}
	p.Do(chromedp.Evaluate[chromedp.Void](`document.title = "changed"`))
	if got := Eval[string](p, "document.title"); got != "changed" {
		t.Errorf("title = %q; want changed", got)
	}
}

// TestCloseLeavesNothing: when a test ends, its browser and every process
// it started are gone.
func TestCloseLeavesNothing(t *testing.T) {
	srv := server(t)
	var dir string
	var pid int
	t.Run("page", func(t *testing.T) {
		p := New(t)
		p.Navigate(srv.URL, "#status.done")
		dir, pid = p.dir, p.pid
		if n := len(processesUsing(dir)); n < 3 {
			t.Errorf("%d processes use the browser's directory while it runs; want the browser, its crash handler and its children", n)
		}
	})
	if dir == "" {
		t.Skip("the page test did not start a browser")
	}
	if left := processesUsing(dir); len(left) > 0 {
		t.Errorf("processes %v still use the browser's directory after the test", left)
	}
	if proc, err := os.FindProcess(pid); err == nil {
		if err := proc.Signal(syscall.Signal(0)); err == nil {
			t.Errorf("browser process %d still runs after the test", pid)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the browser's directory %s is still there after the test: %v", dir, err)
	}
}
