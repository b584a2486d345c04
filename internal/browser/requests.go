package browser

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/chromedp/cdproto/network"
)

// A Request is one request the page made, or tried to make: a document, a
// script, a fetch, an EventSource, a WebSocket, an image. A request that
// failed (an outside host here) is recorded all the same, with the error.
type Request struct {
	URL    string // without the fragment
	Method string // GET, POST; empty for a WebSocket
	Type   string // the resource type: Document, Script, Fetch, EventSource, WebSocket, …
	Error  string // why loading failed, such as net::ERR_NAME_NOT_RESOLVED; empty if it did not
}

func (r Request) String() string {
	s := strings.TrimSpace(r.Type + " " + r.Method + " " + r.URL)
	if r.Error != "" {
		s += " (" + r.Error + ")"
	}
	return s
}

// recordRequest records a request, and each hop of a redirect as one more.
func (p *Page) recordRequest(ev *network.EventRequestWillBeSent) {
	if ev.Request == nil {
		return
	}
	p.add(string(ev.RequestID), Request{URL: ev.Request.URL, Method: ev.Request.Method, Type: string(ev.Type)})
}

// recordWebSocket records a WebSocket, which gets no requestWillBeSent.
func (p *Page) recordWebSocket(ev *network.EventWebSocketCreated) {
	p.add(string(ev.RequestID), Request{URL: ev.URL, Type: string(network.ResourceTypeWebSocket)})
}

// recordFailure notes why a recorded request failed.
func (p *Page) recordFailure(ev *network.EventLoadingFailed) {
	if i, ok := p.byID[string(ev.RequestID)]; ok {
		p.requests[i].Error = ev.ErrorText
		if ev.BlockedReason != "" {
			p.requests[i].Error += " (blocked: " + string(ev.BlockedReason) + ")"
		}
	}
}

func (p *Page) add(id string, r Request) {
	p.byID[id] = len(p.requests)
	p.requests = append(p.requests, r)
}

// Requests returns the requests the page made so far, in order.
func (p *Page) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// RequireLoopback fails the test (and goes on) if a request the page made so
// far went to a host that is not loopback, or used a scheme a page of this
// project has no business with; see CheckLoopback.
func (p *Page) RequireLoopback() {
	p.t.Helper()
	p.mu.Lock()
	reqs := slices.Clone(p.requests)
	p.guarded = len(reqs)
	p.mu.Unlock()
	if err := CheckLoopback(reqs); err != nil {
		p.t.Errorf("browser: %v", err)
	}
}

// allowedSchemes are the schemes a request may use. data:, blob: and about:
// have no host and never leave the page; ws and wss are the WebSocket forms
// of http and https, and are held to the same loopback hosts.
var allowedSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "data": false, "blob": false, "about": false}

// errOutside is what CheckLoopback wraps.
var errOutside = errors.New("the page made requests that leave the machine")

// CheckLoopback returns an error listing the requests whose URL is not on
// loopback (127.0.0.0/8, ::1 or localhost) or whose scheme is not http,
// https, ws, wss, data, blob or about; nil when there is none.
func CheckLoopback(reqs []Request) error {
	var bad []string
	for _, r := range reqs {
		if err := checkURL(r.URL); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", r, err))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n\t%s", errOutside, strings.Join(bad, "\n\t"))
}

// checkURL says why one URL is not allowed, or returns nil.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	hosted, ok := allowedSchemes[scheme]
	switch {
	case !ok:
		return fmt.Errorf("scheme %q is not allowed", u.Scheme)
	case !hosted:
		return nil
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("host %q is not loopback", u.Hostname())
	}
	return nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
