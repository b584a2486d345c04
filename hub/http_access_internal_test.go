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
}
