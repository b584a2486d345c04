package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

type fakeSource struct {
	v   *view.View
	cat *schemas.Catalog
}

func (f fakeSource) View() *view.View                          { return f.v }
func (f fakeSource) Catalog() *schemas.Catalog                 { return f.cat }
func (f fakeSource) ResolveFact(uint64) (uint64, string, bool) { return 0, "", false }
func (f fakeSource) Rejections(context.Context, subscribers.RejectionQuery) ([]subscribers.LoggedRejection, uint64, error) {
	return nil, 0, nil
}

// TestPagesRenderOnAnEmptyView renders every page route in both languages
// and checks status codes and that no label is missing from the catalog.
func TestPagesRenderOnAnEmptyView(t *testing.T) {
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(fakeSource{v, cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range s.Pages() {
		mux.Handle(p.Pattern, p.Handler)
	}
	for _, lang := range []string{"zh-CN", "en"} {
		for _, tc := range []struct {
			path string
			code int
		}{
			{"/", 200}, {"/county/610424", 200}, {"/county/999999", 404}, {"/site/S610424-0001", 404},
			{"/household/H610424-000001", 404}, {"/warnings", 200}, {"/warnings?rule=R4&county=610424", 200},
			{"/warnings?rule=R99", 400}, {"/warnings?state=odd", 400}, {"/departments", 200}, {"/department/edu", 200},
			{"/department/nobody", 404}, {"/tasks", 200}, {"/tasks?status=late", 400}, {"/tasks?dept=hrss&status=overdue", 200},
			{"/task/RL09-1", 200}, {"/task/RL99-9", 404}, {"/meetings", 200}, {"/assessment", 200}, {"/assessment?county=999999", 400},
			{"/catalog", 200}, {"/login", 200}, {"/static/app.css", 200}, {"/static/nothing.js", 404},
		} {
			req := httptest.NewRequest("GET", tc.path, nil)
			req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Errorf("%s %s: status %d, want %d: %.300s", lang, tc.path, rec.Code, tc.code, rec.Body.String())
			}
			if body := rec.Body.String(); strings.Contains(body, "‹") {
				i := strings.Index(body, "‹")
				t.Errorf("%s %s: a label is missing from messages.json: %s", lang, tc.path, body[i:min(len(body), i+60)])
			}
		}
	}
}

// TestEveryObligationLabelled: each obligation the view shows for a
// household or a person has its label in the message catalog, so the
// household page never shows a code.
func TestEveryObligationLabelled(t *testing.T) {
	msgs, err := loadMessages()
	if err != nil {
		t.Fatal(err)
	}
	household, person := view.ObligationNames()
	for _, name := range append(household, person...) {
		if _, ok := msgs["obligation."+name]; !ok {
			t.Errorf("obligation %q has no label: add obligation.%s to messages.json", name, name)
		}
	}
}

// TestSafeNext: after a sign-in or a language switch the browser goes on
// to a page of this site only, never to a host a crafted next names.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/county/610424": "/county/610424", "/warnings?rule=R4&county=610424": "/warnings?rule=R4&county=610424",
		"": "/", "county": "/", "//evil.example": "/", "/\\evil.example": "/", "/\t/evil.example": "/",
		"/\n/evil.example": "/", "https://evil.example/": "/", "///evil.example": "/", "/%2F/evil.example": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
	// Through the routes, as a browser sends it.
	cat := schemas.MustLoad()
	v, _ := view.New(cat)
	s, err := New(fakeSource{v, cat}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range s.Pages() {
		mux.Handle(p.Pattern, p.Handler)
	}
	for _, path := range []string{"/lang/en?next=/%5Cevil.example", "/lang/en?next=/%09/evil.example", "/lang/en?next=//evil.example"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if loc := rec.Header().Get("Location"); loc != "/" {
			t.Errorf("GET %s: Location %q, want /", path, loc)
		}
	}
}
