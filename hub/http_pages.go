package hub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/subscribers"
)

// The dashboard (package dashboard) is served by the hub beside the API:
// its pages go through the same access control as the API's JSON, with
// their errors rendered as pages. A browser signs in once by posting an
// identity's token to /login; the hub keeps it in an HttpOnly, SameSite
// Strict cookie, so the token is neither in a URL nor readable by scripts.

// sessionCookie holds a signed-in browser's session: a random id the hub
// maps to the identity's token, never the token itself, so signing out
// ends it on the hub and a copied cookie is worth nothing after.
const sessionCookie = "anzhi_session"

// sessionAge is how long a sign-in lasts in the browser.
const sessionAge = 12 * time.Hour

// Rejections reads the rejection ledger (dashboard.Source).
func (h *Hub) Rejections(ctx context.Context, q subscribers.RejectionQuery) ([]subscribers.LoggedRejection, uint64, error) {
	return subscribers.Rejections(ctx, h.js, q)
}

// pageRoutes are the dashboard's routes, each under the access rule of the
// API route that serves the same data.
func (a *api) pageRoutes() []route {
	if a.h.pages == nil {
		return nil
	}
	var out []route
	for _, p := range a.h.pages.Pages() {
		rt := route{pattern: p.Pattern, query: p.Query, handler: p.Handler, page: true}
		if p.Pattern == "GET /login" {
			rt.query = append(slices.Clip(rt.query), "code")
			rt.handler = a.withSignInCode(rt.handler)
		}
		switch p.Access {
		case dashboard.Public:
			rt.public = true
		case dashboard.Open, dashboard.Departments:
			rt.access = open
		case dashboard.City:
			rt.access = noCounty("the whole city")
		case dashboard.County:
			rt.access = inCounty("county")
		case dashboard.Site:
			rt.access = inCounty("site")
		case dashboard.Household:
			rt.access = a.recorded("household", inCounty("household"))
		case dashboard.Warnings:
			rt.access = ownWarnings
		case dashboard.Department:
			rt.access = ownDepartment
		case dashboard.Assessment:
			rt.access = ownCounty
		case dashboard.OwnUnit:
			rt.access = ownRows
		}
		// Pages that read the view wait until it has caught up.
		if p.Access != dashboard.Public && p.Access != dashboard.Open {
			rt.handler = a.whenReadyFor(rt, rt.handler)
		}
		out = append(out, rt)
	}
	return append(out,
		// The quarterly report for a signed-in browser: the API's, under
		// its access rule, with the session cookie.
		route{pattern: "GET /report/{file}", query: []string{"county"}, handler: a.whenReady(http.HandlerFunc(a.report)),
			access: reportAccess, page: true},
		route{pattern: "POST /login", handler: http.HandlerFunc(a.login), public: true, page: true},
		route{pattern: "POST /logout", handler: http.HandlerFunc(a.logout), public: true, page: true},
	)
}

// fail answers a request that cannot be served: JSON for the API, a page
// for the dashboard.
func (a *api) fail(rt route, w http.ResponseWriter, r *http.Request, err error) {
	if rt.page && a.h.pages != nil {
		a.h.pages.Error(w, r, statusOf(err), err.Error())
		return
	}
	writeError(w, err)
}

// viewerOf is what the pages know of an identity.
func viewerOf(id identities.Identity, signed bool) dashboard.Viewer {
	return dashboard.Viewer{Name: id.Name, Role: id.Role, County: countyOf(id), Signed: signed,
		Households: overseer(id) || id.Role == identities.RoleCounty}
}

// sameOrigin refuses a form posted from another site (login CSRF): a
// browser sends Origin with every POST.
func sameOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return forbidden(identities.Identity{Name: "a form", Role: "from " + origin}, "may not be posted to %s from another site", r.Host)
	}
	return nil
}

// login checks a token posted by the login page and keeps it in the
// session cookie.
func (a *api) login(w http.ResponseWriter, r *http.Request) {
	rt := route{page: true}
	if err := sameOrigin(r); err != nil {
		a.fail(rt, w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		a.fail(rt, w, r, badParam("form", "", "cannot read the sign-in form: %v", err))
		return
	}
	a.signedIn(w, r, strings.TrimSpace(r.PostForm.Get("token")), dashboard.SafeNext(r.PostForm.Get("next")))
}

// signedIn keeps a valid token in the session cookie and goes on to next;
// an invalid one goes back to the form, which says the sign-in failed. In
// open trial mode there is nobody to sign in as: the browser goes on.
func (a *api) signedIn(w http.ResponseWriter, r *http.Request, token, next string) {
	ids := a.h.cfg.Identities
	if ids == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	id, ok := ids.TokenIdentity(token)
	if token == "" || !ok {
		a.h.cfg.Logger.Warn("dashboard sign-in refused: the token is not one of this hub's identities", "remote", r.RemoteAddr)
		http.Redirect(w, r, "/login?failed=1&next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	a.h.cfg.Logger.Info("dashboard sign-in", "identity", id.Name, "role", id.Role, "remote", r.RemoteAddr)
	sid, err := a.h.sessions.open(token)
	if err != nil {
		a.fail(route{page: true}, w, r, fmt.Errorf("%w: %v", errUnavailable, err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", MaxAge: int(sessionAge / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session on the hub and forgets the cookie.
func (a *api) logout(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		a.fail(route{page: true}, w, r, err)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.h.sessions.close(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// apiPath says whether an unmatched path belongs to the API (answered in
// JSON) rather than to the dashboard (answered with a page).
func apiPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/api" || p == "/healthz" || p == "/readyz" || p == "/metrics"
}

// signInCodes are one-time sign-in links (anzhi demo prints one): a random
// code that stands for a token until it is used once or expires, so that
// the link in a terminal is not the token itself and is worthless after
// the first click.
type signInCodes struct {
	mu    sync.Mutex
	codes map[string]signInCode
}

type signInCode struct {
	token   string
	expires time.Time
}

// SignInLink returns a one-time link that signs a browser in as the
// identity the token belongs to, valid for the given time or until used.
func (h *Hub) SignInLink(token string, valid time.Duration) (string, error) {
	if h.cfg.Identities == nil {
		return "", errors.New("hub: sign-in links need identities (open trial mode has no sign-in)")
	}
	if _, ok := h.cfg.Identities.TokenIdentity(token); !ok {
		return "", errors.New("hub: sign-in link: the token is not one of this hub's identities")
	}
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("hub: sign-in link: %w", err)
	}
	code := base64.RawURLEncoding.EncodeToString(b[:])
	s := &h.signIns
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = map[string]signInCode{}
	}
	now := time.Now()
	for c, v := range s.codes {
		if now.After(v.expires) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = signInCode{token: token, expires: now.Add(valid)}
	scheme := "http"
	if h.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + h.httpAddr + "/login?code=" + code, nil
}

// redeem returns the token a code stands for, once.
func (s *signInCodes) redeem(code string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.codes[code]
	delete(s.codes, code)
	if !ok || time.Now().After(v.expires) {
		return "", false
	}
	return v.token, true
}

// withSignInCode lets the login page take a one-time code: a valid one
// signs the browser in and goes on, a used or unknown one shows the form
// saying the sign-in failed.
func (a *api) withSignInCode(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("code")
		if code == "" {
			next.ServeHTTP(w, r)
			return
		}
		to := dashboard.SafeNext(r.URL.Query().Get("next"))
		token, ok := a.h.signIns.redeem(code)
		if !ok {
			http.Redirect(w, r, "/login?failed=1&next="+url.QueryEscape(to), http.StatusSeeOther)
			return
		}
		a.signedIn(w, r, token, to)
	})
}

// sessions are the signed-in browsers: session id → token, until they
// expire (sessionAge) or sign out. They live in the hub's memory: a
// restart signs every browser out.
type sessions struct {
	mu sync.Mutex
	by map[string]session
}

type session struct {
	token   string
	expires time.Time
}

// open starts a session for a token and returns its id.
func (s *sessions) open(token string) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[string]session{}
	}
	now := time.Now()
	for k, v := range s.by {
		if now.After(v.expires) {
			delete(s.by, k)
		}
	}
	s.by[id] = session{token: token, expires: now.Add(sessionAge)}
	return id, nil
}

// token is the token of a live session ("" when none).
func (s *sessions) token(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.by[id]
	if !ok || time.Now().After(v.expires) {
		return ""
	}
	return v.token
}

func (s *sessions) close(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.by, id)
}
