package view

import (
	"strings"

	"github.com/xianyang/anzhi/fact"
)

// Touched is what folding log entries changed, named the way readers name
// it (the view bucket's keys, fact.HouseholdKey and the like): the
// households and sites whose views changed and the counties whose figures
// did. A household's site and county count as touched with it; a person's
// facts and warnings touch the person's household.
type Touched struct {
	// City is set when anything was folded: the city's figures, its
	// departments' counts or its warnings changed.
	City bool
	// AllCounties is set when the clock moved: every county's figures (its
	// ages, its due dates) may have changed.
	AllCounties bool
	Households  []string // each once per call, in the order first touched
	Sites       []string
	Counties    []string
}

// Empty reports whether nothing was touched.
func (t *Touched) Empty() bool {
	return !t.City && !t.AllCounties && len(t.Households) == 0 && len(t.Sites) == 0 && len(t.Counties) == 0
}

// touchSet collects, while the view folds, what it touched, by index; the
// view holds one and uses it only while a caller asked (see Fold).
type touchSet struct {
	on          bool
	city, all   bool
	households  []uint32
	sites       []uint32
	counties    []string
	seenHH      map[uint32]struct{}
	seenSite    map[uint32]struct{}
	seenCounty  map[string]struct{}
	initialised bool
}

func (s *touchSet) start() {
	if !s.initialised {
		s.seenHH, s.seenSite, s.seenCounty = map[uint32]struct{}{}, map[uint32]struct{}{}, map[string]struct{}{}
		s.initialised = true
	}
	s.on = true
}

// flush appends what was collected to t, by name, and empties the set.
func (v *View) flushTouched(t *Touched) {
	s := &v.touched
	t.City = t.City || s.city
	t.AllCounties = t.AllCounties || s.all
	for _, hi := range s.households {
		t.Households = append(t.Households, householdID(v.households.at(hi).key))
	}
	for _, si := range s.sites {
		t.Sites = append(t.Sites, v.sites[si].id)
	}
	t.Counties = append(t.Counties, s.counties...)
	s.on, s.city, s.all = false, false, false
	s.households, s.sites, s.counties = s.households[:0], s.sites[:0], s.counties[:0]
	clear(s.seenHH)
	clear(s.seenSite)
	clear(s.seenCounty)
}

// Fold folds log entries in order under one lock, like ApplyLog, and adds
// to t (when not nil) what they touched.
func (v *View) Fold(es []LogEntry, t *Touched) []Change {
	v.mu.Lock()
	defer v.mu.Unlock()
	if t != nil {
		v.touched.start()
		defer v.flushTouched(t)
	}
	var out []Change
	for i := range es {
		if es[i].RejectedBy != "" {
			v.noteRejected(es[i].RejectedBy, es[i].Seq)
			continue
		}
		out = append(out, v.apply(&es[i].Entry)...)
	}
	return out
}

// Touches adds to t what the log entries es, folded earlier, concern in the
// view as it stands: the household, person (its household), site and
// warning each names, and its county (rejections concern none). It lets a reader that missed the fold
// (a restart after a snapshot) learn what to write again.
func (v *View) Touches(es []LogEntry, t *Touched) {
	v.mu.Lock() // the touch set is the view's own
	defer v.mu.Unlock()
	v.touched.start()
	defer v.flushTouched(t)
	for i := range es {
		if es[i].RejectedBy == "" {
			v.touches(&es[i].Entry)
		}
	}
}

func (v *View) touches(e *fact.Entry) {
	if e.Family == accessFamily {
		return
	}
	v.touched.city = true
	v.markCounty(e.Area)
	if e.Family == clockFamily {
		v.touched.all = true
		return
	}
	var f fields
	f.parse(e.Data)
	if k, ok := householdKey(f.str("household_id")); ok {
		if hi, ok := v.hhIdx[k]; ok {
			v.markHousehold(hi)
		}
	}
	if k, ok := personKey(f.str("person_key")); ok {
		if pi, ok := v.personIdx.get(&k, &v.personKeys); ok {
			v.markPerson(pi)
		}
	}
	if si, ok := v.siteIdx[f.str("site_id")]; ok {
		v.markSite(si)
	}
	v.markCounty(f.str("area"))
	if kind := f.str("entity_kind"); kind != "" {
		v.markEntity(kind, f.str("entity_id"))
	}
}

// markHousehold notes that a household's view changed, and with it its
// site's and its county's.
func (v *View) markHousehold(hi uint32) {
	s := &v.touched
	if !s.on {
		return
	}
	if _, ok := s.seenHH[hi]; !ok {
		s.seenHH[hi] = struct{}{}
		s.households = append(s.households, hi)
	}
	h := v.households.at(hi)
	if h.site != 0 {
		v.markSite(h.site - 1)
	}
	v.markCounty(countyOfHousehold(h.key))
}

// markPerson notes that a person changed: the person's household shows it.
func (v *View) markPerson(pi uint32) {
	if !v.touched.on {
		return
	}
	if p := v.persons.at(pi); p.hh != 0 {
		v.markHousehold(p.hh - 1)
	}
}

// markSite notes that a site's view changed, and its county's.
func (v *View) markSite(si uint32) {
	s := &v.touched
	if !s.on {
		return
	}
	if _, ok := s.seenSite[si]; !ok {
		s.seenSite[si] = struct{}{}
		s.sites = append(s.sites, si)
	}
	v.markCounty(v.sites[si].county)
}

// markCounty notes that a county's figures changed; codes that are not a
// county (the city, "") are left out.
func (v *View) markCounty(code string) {
	s := &v.touched
	if !s.on {
		return
	}
	if _, ok := v.counties[code]; !ok {
		return
	}
	if _, ok := s.seenCounty[code]; !ok {
		s.seenCounty[code] = struct{}{}
		s.counties = append(s.counties, code)
	}
}

// markWarning notes what a warning shows in: its entity's view (a person's
// in the household's) and its area.
func (v *View) markWarning(k wkey) {
	if !v.touched.on {
		return
	}
	switch k.kind {
	case entPerson:
		v.markPerson(k.idx)
	case entHousehold:
		v.markHousehold(k.idx)
	case entSite:
		v.markSite(k.idx)
	}
	v.markCounty(v.entityArea(k))
}

// markEntity is markWarning for an entity named as a warning event names it
// (entity_kind, entity_id).
func (v *View) markEntity(kind, id string) {
	switch kind {
	case "household":
		if k, ok := householdKey(id); ok {
			if hi, ok := v.hhIdx[k]; ok {
				v.markHousehold(hi)
			}
		}
	case "site":
		id, _, _ = strings.Cut(id, "/") // S610424-0001/water
		if si, ok := v.siteIdx[id]; ok {
			v.markSite(si)
		}
	case "person":
		if k, ok := personKey(id); ok {
			if pi, ok := v.personIdx.get(&k, &v.personKeys); ok {
				v.markPerson(pi)
			}
		}
	case "project":
		if p := v.projects[id]; p != nil {
			v.markCounty(p.area)
		}
	}
}
