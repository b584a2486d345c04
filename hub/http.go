package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// Handler returns the hub's HTTP API: the shared view as JSON under
// /api/v1/ (described by /api/v1/openapi.json), /healthz, /readyz and
// /metrics, every response of which, errors included, is JSON except
// /metrics; and the dashboard's pages on every other path.
func (h *Hub) Handler() http.Handler {
	h.metrics.observe(h)
	a := newAPI(h)
	mux := http.NewServeMux()
	for _, rt := range append(a.routes(), a.pageRoutes()...) {
		inner := rt
		inner.handler = a.checkQuery(rt)
		mux.Handle(rt.pattern, a.guarded(inner))
	}
	return a.instrument(mux)
}

// route is one endpoint of the API: a ServeMux pattern, the query
// parameters it takes (any other is refused), its handler, and who may use
// it when identities are on: public routes anyone, without a token; the
// others whom access lets in — a route with neither serves no one. A page
// of the dashboard answers errors with a page, and takes the token from
// the session cookie too.
type route struct {
	pattern string
	query   []string
	handler http.Handler
	access  access
	public  bool
	page    bool
}

// routes lists every endpoint. The OpenAPI file describes exactly these
// (a test holds them together).
func (a *api) routes() []route {
	return []route{
		{"GET /healthz", nil, http.HandlerFunc(a.health), nil, true, false},
		{"GET /readyz", nil, http.HandlerFunc(a.ready), nil, true, false},
		{"GET /metrics", nil, promhttp.HandlerFor(a.h.metrics.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
			overseersOnly("the metrics"), false, false},
		{"GET /api/v1/households/{id}", cutParams, a.whenReady(a.asOf(a.reply(a.household))), a.recorded("household", inCounty("household")), false, false},
		{"GET /api/v1/sites/{id}", cutParams, a.whenReady(a.asOf(a.reply(a.site))), inCounty("site"), false, false},
		{"GET /api/v1/counties", cutParams, a.whenReady(a.asOf(a.cached(a.countyList))), noCounty("the list of every county"), false, false},
		{"GET /api/v1/counties/{code}", cutParams, a.whenReady(a.asOf(a.cached(a.county))), inCounty("county"), false, false},
		{"GET /api/v1/city", cutParams, a.whenReady(a.asOf(a.cached(a.city))), noCounty("the whole city"), false, false},
		{"GET /api/v1/departments/{code...}", cutParams, a.whenReady(a.asOf(a.reply(a.department))), ownDepartment, false, false},
		{"GET /api/v1/warnings", withCut("county", "rule", "state", "dept", "limit", "after"), a.whenReady(a.asOf(a.reply(a.warnings))), ownWarnings, false, false},
		{"GET /api/v1/rejections", []string{"dept", "after", "since", "limit"}, a.reply(a.rejections), ownRejections, false, false},
		{"GET /api/v1/notices/digest", []string{"dept", "date"}, a.whenReady(a.reply(a.noticeDigest)), ownUnit, false, false},
		{"GET /api/v1/notices/deliveries", []string{"dept", "limit"}, a.reply(a.deliveries), ownUnit, false, false},
		{"GET /api/v1/events", []string{"family", "county", "dept", "entity", "include_rejected", "include_hub", "after", "until", "since", "limit"},
			http.HandlerFunc(a.events), overseersOnly("the log"), false, false},
		{"GET /api/v1/timeline/{kind}/{id}", []string{"limit", "after"}, a.whenReady(a.reply(a.timeline)), a.timelineAccess(), false, false},
		{"GET /api/v1/digest", cutParams, a.whenReady(a.asOf(a.cached(a.digest))), overseersOnly("the view's digest"), false, false},
		{"GET /api/v1/tasks", withCut("dept", "county", "status"), a.whenReady(a.asOf(a.reply(a.tasks))), ownWarnings, false, false},
		{"GET /api/v1/tasks/{id}", withCut("unit"), a.whenReady(a.asOf(a.reply(a.task))), ownRows, false, false},
		{"GET /api/v1/findings", withCut("county", "dept"), a.whenReady(a.asOf(a.reply(a.findings))), ownWarnings, false, false},
		{"GET /api/v1/meetings", withCut("unit"), a.whenReady(a.asOf(a.reply(a.meetings))), ownRows, false, false},
		{"GET /api/v1/assessment", []string{"quarter", "county"}, a.whenReady(a.reply(a.assessment)), ownCounty, false, false},
		{"GET /api/v1/reports/{file}", []string{"county"}, a.whenReady(http.HandlerFunc(a.report)), reportAccess, false, false},
		{"GET /api/v1/rules", nil, a.reply(a.rules), open, false, false},
		{"GET /api/v1/audit/checkpoint", nil, a.reply(a.auditCheckpoint), open, false, false},
		{"GET /api/v1/audit/key", nil, a.reply(a.auditKey), open, false, false},
		{"GET /api/v1/audit/proof/{seq}", nil, a.reply(a.auditProof), overseersOnly("proofs of the log"), false, false},
		{"GET /api/v1/audit/consistency", []string{"old"}, a.reply(a.auditConsistency), overseersOnly("proofs of the log"), false, false},
		{"GET /api/v1/openapi.json", nil, http.HandlerFunc(serveOpenAPI), open, false, false},
	}
}

// Errors of the HTTP API. statusOf maps every error to its status code.
var (
	// errBadParam marks a query parameter that cannot be used.
	errBadParam = errors.New("bad parameter")
	// errNoRoute marks a path the API does not serve.
	errNoRoute = errors.New("no such route")
	// errMethod marks a method a path does not take.
	errMethod = errors.New("method not allowed")
	// errUnavailable marks a hub that cannot answer now (not ready, NATS
	// unreachable, the view changing under a long read).
	errUnavailable = errors.New("unavailable")
)

// statusOf is the one place where errors become HTTP status codes.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadParam), errors.Is(err, subscribers.ErrBadQuery):
		return http.StatusBadRequest
	case errors.Is(err, view.ErrNotFound), errors.Is(err, errNoRoute):
		return http.StatusNotFound
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, errTooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, errUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return 499 // the client went away (nginx's code); nobody reads it
	}
	return http.StatusInternalServerError
}

// paramError is a query parameter that cannot be used, and why.
type paramError struct {
	name, value, why string
}

func (e *paramError) Error() string {
	if e.value == "" {
		return fmt.Sprintf("query parameter %s: %s", e.name, e.why)
	}
	return fmt.Sprintf("query parameter %s=%q: %s", e.name, e.value, e.why)
}

func (e *paramError) Unwrap() error { return errBadParam }

func badParam(name, value, format string, args ...any) error {
	return &paramError{name: name, value: value, why: fmt.Sprintf(format, args...)}
}

// notFoundError names what the view does not have.
type notFoundError struct {
	kind, id, why string
}

func (e *notFoundError) Error() string {
	msg := fmt.Sprintf("%s %q not found", e.kind, e.id)
	if e.why != "" {
		msg += ": " + e.why
	}
	return msg
}

func (e *notFoundError) Unwrap() error { return view.ErrNotFound }

// notFound turns the view's ErrNotFound into an error naming the entity.
func notFound(kind, id string, err error) error {
	if errors.Is(err, view.ErrNotFound) {
		return &notFoundError{kind: kind, id: id}
	}
	return err
}

// apiError is the body of every error response.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	writeJSON(w, code, apiError{Error: err.Error(), Status: code})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = encodeJSON(apiError{Error: "encode the response: " + err.Error(), Status: code})
	}
	writeBody(w, code, b)
}

func writeBody(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// encodeJSON encodes a response: indented, for people reading it with curl,
// and without HTML escaping, so Chinese and <> come out as written.
func encodeJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// reply adapts a handler that returns a response value or an error.
func (a *api) reply(f func(r *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// cached adapts a handler that returns an encoded, cached response; it
// answers If-None-Match with 304.
func (a *api) cached(f func(r *http.Request) (*encoded, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := f(r)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("ETag", e.etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && inm == e.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeBody(w, http.StatusOK, e.body)
	})
}

// whenReady answers 503 while the hub replays the log at start, so that no
// reader takes a half-built view for the truth.
func (a *api) whenReady(next http.Handler) http.Handler { return a.whenReadyFor(route{}, next) }

// whenReadyFor is whenReady answering in the route's own form: JSON for
// the API, a page for the dashboard.
func (a *api) whenReadyFor(rt route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.h.ready.Load() {
			w.Header().Set("Retry-After", "1")
			a.fail(rt, w, r, fmt.Errorf("%w: the view is catching up with the log (folded up to log sequence %d); see /readyz",
				errUnavailable, a.h.view.Seq()))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkQuery refuses query parameters the route does not take and
// parameters given more than once, so a typo never silently widens a query.
func (a *api) checkQuery(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			q, err := urlQuery(r)
			if err != nil {
				a.fail(rt, w, r, err)
				return
			}
			for name, vals := range q {
				if !slices.Contains(rt.query, name) {
					known := "it takes none"
					if len(rt.query) > 0 {
						known = "known: " + strings.Join(rt.query, ", ")
					}
					a.fail(rt, w, r, badParam(name, "", "unknown parameter (%s)", known))
					return
				}
				if len(vals) > 1 {
					a.fail(rt, w, r, badParam(name, "", "given %d times; give it once", len(vals)))
					return
				}
			}
		}
		rt.handler.ServeHTTP(w, r)
	})
}

func urlQuery(r *http.Request) (map[string][]string, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badParam("query", r.URL.RawQuery, "not a valid query string: %v", err)
	}
	return q, nil
}

// instrument times every request into the route's histogram, and turns the
// mux's plain-text 404 and 405 for unknown paths and methods into JSON.
func (a *api) instrument(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, r: r, a: a}
		mux.ServeHTTP(sw, r)
		// ServeMux records the pattern it matched on the request.
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		a.h.metrics.observeHTTP(pattern, sw.code, time.Since(start))
	})
}

// statusWriter records the status of a response. When the mux answers a
// request no route matched (404, or 405 with Allow), it writes a JSON error
// in place of the mux's text.
type statusWriter struct {
	http.ResponseWriter
	r       *http.Request
	a       *api
	code    int
	discard bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code = code
	if w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.discard = true
		var err error
		if code == http.StatusNotFound {
			err = fmt.Errorf("%w: %s %s (see /api/v1/openapi.json)", errNoRoute, w.r.Method, w.r.URL.Path)
		} else {
			err = fmt.Errorf("%w: %s %s (allowed: %s)", errMethod, w.r.Method, w.r.URL.Path, w.Header().Get("Allow"))
		}
		w.Header().Del("X-Content-Type-Options")
		w.Header().Del("Content-Length")
		if !apiPath(w.r.URL.Path) && w.a.h.pages != nil {
			w.Header().Del("Content-Type")
			w.a.h.pages.Error(w.ResponseWriter, w.r, code, err.Error())
			return
		}
		writeError(w.ResponseWriter, err)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// health answers 200 {"status":"ok"} while the process serves HTTP and its
// streams are as configured, 503 {"status":"drift","problems":[…]} when
// they are not (see guard).
func (a *api) health(w http.ResponseWriter, _ *http.Request) {
	if problems := a.h.guard.current(); len(problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "drift", "problems": problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readiness is the body of /readyz.
type readiness struct {
	Ready  bool   `json:"ready"`
	Status Status `json:"status"`
}

// ready answers 200 only when the view has caught up with the log and the
// intake; the body shows the position either way.
func (a *api) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	st, err := a.h.Status(ctx)
	if err != nil {
		writeError(w, fmt.Errorf("%w: %v", errUnavailable, err))
		return
	}
	ready := st.CaughtUp() && len(st.Drift) == 0
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, readiness{Ready: ready, Status: st})
}
