package hub

import (
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestEveryRouteHasAnAccessRule: with identities on a route is either public
// (health and readiness) or names who may use it; one added without either
// would serve no one (guarded fails closed), and this test names it first.
func TestEveryRouteHasAnAccessRule(t *testing.T) {
	a := newAPI(&Hub{cfg: Config{Catalog: schemas.MustLoad()}, metrics: newMetrics()})
	for _, rt := range a.routes() {
		switch {
		case rt.public && rt.access != nil:
			t.Errorf("%s is public and has an access rule: which is it?", rt.pattern)
		case !rt.public && rt.access == nil:
			t.Errorf("%s has no access rule", rt.pattern)
		case rt.public && rt.pattern != "GET /healthz" && rt.pattern != "GET /readyz":
			t.Errorf("%s is public: only /healthz and /readyz may be", rt.pattern)
		}
	}
	// The dashboard's pages: public only what shows nothing of the view.
	publicPages := map[string]bool{"GET /lang/{code}": true, "GET /login": true, "GET /static/": true,
		"GET /favicon.ico": true, "POST /login": true, "POST /logout": true}
	pages := a.pageRoutes()
	if len(pages) < 10 {
		t.Fatalf("the hub mounts %d dashboard pages", len(pages))
	}
	for _, rt := range pages {
		switch {
		case !rt.page:
			t.Errorf("%s is a page but answers errors in JSON", rt.pattern)
		case rt.public && rt.access != nil:
			t.Errorf("%s is public and has an access rule: which is it?", rt.pattern)
		case !rt.public && rt.access == nil:
			t.Errorf("%s has no access rule: map its dashboard.Access in pageRoutes", rt.pattern)
		case rt.public != publicPages[rt.pattern]:
			t.Errorf("%s: public %v, want %v", rt.pattern, rt.public, publicPages[rt.pattern])
		}
	}
}
