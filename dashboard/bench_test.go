package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/internal/bench"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// viewSource serves a view folded in this process.
type viewSource struct {
	v   *view.View
	cat *schemas.Catalog
}

func (s viewSource) View() *view.View                          { return s.v }
func (s viewSource) Catalog() *schemas.Catalog                 { return s.cat }
func (s viewSource) ResolveFact(uint64) (uint64, string, bool) { return 0, "", false }
func (s viewSource) Rejections(context.Context, subscribers.RejectionQuery) ([]subscribers.LoggedRejection, uint64, error) {
	return nil, 0, nil
}

// BenchmarkPages renders the pages a reader opens most on cities of 50,000
// and 1,000,000 persons: a page reads the view's aggregates and indexes, so
// its cost must not grow with the city (compare the two sizes' ns/op).
//
//	go test ./dashboard -run '^$' -bench Pages -benchtime 200x
func BenchmarkPages(b *testing.B) {
	cat := schemas.MustLoad()
	for _, persons := range []int{50_000, 1_000_000} {
		w := bench.NewWorld(cat, persons)
		v, err := w.Fold()
		if err != nil {
			b.Fatal(err)
		}
		s, err := dashboard.New(viewSource{v, cat}, nil)
		if err != nil {
			b.Fatal(err)
		}
		mux := http.NewServeMux()
		for _, p := range s.Pages() {
			mux.Handle(p.Pattern, p.Handler)
		}
		for _, path := range []string{"/", "/county/610424", "/site/S610424-0005", "/household/H610424-0005000",
			"/warnings?county=610424", "/departments"} {
			b.Run(fmt.Sprintf("persons=%d/%s", persons, path), func(b *testing.B) {
				req := httptest.NewRequest("GET", path, nil)
				for b.Loop() {
					rec := httptest.NewRecorder()
					mux.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("GET %s: %d %.300s", path, rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}
