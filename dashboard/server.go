package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Source is what the pages read: the hub's view, its catalog, where a fact
// is in the log, and the rejection ledger.
type Source interface {
	View() *view.View
	Catalog() *schemas.Catalog
	ResolveFact(key uint64) (seq uint64, source string, ok bool)
	Rejections(ctx context.Context, q subscribers.RejectionQuery) ([]subscribers.LoggedRejection, uint64, error)
}

// Viewer is who reads a page, as the hub's access control knows them; the
// pages leave out links the viewer may not follow.
type Viewer struct {
	Name string
	Role string // lead_office, auditor, county, department; "" in open trial mode
	// County is a county government's own county.
	County string
	// Households says whether the viewer may open household pages.
	Households bool
	// Signed says whether the viewer signed in (a sign-out link is shown).
	Signed bool
}

type viewerKey struct{}

// WithViewer returns a request context carrying the viewer.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

func viewerOf(r *http.Request) Viewer {
	if v, ok := r.Context().Value(viewerKey{}).(Viewer); ok {
		return v
	}
	return Viewer{Households: true}
}

// LiveHeader marks the requests app.js makes to refresh a page's live
// regions.
const LiveHeader = "X-Dashboard-Refresh"

// Access names the rule a page is served under (the hub maps each to its
// access control).
type Access string

// Access rules of the pages.
const (
	Public      Access = "public"      // anyone, without signing in: assets, the login page
	Open        Access = "open"        // every signed-in identity
	City        Access = "city"        // what shows every county
	County      Access = "county"      // one county: {code}
	Site        Access = "site"        // one site: {id}
	Household   Access = "household"   // one household: {id} (personal data, reads recorded)
	Warnings    Access = "warnings"    // the queue, narrowed to a viewer's own
	Departments Access = "departments" // the list of units
	Department  Access = "department"  // one unit: {code...}
	Assessment  Access = "assessment"  // the counties' scores, narrowed to a county government's own
	OwnUnit     Access = "own_unit"    // a task's or the meetings' rows, narrowed to a unit's own (unit=)
)

// Page is one route of the dashboard.
type Page struct {
	Pattern string
	Query   []string // the query parameters it takes
	Handler http.Handler
	Access  Access
}

// Server renders the pages.
type Server struct {
	src   Source
	cat   *schemas.Catalog
	msgs  messages
	pages map[string]*template.Template
	live  *broadcaster
	log   *slog.Logger
}

// New parses the templates and the message catalog.
func New(src Source, log *slog.Logger) (*Server, error) {
	msgs, err := loadMessages()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{src: src, cat: src.Catalog(), msgs: msgs, pages: map[string]*template.Template{}, log: log}
	s.live = newBroadcaster(src.View())
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(s.funcs()).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", n, err)
		}
		s.pages[base] = t
	}
	return s, nil
}

// Close ends every live-update stream; call it when the HTTP server shuts
// down (http.Server.RegisterOnShutdown), or Shutdown waits for them.
func (s *Server) Close() { s.live.close() }

// Clients is the number of pages listening for live updates.
func (s *Server) Clients() int { return s.live.clients() }

// Pages lists every route of the dashboard.
func (s *Server) Pages() []Page {
	h := func(f func(w http.ResponseWriter, r *http.Request) error) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				s.Error(w, r, statusOf(err), err.Error())
			}
		})
	}
	return []Page{
		{"GET /{$}", nil, h(s.city), City},
		{"GET /county/{code}", nil, h(s.county), County},
		{"GET /site/{id}", []string{"after"}, h(s.site), Site},
		{"GET /household/{id}", nil, h(s.household), Household},
		{"GET /warnings", []string{"county", "rule", "state", "dept", "after"}, h(s.warnings), Warnings},
		{"GET /departments", nil, h(s.departments), Departments},
		{"GET /department/{code...}", nil, h(s.department), Department},
		{"GET /tasks", []string{"dept", "county", "status"}, h(s.tasks), Warnings},
		{"GET /task/{id}", []string{"unit"}, h(s.task), OwnUnit},
		{"GET /meetings", []string{"unit"}, h(s.meetings), OwnUnit},
		{"GET /assessment", []string{"county"}, h(s.assessment), Assessment},
		{"GET /catalog", nil, h(s.catalog), Open},
		{"GET /live", nil, http.HandlerFunc(s.live.serve), Open},
		{"GET /lang/{code}", []string{"next"}, http.HandlerFunc(s.switchLang), Public},
		{"GET /login", []string{"next", "failed"}, h(s.loginPage), Public},
		{"GET /static/", nil, staticHandler(), Public},
		{"GET /favicon.ico", nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), Public},
	}
}

// Errors of the pages (statusOf maps them to a status).
var (
	errNotFound = errors.New("not found")
	errBadParam = errors.New("bad parameter")
)

func statusOf(err error) int {
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, view.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errBadParam):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// page is what every template gets.
type page struct {
	L     Lang
	V     Viewer
	Title string // the page's title as it is (a county's name, a site id)…
	// …or TitleKey, the message catalog's key of a title in words.
	TitleKey string
	Nav      string
	Path     string
	Live     string // the live-updates URL, "" for none
	Clock    time.Time
	Seq      uint64
	Data     any
	Status   int
}

// render writes a page; a live refresh (X-Dashboard-Refresh) gets the same page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) error {
	t := s.pages[name]
	if t == nil {
		return fmt.Errorf("dashboard: no template %s", name)
	}
	p.L, p.V, p.Path = s.langOf(r), viewerOf(r), r.URL.RequestURI()
	if p.Clock.IsZero() {
		p.Clock = s.src.View().Clock()
	}
	if p.Seq == 0 {
		p.Seq = s.src.View().Seq()
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return fmt.Errorf("dashboard: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.L.Code())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	code := p.Status
	if code == 0 {
		code = http.StatusOK
	}
	writeCompressed(w, r, code, []byte(b.String()))
	return nil
}

// Error renders an error page with the status code; 401 sends a reader who
// opened a page to the login page (a live refresh or the live stream gets
// the 401 itself, and stops).
func (s *Server) Error(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if code == http.StatusUnauthorized && r.Method == http.MethodGet && r.URL.Path != "/live" && r.Header.Get(LiveHeader) == "" {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if code == 499 {
		return
	}
	key := "error." + strconv.Itoa(code)
	if _, ok := s.msgs[key]; !ok {
		key = "error.title"
	}
	err := s.render(w, r, "error", page{TitleKey: key, Status: code, Data: struct {
		Key, Message string
		Code         int
	}{key, msg, code}})
	if err != nil {
		s.log.Error("render an error page", "err", err)
		http.Error(w, msg, code)
	}
}

// SafeNext is a page of this site to go on to after a sign-in or a
// language switch: a path (and query) on this host, "/" for anything else —
// another host, a scheme, a backslash or a control character that a
// browser would read as another host (/\evil, /%09/evil).
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return u.RequestURI()
}

func (s *Server) switchLang(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	next := SafeNext(r.URL.Query().Get("next"))
	if code != "en" && code != "zh-CN" {
		s.Error(w, r, http.StatusNotFound, "no language "+code+" (zh-CN, en)")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: code, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	next := SafeNext(r.URL.Query().Get("next"))
	return s.render(w, r, "login", page{TitleKey: "login.title", Data: struct {
		Next   string
		Failed bool
	}{next, r.URL.Query().Get("failed") != ""}})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
