package hub

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// api serves the shared view over HTTP. It holds the encoded responses of
// the city, the county list, each county and the digest, keyed by the
// view's version (live), and those of the as-of views it built (asof.go).
type api struct {
	h     *Hub
	cat   *schemas.Catalog
	epoch string // distinguishes this process's ETags from another's
	live  *viewCaches
	reads readLimits // households read per identity (identities on)
	// cutOfQuarter, when set (by tests only), moves the instant a quarter
	// that has ended is cut at (quarterView): the log's recorded times are
	// the wall clock's, so a test puts a quarter's end between two batches
	// of facts.
	cutOfQuarter func(quarter string, last time.Time) time.Time
}

func newAPI(h *Hub) *api {
	if h.pages == nil && h.cfg.Catalog != nil {
		// A hub not started (internal tests) still lists its pages.
		if pages, err := dashboard.New(h, nil); err == nil {
			h.pages = pages
		}
	}
	return &api{h: h, cat: h.cfg.Catalog, live: newViewCaches(h.cfg.Catalog, ""),
		epoch: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

// Pages of lists.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// page is one page of a list; Next is the cursor of the following page
// (the after parameter), absent on the last page.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// apiFactRef is a FactRef with its log sequence and the publishing
// department's CloudEvent source, so a reader can open the fact in the log.
type apiFactRef struct {
	view.FactRef
	Source string `json:"source,omitempty"`
}

// apiEvidence is a warning's evidence with its place in the log. The key is
// written in hex, as in FactRef.
type apiEvidence struct {
	view.Evidence
	Key    string `json:"key"`
	Seq    uint64 `json:"seq,omitempty"`
	Source string `json:"source,omitempty"`
}

type apiObligation struct {
	view.Obligation
	Fact *apiFactRef `json:"fact,omitempty"`
}

type apiPerson struct {
	view.PersonView
	Obligations map[string]apiObligation `json:"obligations"`
}

type apiHousehold struct {
	*view.HouseholdView
	Members     []apiPerson              `json:"members"`
	Obligations map[string]apiObligation `json:"obligations"`
	Warnings    []apiWarning             `json:"warnings"`
}

type apiFacility struct {
	view.FacilityView
	Fact *apiFactRef `json:"fact,omitempty"`
}

type apiSite struct {
	*view.SiteView
	Infrastructure map[string]apiObligation `json:"infrastructure"`
	Facilities     map[string][]apiFacility `json:"facilities"`
}

type apiWarning struct {
	view.Warning
	Evidence []apiEvidence `json:"evidence"`
}

type apiDepartment struct {
	*view.DepartmentView
	Warnings []apiWarning `json:"warnings"`
}

// apiDigest is the body of /api/v1/digest.
type apiDigest struct {
	Digest string `json:"digest"`
	LogSeq uint64 `json:"log_seq"`
}

// facilityFamily is the family of the facts behind each kind of facility
// (the view leaves it out of their FactRefs).
var facilityFamily = map[string]string{
	"clinics": "health.facility", "schools": "edu.capacity", "workshops": "hr.workshop",
	"industrial_parks": "industry.park", "self_governance_units": "civil.community",
	"party_organisations": "org.partybranch", "ecommerce_points": "commerce.ecommerce",
}

// resolve finds a fact's log sequence and source; zero values when the
// hub does not know the key.
func (a *api) resolve(key uint64) (uint64, string) {
	seq, source, ok := a.h.ResolveFact(key)
	if !ok {
		return 0, ""
	}
	return seq, source
}

func (a *api) ref(fr *view.FactRef, family string) *apiFactRef {
	if fr == nil {
		return nil
	}
	out := &apiFactRef{FactRef: *fr}
	if out.Family == "" {
		out.Family = family
	}
	if k, err := strconv.ParseUint(fr.Key, 16, 64); err == nil {
		out.Seq, out.Source = a.resolve(k)
	}
	return out
}

func (a *api) obligations(in map[string]view.Obligation) map[string]apiObligation {
	out := make(map[string]apiObligation, len(in))
	for k, o := range in {
		out[k] = apiObligation{Obligation: o, Fact: a.ref(o.Fact, "")}
	}
	return out
}

func (a *api) warning(w *view.Warning) apiWarning {
	out := apiWarning{Warning: *w, Evidence: make([]apiEvidence, len(w.Evidence))}
	for i, e := range w.Evidence {
		out.Evidence[i] = apiEvidence{Evidence: e, Key: strconv.FormatUint(e.Key, 16)}
		out.Evidence[i].Seq, out.Evidence[i].Source = a.resolve(e.Key)
	}
	return out
}

func (a *api) household(r *http.Request) (any, error) {
	id := r.PathValue("id")
	hv, err := a.viewOf(r).Household(id)
	if err != nil {
		return nil, notFound("household", id, err)
	}
	out := apiHousehold{HouseholdView: hv, Members: make([]apiPerson, len(hv.Members)),
		Obligations: a.obligations(hv.Obligations), Warnings: make([]apiWarning, len(hv.Warnings))}
	for i := range hv.Members {
		out.Members[i] = apiPerson{PersonView: hv.Members[i], Obligations: a.obligations(hv.Members[i].Obligations)}
	}
	for i, w := range hv.Warnings {
		out.Warnings[i] = a.warning(w)
	}
	return out, nil
}

func (a *api) site(r *http.Request) (any, error) {
	id := r.PathValue("id")
	sv, err := a.viewOf(r).Site(id)
	if err != nil {
		return nil, notFound("site", id, err)
	}
	out := apiSite{SiteView: sv, Infrastructure: a.obligations(sv.Infrastructure),
		Facilities: make(map[string][]apiFacility, len(sv.Facilities))}
	for kind, list := range sv.Facilities {
		fs := make([]apiFacility, len(list))
		for i, f := range list {
			fs[i] = apiFacility{FacilityView: f, Fact: a.ref(f.Fact, facilityFamily[kind])}
		}
		out.Facilities[kind] = fs
	}
	return out, nil
}

func (a *api) county(r *http.Request) (*encoded, error) {
	code := r.PathValue("code")
	v, caches := a.viewOf(r), a.cachesOf(r)
	c, ok := caches.county[code]
	if !ok {
		return nil, &notFoundError{kind: "county", id: code,
			why: "not a county of " + a.cat.City.Name + " (six-digit GB/T 2260 code such as 610424)"}
	}
	return a.cachedJSON(v, c, func() (any, error) {
		av, err := v.County(code)
		if err != nil {
			return nil, notFound("county", code, err)
		}
		return av, nil
	})
}

// countyList is the list of counties with their counts.
func (a *api) countyList(r *http.Request) (*encoded, error) {
	v := a.viewOf(r)
	return a.cachedJSON(v, &a.cachesOf(r).counties, func() (any, error) { return v.Counties(), nil })
}

func (a *api) city(r *http.Request) (*encoded, error) {
	v := a.viewOf(r)
	return a.cachedJSON(v, &a.cachesOf(r).city, func() (any, error) { return v.City(), nil })
}

func (a *api) digest(r *http.Request) (*encoded, error) {
	vw := a.viewOf(r)
	return a.cachedJSON(vw, &a.cachesOf(r).digest, func() (any, error) {
		// The digest and the log position are read under separate locks:
		// keep the pair only when nothing was folded in between.
		for range 3 {
			v := vw.Version()
			d := apiDigest{Digest: vw.Digest(), LogSeq: vw.Seq()}
			if vw.Version() == v {
				return d, nil
			}
		}
		return nil, fmt.Errorf("%w: the view kept changing while its digest was computed; retry when ingest is quieter", errUnavailable)
	})
}

func (a *api) department(r *http.Request) (any, error) {
	code := r.PathValue("code")
	dv, err := a.viewOf(r).Department(code)
	if errors.Is(err, view.ErrNotFound) {
		nf := &notFoundError{kind: "department", id: code}
		if _, perr := a.cat.ParsePublisher(code); perr != nil {
			nf.why = perr.Error()
		}
		return nil, nf
	}
	if err != nil {
		return nil, err
	}
	out := apiDepartment{DepartmentView: dv, Warnings: make([]apiWarning, len(dv.Warnings))}
	for i, w := range dv.Warnings {
		out.Warnings[i] = a.warning(w)
	}
	return out, nil
}

// warnings lists the open warnings, filtered, ordered by rule number and
// then entity id, a page at a time; the cursor is the last item's rule and
// entity.
func (a *api) warnings(r *http.Request) (any, error) {
	q := r.URL.Query()
	wq := view.WarningQuery{County: q.Get("county"), Rule: q.Get("rule"), State: q.Get("state"), Dept: q.Get("dept")}
	if qe := wq.Check(a.cat); qe != nil {
		return nil, badParam(qe.Field, qe.Value, "%s", qe.Why)
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return nil, err
	}
	var afterRule, afterEntity string
	if s := q.Get("after"); s != "" {
		var ok bool
		if afterRule, afterEntity, ok = parseWarningCursor(s); !ok {
			return nil, badParam("after", s, "not a cursor of this list (use the next value of the previous page)")
		}
	}
	ws, more := a.viewOf(r).WarningsPage(wq, afterRule, afterEntity, limit)
	out := page[apiWarning]{Items: make([]apiWarning, 0, len(ws))}
	for i := range ws {
		out.Items = append(out.Items, a.warning(&ws[i]))
	}
	if more && len(ws) > 0 {
		out.Next = warningCursor(&ws[len(ws)-1])
	}
	return out, nil
}

func warningCursor(w *view.Warning) string {
	return base64.RawURLEncoding.EncodeToString([]byte(w.Rule + ":" + w.EntityID))
}

func parseWarningCursor(s string) (rule, entity string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", "", false
	}
	rule, entity, ok = strings.Cut(string(b), ":")
	if !ok || len(rule) < 2 || rule[0] != 'R' || entity == "" {
		return "", "", false
	}
	if _, err := view.ParseRuleID(rule); err != nil {
		return "", "", false
	}
	return rule, entity, true
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badParam("limit", s, "not an integer (give 1 to %d)", maxLimit)
	}
	if n < 1 || n > maxLimit {
		return 0, badParam("limit", s, "out of range (give 1 to %d)", maxLimit)
	}
	return n, nil
}

// rejections pages through the rejection ledger in log order; the cursor is
// the last item's log sequence.
func (a *api) rejections(r *http.Request) (any, error) {
	qs := r.URL.Query()
	q := subscribers.RejectionQuery{Department: qs.Get("dept")}
	var err error
	if s := qs.Get("after"); s != "" {
		if q.After, err = strconv.ParseUint(s, 10, 64); err != nil {
			return nil, badParam("after", s, "not a log sequence number (use the next value of the previous page)")
		}
	}
	if q.Limit, err = parseLimit(qs.Get("limit")); err != nil {
		return nil, err
	}
	if s := qs.Get("since"); s != "" {
		if q.Since, err = time.Parse(time.RFC3339, s); err != nil {
			return nil, badParam("since", s, "not an RFC 3339 time such as 2021-06-01T00:00:00Z")
		}
	}
	if q.Department != "" && q.Department != "unknown" {
		if _, err := a.cat.ParsePublisher(q.Department); err != nil {
			return nil, badParam("dept", q.Department, "%v", err)
		}
	}
	items, next, err := subscribers.Rejections(r.Context(), a.h.js, q)
	if err != nil {
		return nil, err
	}
	out := page[subscribers.LoggedRejection]{Items: items}
	if out.Items == nil {
		out.Items = []subscribers.LoggedRejection{}
	}
	if next > 0 {
		out.Next = strconv.FormatUint(next, 10)
	}
	return out, nil
}
