package hub

import (
	"net/http"
	"net/http/httptest"
)

// RouteInfo is an endpoint of the HTTP API, for the black-box tests.
type RouteInfo struct {
	Pattern string   // ServeMux pattern: "GET /api/v1/households/{id}"
	Query   []string // query parameters it takes
}

// Routes lists the endpoints h.Handler serves.
func Routes(h *Hub) []RouteInfo {
	var out []RouteInfo
	for _, rt := range newAPI(h).routes() {
		out = append(out, RouteInfo{Pattern: rt.pattern, Query: rt.query})
	}
	return out
}

// MatchRoute returns the pattern of the route that serves method and path
// ("" when none does).
func MatchRoute(h *Hub, method, path string) string {
	mux := http.NewServeMux()
	for _, rt := range newAPI(h).routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	_, pattern := mux.Handler(httptest.NewRequest(method, path, nil))
	return pattern
}

// LiveClients is the number of pages listening to the dashboard's live
// updates.
func LiveClients(h *Hub) int { return h.pages.Clients() }
