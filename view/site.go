package view

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// Infrastructure items of a site (水、电、路、气、暖、污水管网、通信、环卫).
var infraItems = [8]string{"water", "power", "road", "gas", "heating", "sewage", "telecom", "sanitation"}

var infraCounters = [8]counter{cInfraWater, cInfraPower, cInfraRoad, cInfraGas, cInfraHeating, cInfraSewage, cInfraTelecom, cInfraSanitation}

const (
	infraNone uint8 = iota
	infraPlanned
	infraBuilding
	infraDone
	infraNotNeeded // declared by its owner: the site does not need it (缺什么补什么)
)

var infraStatusNames = [...]string{"none", "planned", "building", "done", "not_needed"}

// infraMet says whether an item's state satisfies R12: done, or not needed.
func infraMet(st uint8) bool { return st == infraDone || st == infraNotNeeded }

// reg is a register: the fact that set a value and when it took effect.
type reg struct {
	key uint64
	eff etime
}

// MarshalJSON writes a reg as [key, effective time] (the plan's snapshot).
func (r reg) MarshalJSON() ([]byte, error) { return json.Marshal([2]uint64{r.key, uint64(r.eff)}) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *reg) UnmarshalJSON(b []byte) error {
	var x [2]uint64
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	r.key, r.eff = x[0], etime(x[1])
	return nil
}

func (r *reg) set(e *fact.Entry) bool {
	eff, key := toETime(e.Time), e.Key()
	if !newer(eff, key, r.eff, r.key) {
		return false
	}
	r.eff, r.key = eff, key
	return true
}

// facility is something serving a site that can be open or not: a clinic,
// a school, a workshop, a park, a party organisation, a self-governance
// unit, an e-commerce point.
type facility struct {
	reg
	kind string
	open bool
	// arranged: a clinic planned, being built or open, a school that admits
	// the site's children — public services 安排到位 (R17)
	arranged bool
	seats    int64 // schools: seats (学位)
	used     int64 // schools: seats used
	pupils   int64 // schools: pupils from relocated households enrolled
	// Self-governance units: the yearly operating budget and a cadre's
	// basic pay, in fen (-1: not reported), each beside its urban benchmark
	// (0: not reported).
	budget, urbanBudget, pay, urbanPay int64
	jobs                               int64 // workshops: relocated people employed; parks: jobs for relocated people
}

// site is a resettlement site (安置点).
type site struct {
	id       string
	county   string
	area     *area
	reg      reg
	name     string
	township string
	central  bool
	setting  string
	status   string
	planHH   int64
	planPop  int64
	done     day
	known    bool // registered by registry.site

	households int // households linked to the site

	infra      [8]uint8
	infraReg   [8]reg
	infraDay   [8]day
	clinics    map[string]*facility
	schools    map[string]*facility
	workshops  map[string]*facility
	parks      map[string]*facility
	units      map[string]*facility
	party      map[string]*facility
	ecommerce  map[string]*facility
	legal      int64
	housing    reg
	inspection string // last inspection result
	repairFund bool

	contrib counters // contribution last applied to the areas
}

func (v *View) siteIndex(id string) uint32 {
	if i, ok := v.siteIdx[id]; ok {
		return i
	}
	county, _ := schemas.CountyOfID(id)
	up := v.counties[county]
	if up == nil {
		up = v.city
	}
	s := &site{
		id: id, county: county, area: newArea(id, "", up),
		clinics: map[string]*facility{}, schools: map[string]*facility{}, workshops: map[string]*facility{},
		parks: map[string]*facility{}, units: map[string]*facility{}, party: map[string]*facility{},
		ecommerce: map[string]*facility{},
	}
	i := uint32(len(v.sites))
	v.sites = append(v.sites, s)
	v.siteIdx[id] = i
	up.sites++
	up.childs = append(up.childs, id)
	for x := up.up; x != nil; x = x.up {
		x.sites++
	}
	return i
}

// facilityRegisters lists the site's facility registers in the one order
// the snapshot and the digest write them in; a facility kind added to the
// site is added here.
func (s *site) facilityRegisters() [7]map[string]*facility {
	return [...]map[string]*facility{s.clinics, s.schools, s.workshops, s.parks, s.units, s.party, s.ecommerce}
}

// facilityOf folds a fact into one of a site's facility registers.
func facilityOf(m map[string]*facility, id string, e *fact.Entry) (*facility, bool) {
	x := m[id]
	if x == nil {
		x = &facility{}
		m[id] = x
	}
	return x, x.reg.set(e)
}

// siteFact is a department's fact about a site as its family's fold sees
// it.
type siteFact struct {
	s *site
	f *fields
	e *fact.Entry
}

// siteFold folds one family's fact into a site and reports whether the site
// changed.
type siteFold func(x *siteFact) bool

// foldSiteFamily makes an entry fold of a site family's fold: it finds (or
// adds) the site and touches it when the fold changed it.
func foldSiteFamily(fold siteFold) func(*View, *fact.Entry) {
	return func(v *View, e *fact.Entry) {
		var f fields
		f.parse(e.Data)
		id := f.str("site_id")
		if id == "" {
			return
		}
		si := v.siteIndex(id)
		v.linkSite(si, e.Seq)
		if fold(&siteFact{s: v.sites[si], f: &f, e: e}) {
			v.touchSite(si)
		}
	}
}

// facility returns the facility the fact registers in m by its idField,
// and whether the fact is its newest.
func (x *siteFact) facility(m map[string]*facility, idField string) (*facility, bool) {
	return facilityOf(m, x.f.str(idField), x.e)
}

func countOpen(m map[string]*facility, kinds ...string) int64 {
	return countFacilities(m, func(x *facility) bool { return x.open }, kinds)
}

// countArranged counts the facilities arranged (R17) of the kinds (any
// kind when none is given).
func countArranged(m map[string]*facility, kinds ...string) int64 {
	return countFacilities(m, func(x *facility) bool { return x.arranged }, kinds)
}

func countFacilities(m map[string]*facility, in func(*facility) bool, kinds []string) (n int64) {
	for _, x := range m {
		if !in(x) {
			continue
		}
		if len(kinds) == 0 {
			n++
			continue
		}
		for _, k := range kinds {
			if x.kind == k {
				n++
				break
			}
		}
	}
	return n
}

// siteContrib is the site's own contribution (beyond its households and
// persons) to the indicators.
func (v *View) siteContrib(s *site) counters {
	var c counters
	c[cSites] = 1
	if s.central {
		c[cSitesCentralized] = 1
	}
	infraContrib(s, &c)
	healthSiteContrib(s, &c)
	eduSiteContrib(s, &c)
	hrSiteContrib(s, &c)
	industrySiteContrib(s, &c)
	civilSiteContrib(s, &c)
	return c
}

func (v *View) touchSite(si uint32) {
	s := v.sites[si]
	cur := v.siteContrib(s)
	s.area.bump(&s.contrib, &cur)
	s.contrib = cur
	v.dirtySites[si] = struct{}{}
	v.markSite(si)
}

// siteCase is what the site rules judge a site on.
type siteCase struct {
	s                   *site
	c                   *counters
	persons, households int64
	occupied            bool
	since               time.Time
}

func (v *View) siteCaseOf(k wkey) siteCase {
	s := v.sites[k.idx]
	c := &s.area.c
	sc := siteCase{s: s, c: c, persons: max(c[cPersons], s.planPop), households: max(c[cHouseholds], s.planHH),
		occupied: s.known && s.status != "planned" && s.status != "closed" && (s.households > 0 || s.status == "occupied"),
		since:    s.reg.eff.Time()}
	if s.done != 0 {
		sc.since = later(s.done.Time(), sc.since)
	}
	return sc
}

// broken is the site's finding of a broken rule: the site's registration as
// evidence and the message, with detail.
func (v *View) siteBroken(sc siteCase, detail bool, format string, args ...any) finding {
	f := finding{broken: true, since: sc.since}
	if detail {
		f.evidence = v.siteEvidence(sc.s)
		f.message = fmt.Sprintf(format, args...)
	}
	return f
}
