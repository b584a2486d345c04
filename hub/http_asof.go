package hub

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// The view endpoints take as_of and effective (asof.go): as_of is a log
// sequence, a date (the end of that day, China Standard Time) or an RFC 3339
// time — the log as it was stored by then; effective is a date or a time —
// the facts whose own time is after it are left out.

// Query parameters of the as-of views.
const (
	paramAsOf      = "as_of"
	paramEffective = "effective"
)

// cutParams are the query parameters every view endpoint takes.
var cutParams = []string{paramAsOf, paramEffective}

// withCut adds cutParams to a route's own parameters.
func withCut(params ...string) []string { return append(params, cutParams...) }

type cutCtxKey struct{}

// asOf serves next with the view of the cut the request asks for (as_of,
// effective), or the live view when it asks for none.
func (a *api) asOf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !q.Has(paramAsOf) && !q.Has(paramEffective) {
			next.ServeHTTP(w, r)
			return
		}
		cut, err := a.parseCut(r.Context(), q.Get(paramAsOf), q.Has(paramAsOf), q.Get(paramEffective), q.Has(paramEffective))
		if err != nil {
			writeError(w, err)
			return
		}
		if !cut.Open && cut.Effective.IsZero() && cut.Seq == a.h.view.Seq() {
			// Exactly what the live view has folded: it is that cut. (A view
			// behind the cut — the projector catching up — gets a cut of
			// its own, built from the log.)
			w.Header().Set(fact.HeaderCutSeq, strconv.FormatUint(cut.Seq, 10))
			next.ServeHTTP(w, r)
			return
		}
		if a.h.asOf == nil {
			writeError(w, fmt.Errorf("%w: as-of views need a started hub", errUnavailable))
			return
		}
		cv, err := a.h.asOf.get(r.Context(), cut)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set(fact.HeaderCutSeq, strconv.FormatUint(cv.key.seq, 10))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), cutCtxKey{}, cv)))
	})
}

// parseCut reads as_of and effective into a cut; a value that cannot be
// used is a 400 naming its parameter.
func (a *api) parseCut(ctx context.Context, asOf string, hasAsOf bool, effective string, hasEffective bool) (Cut, error) {
	cut := Cut{Open: !hasAsOf}
	if hasEffective {
		t, err := view.ParseCutTime(effective)
		if err != nil {
			return cut, badParam(paramEffective, effective, "%v", err)
		}
		cut.Effective = t
	}
	if !hasAsOf {
		return cut, nil
	}
	last, err := a.h.logLast(ctx)
	if err != nil {
		return cut, err
	}
	if n, err := strconv.ParseUint(asOf, 10, 64); err == nil {
		if n > last {
			return cut, badParam(paramAsOf, asOf, "%v: the log's last sequence is %d", errCutRange, last)
		}
		cut.Seq = n
		return cut, nil
	}
	t, err := view.ParseCutTime(asOf)
	if err != nil {
		if strings.TrimLeft(asOf, "0123456789") == "" {
			return cut, badParam(paramAsOf, asOf, "not a log sequence number")
		}
		return cut, badParam(paramAsOf, asOf, "not a log sequence, %v", err)
	}
	if t.After(time.Now()) && !isToday(asOf) {
		return cut, badParam(paramAsOf, asOf, "in the future: the log holds what it stored up to now")
	}
	if cut.Seq, err = a.h.cutAtTime(ctx, t); err != nil {
		return cut, err
	}
	return cut, nil
}

// isToday reports whether a date names today in China Standard Time (its
// end is still to come: the cut is the log as it is).
func isToday(s string) bool {
	return s == time.Now().In(view.ChinaTime()).Format(time.DateOnly)
}

// viewOf is the view a request reads: its as-of view, or the live view.
func (a *api) viewOf(r *http.Request) *view.View {
	if cv, ok := r.Context().Value(cutCtxKey{}).(*cutView); ok {
		return cv.v
	}
	return a.h.view
}

// cachesOf is the response caches of the view a request reads.
func (a *api) cachesOf(r *http.Request) *viewCaches {
	if cv, ok := r.Context().Value(cutCtxKey{}).(*cutView); ok {
		return cv.caches
	}
	return a.live
}
