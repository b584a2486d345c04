package view

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
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
	prev := v.clock
	v.clock = at.UTC()
	if v.firstClock.IsZero() {
		v.firstClock = v.clock
	}
	if prev.IsZero() || toDay(prev) != toDay(v.clock) {
		v.recomputeAll()
	}
	var out []Change
	v.sweep(&out)
	v.escalate(&out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Warning, out[j].Warning
		if ra, rb := ruleNumber(a.Rule), ruleNumber(b.Rule); ra != rb {
			return ra < rb
		}
		if a.EntityID != b.EntityID {
			return a.EntityID < b.EntityID
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

func ruleNumber(r string) int {
	n, _ := strconv.Atoi(r[1:])
	return n
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
}

// sweep evaluates the rules on every entity touched since the last sweep.
func (v *View) sweep(out *[]Change) {
	v.dirtyPersons.each(func(pi uint32) {
		for _, r := range []uint8{6, 7, 8} {
			v.judge(wkey{rule: r, kind: entPerson, idx: pi}, out)
		}
	})
	v.dirtyHouseholds.each(func(hi uint32) {
		for _, r := range []uint8{4, 9, 10, 11} {
			v.judge(wkey{rule: r, kind: entHousehold, idx: hi}, out)
		}
	})
	sites := make([]uint32, 0, len(v.dirtySites))
	for si := range v.dirtySites {
		sites = append(sites, si)
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i] < sites[j] })
	for _, si := range sites {
		for _, r := range []uint8{1, 2, 5} {
			v.judge(wkey{rule: r, kind: entSite, idx: si}, out)
		}
		for sub := subInfra; sub < subInfra+8; sub++ {
			v.judge(wkey{rule: 12, kind: entSite, sub: sub, idx: si}, out)
		}
		v.judge(wkey{rule: 13, kind: entSite, sub: subClinic, idx: si}, out)
		v.judge(wkey{rule: 13, kind: entSite, sub: subSchool, idx: si}, out)
		v.judge(wkey{rule: 14, kind: entSite, sub: subSelfGov, idx: si}, out)
		v.judge(wkey{rule: 14, kind: entSite, sub: subParty, idx: si}, out)
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
		v.judge(wkey{rule: 3, kind: entProject, idx: p.idx}, out)
		v.judge(wkey{rule: 17, kind: entProject, idx: p.idx}, out)
	}
	for i := range v.deptCodes {
		v.judge(wkey{rule: 18, kind: entDept, idx: uint32(i)}, out)
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
// evidence, the message and the responsible units; the sweep does not need
// them, a warning being raised or read does.
func (v *View) eval(k wkey, detail bool) finding {
	switch k.kind {
	case entPerson:
		return v.evalPerson(k, detail)
	case entHousehold:
		return v.evalHousehold(k, detail)
	case entSite:
		return v.evalSite(k, detail)
	case entProject:
		return v.evalProject(k, detail)
	case entDept:
		return v.evalDept(k, detail)
	}
	return finding{}
}

// evalPerson is R6, R7 and R8.
func (v *View) evalPerson(k wkey, detail bool) finding {
	p := v.persons.at(k.idx)
	var relocated time.Time
	if p.hh != 0 {
		if h := v.households.at(p.hh - 1); h.relocated != 0 {
			relocated = h.relocated.Time()
		}
	}
	b := p.bits
	year := v.clock.Year()
	var f finding
	switch k.rule {
	case 6:
		if !b.has(cSchoolAge) || b.has(cEnrolled) {
			return f
		}
		f = finding{broken: true, since: later(time.Date(int(p.birthYear)+v.p.schoolMinAge+1, 9, 1, 0, 0, 0, 0, time.UTC), relocated, p.eff[pgEnrol].Time())}
		if detail {
			f.responsible = []string{"edu"}
			f.evidence = v.personEvidence(k.idx, pgRegistry, pgEnrol)
			f.message = fmt.Sprintf("适龄儿童(%d年出生)未在学: 义务教育未保障", p.birthYear)
		}
	case 7:
		if !b.has(cPersons) || b.has(cInsuredBoth) {
			return f
		}
		f = finding{broken: true, since: later(jan1(year), relocated)}
		if detail {
			f.responsible = []string{"medins"}
			f.evidence = v.personEvidence(k.idx, pgRegistry, pgBasic, pgSerious)
			missing := "基本医疗保险和大病保险"
			if b.has(cInsuredBasic) {
				missing = "大病保险"
			} else if b.has(cInsuredSerious) {
				missing = "基本医疗保险"
			}
			f.message = fmt.Sprintf("%d年未参加%s", year, missing)
		}
	case 8:
		if !b.has(cPensionEligible) || b.has(cPensionEnrolled) {
			return f
		}
		f = finding{broken: true, since: later(jan1(year), relocated, jan1(int(p.birthYear)+v.p.pensionMinAge))}
		if detail {
			f.responsible = []string{"hrss"}
			f.evidence = v.personEvidence(k.idx, pgRegistry, pgPension)
			f.message = fmt.Sprintf("%d年未参加基本养老保险", year)
		}
	}
	return f
}

// evalHousehold is R4, R9, R10 and R11.
func (v *View) evalHousehold(k wkey, detail bool) finding {
	h := v.households.at(k.idx)
	relocated := h.relocated.Time()
	if h.relocated == 0 {
		relocated = h.eff[hgRegistry].Time()
	}
	if !h.registered || h.status != statusActive {
		return finding{}
	}
	today := v.clock
	graceOver := func(grace int) (time.Time, bool) {
		at := relocated.AddDate(0, 0, grace)
		return at, !today.Before(at)
	}
	var f finding
	switch k.rule {
	case 4:
		if !h.bits.has(cZeroEmployment) {
			return f
		}
		var lastEmp time.Time
		var emp []Evidence
		for q := h.first; q != 0; q = v.persons.at(q - 1).next {
			p := v.persons.at(q - 1)
			if p.keys[pgEmploy] != 0 {
				lastEmp = later(lastEmp, p.eff[pgEmploy].Time())
				if detail {
					emp = append(emp, v.personEvidence(q-1, pgEmploy)...)
				}
			}
		}
		f = finding{broken: true, since: later(relocated, lastEmp)}
		if detail {
			f.responsible = []string{"hrss"}
			f.evidence = append(v.householdEvidence(h, hgRegistry), firstEvidence(emp, 5)...)
			f.message = fmt.Sprintf("零就业户: %d个劳动力, 无人就业", max(int(h.labourCount), int(h.mem[mLabour])))
		}
	case 9:
		since, due := graceOver(v.p.deedGraceDays)
		if !due || h.deed >= deedRegistered {
			return f
		}
		f = finding{broken: true, since: since}
		if detail {
			f.responsible = []string{"resources"}
			f.evidence = v.householdEvidence(h, hgRegistry, hgDeed)
			f.message = fmt.Sprintf("搬迁%d天后安置房未办理不动产登记", int(today.Sub(relocated).Hours()/24))
		}
	case 10:
		since, due := graceOver(v.p.hukouGraceDays)
		if !due || h.mem[mMembers] == 0 || h.mem[mHukou] >= h.mem[mMembers] {
			return f
		}
		f = finding{broken: true, since: since}
		if detail {
			f.responsible = []string{"police"}
			var hk []Evidence
			for q := h.first; q != 0; q = v.persons.at(q - 1).next {
				hk = append(hk, v.personEvidence(q-1, pgHukou)...)
			}
			f.evidence = append(v.householdEvidence(h, hgRegistry), firstEvidence(hk, 5)...)
			f.message = fmt.Sprintf("%d名成员中%d名未迁移户籍或办理居住证", h.mem[mMembers], h.mem[mMembers]-h.mem[mHukou])
		}
	case 11:
		since, due := graceOver(v.p.reclaimGraceDays)
		if !due || h.reclaim >= reclaimReclaimed {
			return f
		}
		f = finding{broken: true, since: since}
		if detail {
			f.responsible = []string{"resources"}
			f.evidence = v.householdEvidence(h, hgRegistry, hgReclaim)
			stage := "未腾退"
			if h.reclaim > 0 {
				stage = "仅" + map[uint8]string{1: "腾空", 2: "收回", 3: "拆除"}[h.reclaim]
			}
			f.message = "旧宅基地" + stage + ", 未复垦复绿"
		}
	}
	return f
}

var infraNames = map[string]string{"water": "供水", "power": "供电", "road": "道路", "gas": "燃气",
	"heating": "供暖", "sewage": "污水管网", "telecom": "通信", "sanitation": "环卫"}

// evalSite is R1, R2, R5, R12, R13 and R14.
func (v *View) evalSite(k wkey, detail bool) finding {
	s := v.sites[k.idx]
	c := &s.area.c
	persons := max(c[cPersons], s.planPop)
	households := max(c[cHouseholds], s.planHH)
	occupied := s.known && s.status != "planned" && s.status != "closed" && (s.households > 0 || s.status == "occupied")
	since := s.reg.eff.Time()
	if s.done != 0 {
		since = later(s.done.Time(), since)
	}
	f := finding{since: since}
	broken := func(dept string, format string, args ...any) finding {
		f.broken = true
		if detail {
			f.responsible = []string{dept}
			f.evidence = v.siteEvidence(s)
			f.message = fmt.Sprintf(format, args...)
		}
		return f
	}
	switch k.rule {
	case 1:
		switch {
		case occupied && persons >= v.p.largeSitePersons && c[cParks] == 0:
			return broken("agri", "%d人安置点未配套扶贫产业园", persons)
		case occupied && s.central && persons < v.p.largeSitePersons && c[cWorkshops] == 0:
			return broken("agri", "%d人集中安置点未配套扶贫车间或扶贫作坊", persons)
		}
	case 2:
		if occupied && s.central && households >= v.p.factoryHouseholds && countOpen(s.workshops, "community_factory", "poverty_workshop") == 0 {
			return broken("hrss", "%d户集中安置点未创办社区工厂或扶贫车间", households)
		}
	case 5:
		if due := c[cTrainedDue]; due >= v.p.trainMin && float64(c[cTrainedEmployed]) < v.p.trainShare*float64(due) {
			return broken("hrss", "培训合格%d人, 6个月内就业%d人(%.0f%%), 低于50%%", due, c[cTrainedEmployed],
				100*float64(c[cTrainedEmployed])/float64(due))
		}
	case 12:
		i := int(k.sub - subInfra)
		item := infraItems[i]
		if occupied && s.central && s.infra[i] != infraDone {
			f = broken(v.p.infraOwners[item][0], "安置点%s配套设施未完成", infraNames[item])
			if detail {
				f.responsible = v.p.infraOwners[item]
				if s.infraReg[i].key != 0 {
					f.evidence = append(f.evidence, Evidence{Family: "infra." + item, Key: s.infraReg[i].key, Subject: s.id,
						Time: s.infraReg[i].eff.Time()})
				}
			}
			return f
		}
	case 13, 14:
		var have bool
		var dept, name string
		switch k.sub {
		case subClinic:
			have, dept, name = countOpen(s.clinics) > 0, "health", "卫生室(社区卫生服务站)"
		case subSchool:
			have, dept, name = countOpen(s.schools) > 0, "edu", "就近入学的学校"
		case subSelfGov:
			have, dept, name = countOpen(s.units) > 0, "civil", "社区自治单元"
		case subParty:
			have, dept, name = countOpen(s.party) > 0, "org", "党组织"
		}
		if occupied && s.central && !have {
			return broken(dept, "安置点无%s", name)
		}
	}
	return finding{}
}

// evalProject is R3 and R17.
func (v *View) evalProject(k wkey, detail bool) finding {
	p := v.projectList[k.idx]
	switch k.rule {
	case 3:
		if p.jobsTotal > 0 && (p.kind == "government_investment" || p.kind == "work_relief" || p.kind == "public_service_post") &&
			float64(p.jobsRelocated) < v.p.projectShare*float64(p.jobsTotal) {
			f := finding{broken: true, since: p.jobs.eff.Time()}
			if detail {
				f.responsible = []string{"hrss"}
				f.evidence = []Evidence{{Family: "hr.projectjobs", Key: p.jobs.key, Subject: p.id, Time: p.jobs.eff.Time()}}
				f.message = fmt.Sprintf("%d个岗位中安置搬迁群众%d个(%.0f%%), 低于30%%", p.jobsTotal, p.jobsRelocated,
					100*float64(p.jobsRelocated)/float64(p.jobsTotal))
			}
			return f
		}
	case 17:
		if p.otherArea.key == 0 {
			return finding{}
		}
		var unfinished []*site
		for _, s := range v.sites {
			if s.known && s.central && (p.area == v.cat.City.Code || s.county == p.area) && s.contrib[cInfraAll] == 0 {
				unfinished = append(unfinished, s)
			}
		}
		if len(unfinished) == 0 {
			return finding{}
		}
		f := finding{broken: true, since: p.otherArea.eff.Time()}
		if detail {
			sort.Slice(unfinished, func(i, j int) bool { return unfinished[i].id < unfinished[j].id })
			f.responsible = []string{"finance"}
			f.evidence = []Evidence{{Family: "finance.funds", Key: p.otherArea.key, Subject: p.id, Time: p.otherArea.eff.Time()}}
			for _, s := range unfinished[:min(len(unfinished), 5)] {
				f.evidence = append(f.evidence, v.siteEvidence(s)...)
			}
			f.message = fmt.Sprintf("%s有%d个集中安置点配套设施未到位, 项目资金%.2f元安排到其他区域",
				v.areaOf(p.area).name, len(unfinished), float64(p.otherAmount)/100)
		}
		return f
	}
	return finding{}
}

// evalDept is R18: every department publishes at least every N days
// (measured on the recorded clock from the hub's first tick).
func (v *View) evalDept(k wkey, detail bool) finding {
	code := v.deptCodes[k.idx]
	last := v.firstClock
	if x := v.depts[code]; x != nil && x.lastClock.After(last) {
		last = x.lastClock
	}
	n := time.Duration(v.p.freshnessDays) * 24 * time.Hour
	if last.IsZero() || v.clock.Sub(last) <= n {
		return finding{}
	}
	f := finding{broken: true, since: last.Add(n)}
	if detail {
		d, _ := v.cat.Department(code)
		f.responsible = []string{code}
		f.message = fmt.Sprintf("%s已%d天未更新共享信息", d.Name, int(v.clock.Sub(last).Hours()/24))
	}
	return f
}

// foldWarningEvent notes where the hub's own warning events landed in the log.
func (v *View) foldWarningEvent(e *fact.Entry) {
	if e.Family != "warning.raised" {
		return
	}
	var f fields
	f.parse(e.Data)
	id, ok := parseWarningID(f.str("warning_id"))
	if !ok || !f.is("level", "warning") {
		return
	}
	if k, ok := v.warnByID[id]; ok {
		v.warnings[k].seq = e.Seq
	}
}
