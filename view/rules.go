package view

import (
	"encoding/hex"
	"sort"
	"time"

	"github.com/xianyang/anzhi/fact"
)

// tick folds a hub.tick: the clock advances, time-dependent indicators are
// recomputed when the day changes, and the rules are swept over every
// entity touched since the last tick. Rules run on the recorded clock, never
// on the wall clock, so a replay of the log raises the same warnings.
func (v *View) tick(e *fact.Entry) []Change {
	var f fields
	f.parse(e.Data)
	at, err := time.Parse(time.RFC3339Nano, f.str("at"))
	if err != nil || !at.After(v.clock) {
		return nil
	}
	return v.tickAt(at)
}

// tickAt advances the clock to at (after the view's clock) and sweeps.
func (v *View) tickAt(at time.Time) []Change {
	prev := v.clock
	v.clock = at.UTC()
	if v.firstClock.IsZero() {
		v.firstClock = v.clock
	}
	if v.touched.on {
		v.touched.all = true
	}
	if prev.IsZero() || toDay(prev) != toDay(v.clock) {
		// Re-deriving ages and this year's cover changes the figures, not
		// what a household's or a site's view lists: only the warnings
		// the sweep changes mark those.
		on := v.touched.on
		v.touched.on = false
		v.recomputeAll()
		v.touched.on = on
	}
	var out []Change
	v.sweep(&out)
	v.escalate(&out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Warning, out[j].Warning
		if c := CompareRules(a.Rule, b.Rule); c != 0 {
			return c < 0
		}
		if a.EntityID != b.EntityID {
			return a.EntityID < b.EntityID
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// recomputeAll re-derives every time-dependent contribution (ages, this
// year's insurance, six months after training): once per recorded day.
func (v *View) recomputeAll() {
	for i := range uint32(v.persons.len()) {
		v.touchPerson(uint32(i))
	}
	for i := range uint32(v.households.len()) {
		v.touchHousehold(uint32(i))
	}
	for i := range v.sites {
		v.dirtySites[uint32(i)] = struct{}{}
	}
	for id := range v.projects {
		v.dirtyProjects[id] = struct{}{}
	}
	v.dirtyFindings = true
}

// sweep evaluates the rules on every entity touched since the last sweep.
func (v *View) sweep(out *[]Change) {
	judgeAll := func(kind uint8, idx uint32) {
		for _, d := range v.defs.byKind[kind] {
			for _, sub := range d.partsOf() {
				v.judge(wkey{rule: d.id, kind: kind, sub: sub, idx: idx}, out)
			}
		}
	}
	v.dirtyPersons.each(func(pi uint32) { judgeAll(entPerson, pi) })
	v.dirtyHouseholds.each(func(hi uint32) { judgeAll(entHousehold, hi) })
	sites := make([]uint32, 0, len(v.dirtySites))
	for si := range v.dirtySites {
		sites = append(sites, si)
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i] < sites[j] })
	for _, si := range sites {
		judgeAll(entSite, si)
		// A site finishing (or losing) its infrastructure changes R17 for
		// the projects of its county.
		for _, p := range v.projectList {
			if p.otherArea.key != 0 && (p.area == v.sites[si].county || p.area == v.cat.City.Code) {
				v.dirtyProjects[p.id] = struct{}{}
			}
		}
	}
	projects := make([]*project, 0, len(v.dirtyProjects))
	for id := range v.dirtyProjects {
		projects = append(projects, v.projects[id])
	}
	sort.Slice(projects, func(i, j int) bool { return projects[i].idx < projects[j].idx })
	for _, p := range projects {
		judgeAll(entProject, p.idx)
	}
	for i := range v.deptCodes {
		judgeAll(entDept, uint32(i))
	}
	// The plan is small: every unit's share of every task, every quarter
	// and every county's year are judged at each sweep.
	for i := range v.plan.Units {
		judgeAll(entTask, uint32(i))
	}
	// Findings are judged all when one changed, or when the day changed
	// (recomputeAll), since their deadlines pass with the clock.
	if v.dirtyFindings {
		for i := range v.findings.List {
			judgeAll(entFinding, uint32(i))
		}
		v.dirtyFindings = false
	}
	if from, to, ok := v.quartersJudged(); ok {
		for q := from; q <= to; q++ {
			judgeAll(entCity, uint32(q))
		}
	}
	if from, to, ok := v.yearsJudged(); ok {
		for ci := range v.plan.counties {
			for y := from; y <= to; y++ {
				judgeAll(entCounty, countyYear(ci, y))
			}
		}
	}
	v.dirtyPersons.clear()
	v.dirtyHouseholds.clear()
	clear(v.dirtySites)
	clear(v.dirtyProjects)
}

func later(ts ...time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

func jan1(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }

func (v *View) personEvidence(pi uint32, groups ...int) []Evidence {
	p := v.persons.at(pi)
	subject := hex.EncodeToString(v.personKeys.at(pi)[:])
	var ev []Evidence
	for _, g := range groups {
		if p.keys[g] != 0 {
			ev = append(ev, Evidence{Family: personGroupFamily[g], Key: p.keys[g], Subject: subject, Time: p.eff[g].Time()})
		}
	}
	return ev
}

func (v *View) householdEvidence(h *household, groups ...int) []Evidence {
	var ev []Evidence
	id := householdID(h.key)
	for _, g := range groups {
		if h.keys[g] != 0 {
			ev = append(ev, Evidence{Family: householdGroupFamily[g], Key: h.keys[g], Subject: id, Time: h.eff[g].Time()})
		}
	}
	return ev
}

// firstEvidence keeps the n first facts in key order, so that evidence does
// not depend on the order members were registered in.
func firstEvidence(ev []Evidence, n int) []Evidence {
	sort.Slice(ev, func(i, j int) bool { return ev[i].Key < ev[j].Key })
	return ev[:min(len(ev), n)]
}

func (v *View) siteEvidence(s *site) []Evidence {
	if s.reg.key == 0 {
		return nil
	}
	return []Evidence{{Family: "registry.site", Key: s.reg.key, Subject: s.id, Time: s.reg.eff.Time()}}
}

// eval evaluates one rule on one entity. With detail it also gathers the
// evidence and the message; the sweep does not need them, a warning being
// raised or read does.
func (v *View) eval(k wkey, detail bool) finding {
	if d := v.defs.byID[k.rule]; d != nil && d.kind == k.kind {
		return d.eval(v, k, detail)
	}
	return finding{}
}

// foldWarningEvent notes where the hub's own warning events landed in the log.
func (v *View) foldWarningEvent(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	v.linkWarningEvent(&f, e.Seq)
	v.historyOfWarningEvent(e, &f)
	if e.Family != "warning.raised" {
		return
	}
	id, ok := parseWarningID(f.str("warning_id"))
	if !ok || !f.is("level", "warning") {
		return
	}
	if k, ok := v.warnByID[id]; ok {
		v.warnings[k].seq = e.Seq
		v.markWarning(k)
	}
}
