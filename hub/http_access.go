package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nuid"
	"golang.org/x/time/rate"

	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/schemas"
)

// Access control of the HTTP API, with identities on. Every request but
// /healthz and /readyz carries an identity's bearer token (anzhi identities
// token NAME); what the identity may read depends on its role:
//
//	lead office, auditors  everything (the API only reads; auditors change nothing anywhere)
//	county government      its own county only: its county, sites and households, the
//	                       warnings and rejections of its county, its own department page
//	department             aggregates (city, counties, sites), its own department page,
//	                       the warnings it is responsible for, its own rejections;
//	                       no household (personal data)
//
// Without identities (open trial mode) the API is open, on loopback only.

// Errors of access control (statusOf maps them to 401 and 403).
var (
	errUnauthenticated = errors.New("unauthenticated")
	errForbidden       = errors.New("forbidden")
)

// access is what a route lets an identity see: nil to allow, an error
// wrapping errForbidden to refuse. It may narrow the request (a county's
// warnings) by editing its query.
type access func(id identities.Identity, r *http.Request) error

// open lets every authenticated identity in.
func open(identities.Identity, *http.Request) error { return nil }

// overseers are the roles that read everything.
func overseer(id identities.Identity) bool {
	return id.Role == identities.RoleLeadOffice || id.Role == identities.RoleAuditor
}

// countyOf is the county code of a county government's identity ("" for
// any other: it then matches no county).
func countyOf(id identities.Identity) string {
	if id.Role != identities.RoleCounty {
		return ""
	}
	return strings.TrimPrefix(id.Dept, "county/")
}

func forbidden(id identities.Identity, format string, args ...any) error {
	return fmt.Errorf("%w: %s (%s) %s", errForbidden, id.Name, id.Role, fmt.Sprintf(format, args...))
}

// overseersOnly lets the lead office and the auditors in.
func overseersOnly(what string) access {
	return func(id identities.Identity, _ *http.Request) error {
		if overseer(id) {
			return nil
		}
		return forbidden(id, "may not read %s", what)
	}
}

// noCounty keeps county governments out of what shows other counties.
func noCounty(what string) access {
	return func(id identities.Identity, _ *http.Request) error {
		if id.Role == identities.RoleCounty {
			return forbidden(id, "sees only its own county, not %s", what)
		}
		return nil
	}
}

// inCounty lets a county government see an entity of its own county (the
// county in the id: H610424-…, S610424-…, 610424); departments see sites
// and counties but no household.
func inCounty(kind string) access {
	return func(id identities.Identity, r *http.Request) error {
		switch {
		case overseer(id):
			return nil
		case id.Role == identities.RoleCounty:
			key := r.PathValue("id")
			if key == "" {
				key = r.PathValue("code")
			}
			code, _ := schemas.CountyOfID(key)
			if kind == "county" {
				code = key
			}
			if code != countyOf(id) {
				return forbidden(id, "sees only its own county %s, not %s %s", countyOf(id), kind, key)
			}
			return nil
		case kind == "household":
			return forbidden(id, "may not read households (personal data): the county governments and the lead office do")
		}
		return nil
	}
}

// ownDepartment lets a department or county government read its own page.
func ownDepartment(id identities.Identity, r *http.Request) error {
	if overseer(id) || r.PathValue("code") == id.Dept {
		return nil
	}
	return forbidden(id, "may read only its own department page (%s)", id.Dept)
}

// narrowTo sets a query parameter to the identity's own value, refusing
// another one.
func narrowTo(r *http.Request, name, own string, id identities.Identity) error {
	q := r.URL.Query()
	if len(q[name]) > 1 {
		return badParam(name, "", "given %d times; give it once", len(q[name]))
	}
	if v := q.Get(name); v != "" && v != own {
		return forbidden(id, "may not ask for %s=%s (only its own, %s)", name, v, own)
	}
	q.Set(name, own)
	r.URL.RawQuery = q.Encode()
	return nil
}

// ownWarnings narrows the warnings to a county's own, or to those a
// department is responsible for.
func ownWarnings(id identities.Identity, r *http.Request) error {
	switch id.Role {
	case identities.RoleCounty:
		return narrowTo(r, "county", countyOf(id), id)
	case identities.RoleDepartment:
		return narrowTo(r, "dept", id.Dept, id)
	}
	return nil
}

// ownRejections narrows the rejection ledger to the identity's own.
func ownRejections(id identities.Identity, r *http.Request) error {
	if overseer(id) {
		return nil
	}
	return narrowTo(r, "dept", id.Dept, id)
}

// recorded is access that also records, as a hub.access event in the log,
// every read of a household it lets through by an identity other than the
// lead office (for the auditors: who read which household, when). The
// record is stored before the household is served; a read that cannot be
// recorded in time is not served (503), and an identity reading faster than
// readRate is told to slow down (429).
func (a *api) recorded(kind string, inner access) access {
	return func(id identities.Identity, r *http.Request) error {
		if err := inner(id, r); err != nil || id.Role == identities.RoleLeadOffice {
			return err
		}
		if !a.h.ready.Load() {
			return fmt.Errorf("%w: the view is catching up with the log; see /readyz", errUnavailable)
		}
		household, known := a.h.view.HouseholdID(r.PathValue("id"))
		if !known {
			return nil // nothing is read: the handler answers not found
		}
		if !a.reads.allow(id.Name) {
			return fmt.Errorf("%w: %s reads households faster than %v a second; every read is recorded, so slow down",
				errTooMany, id.Name, readRate)
		}
		if r.Header.Get(dashboard.LiveHeader) != "" && a.reads.recentlyRecorded(id.Name, r.URL.RequestURI()) {
			return nil // an open page refreshing itself: its read was recorded when it was opened
		}
		if err := a.h.recordRead(r.Context(), id, kind, household, r.URL.RequestURI()); err != nil {
			return fmt.Errorf("%w: the read could not be recorded, so it is not served: %v", errUnavailable, err)
		}
		a.reads.recorded(id.Name, r.URL.RequestURI())
		return nil
	}
}

// errTooMany marks an identity over its rate (statusOf: 429).
var errTooMany = errors.New("too many requests")

// readRate bounds how fast one identity may read households (each read is
// a record in the log), with a burst of readBurst.
const (
	readRate  = 20
	readBurst = 100
)

// readLimits holds a limiter per identity, and when each identity's reads
// of each household path were last recorded.
type readLimits struct {
	mu   sync.Mutex
	by   map[string]*rate.Limiter
	last map[string]time.Time // identity + " " + request URI
}

// rereadWindow is how long a dashboard page's refresh of itself (as the
// view changes: LiveHeader) counts as the read recorded when the same
// identity opened it, so an open page does not fill the log with access
// records. Every other read is recorded, the header alone skips nothing.
const rereadWindow = 10 * time.Minute

func (l *readLimits) recentlyRecorded(name, uri string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.last[name+" "+uri]
	return ok && time.Since(at) < rereadWindow
}

func (l *readLimits) recorded(name, uri string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]time.Time{}
	}
	now := time.Now()
	if len(l.last) > 100_000 { // bounded: forget what is past the window
		for k, at := range l.last {
			if now.Sub(at) >= rereadWindow {
				delete(l.last, k)
			}
		}
	}
	l.last[name+" "+uri] = now
}

func (l *readLimits) allow(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil {
		l.by = map[string]*rate.Limiter{}
	}
	lim := l.by[name]
	if lim == nil {
		lim = rate.NewLimiter(readRate, readBurst)
		l.by[name] = lim
	}
	return lim.Allow()
}

// accessRecord is the data of a hub.access event
// (schemas/catalog/hub.access.json), fields in JSON name order.
type accessRecord struct {
	At         string `json:"at"`
	EntityID   string `json:"entity_id"`
	EntityKind string `json:"entity_kind"`
	Identity   string `json:"identity"`
	Path       string `json:"path"`
	Role       string `json:"role"`
}

// recordWait bounds how long a read waits for its record to be stored.
const recordWait = 10 * time.Second

// recordRead has the gate write a hub.access event to the log and waits
// until it is stored.
func (h *Hub) recordRead(ctx context.Context, id identities.Identity, kind, household, path string) error {
	at := time.Now().UTC()
	eventID := "access-" + nuid.Next()
	msg, err := h.gate.hubEvent("hub.access", h.cfg.Catalog.City.Code, eventID, id.Name, at, accessRecord{
		Identity: id.Name, Role: id.Role, EntityKind: kind, EntityID: household,
		Path: path, At: at.Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	stored := make(chan struct{})
	h.gate.submit.push(submission{msg: msg, stored: stored})
	select {
	case <-stored:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(recordWait):
		return fmt.Errorf("not stored in the log within %s", recordWait)
	}
}

// guarded wraps a route's handler with authentication and its access rule
// when identities are on.
func (a *api) guarded(rt route) http.Handler {
	ids := a.h.cfg.Identities
	if ids == nil || rt.public {
		return rt.handler
	}
	if rt.access == nil {
		// Fail closed: a route added without a rule serves no one.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.fail(rt, w, r, fmt.Errorf("%w: %s has no access rule, so the hub serves it to no one", errForbidden, rt.pattern))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		signed := false
		if !ok && rt.page {
			if c, err := r.Cookie(sessionCookie); err == nil {
				token, ok, signed = a.h.sessions.token(c.Value), true, true
			}
		}
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="anzhi"`)
			a.fail(rt, w, r, fmt.Errorf("%w: this hub enforces identities; send Authorization: Bearer <token> (anzhi identities token NAME)", errUnauthenticated))
			return
		}
		id, ok := ids.TokenIdentity(strings.TrimSpace(token))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="anzhi", error="invalid_token"`)
			a.fail(rt, w, r, fmt.Errorf("%w: the token is not one of this hub's identities", errUnauthenticated))
			return
		}
		if err := rt.access(id, r); err != nil {
			a.fail(rt, w, r, err)
			return
		}
		if rt.page {
			r = r.WithContext(dashboard.WithViewer(r.Context(), viewerOf(id, signed)))
		}
		rt.handler.ServeHTTP(w, r)
	})
}
