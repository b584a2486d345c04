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
	v.dirtyPersons.each(func(pi uint32) { v.judgePerson(pi, out) })
	v.dirtyHouseholds.each(func(hi uint32) { v.judgeHousehold(hi, out) })
	for si := range v.dirtySites {
		v.judgeSite(si, out)
		// A site finishing (or losing) its infrastructure changes R17 for
		// the projects of its county.
		for _, p := range v.projects {
			if p.otherArea.key != 0 && (p.area == v.sites[si].county || p.area == v.cat.City.Code) {
				v.dirtyProjects[p.id] = struct{}{}
			}
		}
	}
	for id := range v.dirtyProjects {
		v.judgeProject(v.projects[id], out)
	}
	v.judgeDepartments(out)
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

// judgePerson evaluates R6, R7 and R8 on a person.
func (v *View) judgePerson(pi uint32, out *[]Change) {
	p := v.persons.at(pi)
	entity := hex.EncodeToString(v.personKeys.at(pi)[:])
	var relocated time.Time
	areaCode := ""
	if p.hh != 0 {
		h := v.households.at(p.hh-1)
		relocated = h.relocated.Time()
		if h.relocated == 0 {
			relocated = time.Time{}
		}
		areaCode = countyOfHousehold(h.key)
	}
	b := p.bits
	year := v.clock.Year()
	base := finding{kind: "person", entity: entity, area: areaCode}

	r6 := base
	if b.has(cSchoolAge) && !b.has(cEnrolled) {
		r6.broken = true
		r6.since = later(time.Date(int(p.birthYear)+v.p.schoolMinAge, 9, 1, 0, 0, 0, 0, time.UTC), relocated, p.eff[pgEnrol].Time())
		r6.responsible = []string{"edu"}
		r6.evidence = v.personEvidence(pi, pgRegistry, pgEnrol)
		r6.message = fmt.Sprintf("适龄儿童(%d年出生)未在学: 义务教育未保障", p.birthYear)
	}
	v.judge("R6", r6, out)

	r7 := base
	if b.has(cPersons) && !b.has(cInsuredBoth) {
		r7.broken = true
		r7.since = later(jan1(year), relocated)
		r7.responsible = []string{"medins"}
		r7.evidence = v.personEvidence(pi, pgRegistry, pgBasic, pgSerious)
		missing := "基本医疗保险和大病保险"
		if b.has(cInsuredBasic) {
			missing = "大病保险"
		} else if b.has(cInsuredSerious) {
			missing = "基本医疗保险"
		}
		r7.message = fmt.Sprintf("%d年未参加%s", year, missing)
	}
	v.judge("R7", r7, out)

	r8 := base
	if b.has(cPensionEligible) && !b.has(cPensionEnrolled) {
		r8.broken = true
		r8.since = later(jan1(year), relocated, jan1(int(p.birthYear)+v.p.pensionMinAge))
		r8.responsible = []string{"hrss"}
		r8.evidence = v.personEvidence(pi, pgRegistry, pgPension)
		r8.message = fmt.Sprintf("%d年未参加基本养老保险", year)
	}
	v.judge("R8", r8, out)
}

// judgeHousehold evaluates R4, R9, R10 and R11 on a household.
func (v *View) judgeHousehold(hi uint32, out *[]Change) {
	h := v.households.at(hi)
	id := householdID(h.key)
	areaCode := countyOfHousehold(h.key)
	relocated := h.relocated.Time()
	if h.relocated == 0 {
		relocated = h.eff[hgRegistry].Time()
	}
	active := h.registered && h.status == statusActive
	today := v.clock
	base := finding{kind: "household", entity: id, area: areaCode}

	r4 := base
	if active && h.bits.has(cZeroEmployment) {
		r4.broken = true
		var lastEmp time.Time
		var emp []Evidence
		for q := h.first; q != 0; q = v.persons.at(q-1).next {
			p := v.persons.at(q-1)
			if p.keys[pgEmploy] != 0 {
				lastEmp = later(lastEmp, p.eff[pgEmploy].Time())
				emp = append(emp, v.personEvidence(q-1, pgEmploy)...)
			}
		}
		ev := append(v.householdEvidence(h, hgRegistry), firstEvidence(emp, 5)...)
		r4.since = later(relocated, lastEmp)
		r4.responsible = []string{"hrss"}
		r4.evidence = ev
		r4.message = fmt.Sprintf("零就业户: %d个劳动力, 无人就业", max(int(h.labourCount), int(h.mem[mLabour])))
	}
	v.judge("R4", r4, out)

	graceBroken := func(grace int) (time.Time, bool) {
		at := relocated.AddDate(0, 0, grace)
		return at, active && !today.Before(at)
	}
	r9 := base
	if since, due := graceBroken(v.p.deedGraceDays); due && h.deed < deedRegistered {
		r9.broken, r9.since = true, since
		r9.responsible = []string{"resources"}
		r9.evidence = v.householdEvidence(h, hgRegistry, hgDeed)
		r9.message = fmt.Sprintf("搬迁%d天后安置房未办理不动产登记", int(today.Sub(relocated).Hours()/24))
	}
	v.judge("R9", r9, out)

	r10 := base
	if since, due := graceBroken(v.p.hukouGraceDays); due && h.mem[mMembers] > 0 && h.mem[mHukou] < h.mem[mMembers] {
		r10.broken, r10.since = true, since
		r10.responsible = []string{"police"}
		var hk []Evidence
		for q := h.first; q != 0; q = v.persons.at(q-1).next {
			hk = append(hk, v.personEvidence(q-1, pgHukou)...)
		}
		r10.evidence = append(v.householdEvidence(h, hgRegistry), firstEvidence(hk, 5)...)
		r10.message = fmt.Sprintf("%d名成员中%d名未迁移户籍或办理居住证", h.mem[mMembers], h.mem[mMembers]-h.mem[mHukou])
	}
	v.judge("R10", r10, out)

	r11 := base
	if since, due := graceBroken(v.p.reclaimGraceDays); due && h.reclaim < reclaimReclaimed {
		r11.broken, r11.since = true, since
		r11.responsible = []string{"resources"}
		r11.evidence = v.householdEvidence(h, hgRegistry, hgReclaim)
		stage := "未腾退"
		if h.reclaim > 0 {
			stage = "仅" + map[uint8]string{1: "腾空", 2: "收回", 3: "拆除"}[h.reclaim]
		}
		r11.message = "旧宅基地" + stage + ", 未复垦复绿"
	}
	v.judge("R11", r11, out)
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

// judgeSite evaluates R1, R2, R5, R12, R13 and R14 on a site.
func (v *View) judgeSite(si uint32, out *[]Change) {
	s := v.sites[si]
	c := &s.area.c
	persons := max(c[cPersons], s.planPop)
	households := max(c[cHouseholds], s.planHH)
	occupied := s.known && s.status != "planned" && s.status != "closed" && (s.households > 0 || s.status == "occupied")
	since := later(s.done.Time(), s.reg.eff.Time())
	if s.done == 0 {
		since = s.reg.eff.Time()
	}
	base := finding{kind: "site", entity: s.id, area: s.county, since: since, evidence: v.siteEvidence(s)}

	r1 := base
	switch {
	case occupied && persons >= v.p.largeSitePersons && c[cParks] == 0:
		r1.broken, r1.responsible = true, []string{"agri"}
		r1.message = fmt.Sprintf("%d人安置点未配套扶贫产业园", persons)
	case occupied && s.central && persons < v.p.largeSitePersons && c[cWorkshops] == 0:
		r1.broken, r1.responsible = true, []string{"agri"}
		r1.message = fmt.Sprintf("%d人集中安置点未配套扶贫车间或扶贫作坊", persons)
	}
	v.judge("R1", r1, out)

	r2 := base
	if occupied && s.central && households >= v.p.factoryHouseholds &&
		countOpen(s.workshops, "community_factory", "poverty_workshop") == 0 {
		r2.broken, r2.responsible = true, []string{"hrss"}
		r2.message = fmt.Sprintf("%d户集中安置点未创办社区工厂或扶贫车间", households)
	}
	v.judge("R2", r2, out)

	r5 := base
	if due := c[cTrainedDue]; due >= v.p.trainMin && float64(c[cTrainedEmployed]) < v.p.trainShare*float64(due) {
		r5.broken, r5.responsible = true, []string{"hrss"}
		r5.message = fmt.Sprintf("培训合格%d人, 6个月内就业%d人(%.0f%%), 低于50%%", due, c[cTrainedEmployed],
			100*float64(c[cTrainedEmployed])/float64(due))
	}
	v.judge("R5", r5, out)

	for i, item := range infraItems {
		r12 := base
		r12.entity = s.id + "/" + item
		if occupied && s.central && s.infra[i] != infraDone {
			r12.broken, r12.responsible = true, v.p.infraOwners[item]
			if s.infraReg[i].key != 0 {
				r12.evidence = append(append([]Evidence(nil), base.evidence...), Evidence{Family: "infra." + item,
					Key: s.infraReg[i].key, Subject: s.id, Time: s.infraReg[i].eff.Time()})
			}
			r12.message = "安置点" + infraNames[item] + "配套设施未完成"
		}
		v.judge("R12", r12, out)
	}

	for _, need := range []struct {
		rule, what, dept, name string
		have                   bool
	}{
		{"R13", "clinic", "health", "卫生室(社区卫生服务站)", countOpen(s.clinics) > 0},
		{"R13", "school", "edu", "就近入学的学校", countOpen(s.schools) > 0},
		{"R14", "self_governance", "civil", "社区自治单元", countOpen(s.units) > 0},
		{"R14", "party", "org", "党组织", countOpen(s.party) > 0},
	} {
		f := base
		f.entity = s.id + "/" + need.what
		if occupied && s.central && !need.have {
			f.broken, f.responsible = true, []string{need.dept}
			f.message = "安置点无" + need.name
		}
		v.judge(need.rule, f, out)
	}
}

var infraNames = map[string]string{"water": "供水", "power": "供电", "road": "道路", "gas": "燃气",
	"heating": "供暖", "sewage": "污水管网", "telecom": "通信", "sanitation": "环卫"}

// judgeProject evaluates R3 and R17 on a project.
func (v *View) judgeProject(p *project, out *[]Change) {
	base := finding{kind: "project", entity: p.id, area: p.area}
	r3 := base
	if p.jobsTotal > 0 && (p.kind == "government_investment" || p.kind == "work_relief" || p.kind == "public_service_post") &&
		float64(p.jobsRelocated) < v.p.projectShare*float64(p.jobsTotal) {
		r3.broken, r3.responsible = true, []string{"hrss"}
		r3.since = p.jobs.eff.Time()
		r3.evidence = []Evidence{{Family: "hr.projectjobs", Key: p.jobs.key, Subject: p.id, Time: p.jobs.eff.Time()}}
		r3.message = fmt.Sprintf("%d个岗位中安置搬迁群众%d个(%.0f%%), 低于30%%", p.jobsTotal, p.jobsRelocated,
			100*float64(p.jobsRelocated)/float64(p.jobsTotal))
	}
	v.judge("R3", r3, out)

	r17 := base
	if p.otherArea.key != 0 {
		var unfinished []*site
		for _, s := range v.sites {
			if s.known && s.central && (p.area == v.cat.City.Code || s.county == p.area) && s.contrib[cInfraAll] == 0 {
				unfinished = append(unfinished, s)
			}
		}
		if len(unfinished) > 0 {
			sort.Slice(unfinished, func(i, j int) bool { return unfinished[i].id < unfinished[j].id })
			r17.broken, r17.responsible = true, []string{"finance"}
			r17.since = p.otherArea.eff.Time()
			r17.evidence = []Evidence{{Family: "finance.funds", Key: p.otherArea.key, Subject: p.id, Time: p.otherArea.eff.Time()}}
			for _, s := range unfinished[:min(len(unfinished), 5)] {
				r17.evidence = append(r17.evidence, v.siteEvidence(s)...)
			}
			r17.message = fmt.Sprintf("%s有%d个集中安置点配套设施未到位, 项目资金%.2f元安排到其他区域",
				v.areaOf(p.area).name, len(unfinished), float64(p.otherAmount)/100)
		}
	}
	v.judge("R17", r17, out)
}

// judgeDepartments evaluates R18: every department publishes at least every
// N days (measured on the recorded clock from the hub's first tick).
func (v *View) judgeDepartments(out *[]Change) {
	n := time.Duration(v.p.freshnessDays) * 24 * time.Hour
	for _, d := range v.cat.Departments() {
		f := finding{kind: "department", entity: d.Code, area: v.cat.City.Code}
		last := v.firstClock
		if x := v.depts[d.Code]; x != nil && x.lastClock.After(last) {
			last = x.lastClock
		}
		if !last.IsZero() && v.clock.Sub(last) > n {
			f.broken, f.since = true, last.Add(n)
			f.responsible = []string{d.Code}
			f.message = fmt.Sprintf("%s已%d天未更新共享信息", d.Name, int(v.clock.Sub(last).Hours()/24))
		}
		v.judge("R18", f, out)
	}
}

// foldWarningEvent notes where the hub's own warning events landed in the log.
func (v *View) foldWarningEvent(e *fact.Entry) {
	if e.Family != "warning.raised" {
		return
	}
	var f fields
	f.parse(e.Data)
	if k, ok := v.warnByID[f.str("warning_id")]; ok && f.is("level", "warning") {
		v.warnings[k].Seq = e.Seq
	}
}
