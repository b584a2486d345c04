package view

import (
	"fmt"
	"slices"
	"time"
)

// Human resources and social security (hrss): employment, training,
// pensions, workshops, project jobs, and R2, R3, R4, R5 and R8.

// evalPension is R8: a person of working age and over is in the basic
// pension insurance this year.
func (v *View) evalPension(k wkey, detail bool) finding {
	p := v.persons.at(k.idx)
	if !p.bits.has(cPensionEligible) || p.bits.has(cPensionEnrolled) {
		return finding{}
	}
	year := v.clock.Year()
	f := finding{broken: true, since: later(jan1(year), v.personRelocated(p), jan1(int(p.birthYear)+v.p.pensionMinAge))}
	if detail {
		f.evidence = v.personEvidence(k.idx, pgRegistry, pgPension)
		f.message = fmt.Sprintf("%d年未参加基本养老保险", year)
	}
	return f
}

// evalZeroEmployment is R4: no household is left with labour and nobody
// employed (零就业户).
func (v *View) evalZeroEmployment(k wkey, detail bool) finding {
	h, relocated, ok := v.householdJudged(k)
	if !ok || !h.bits.has(cZeroEmployment) {
		return finding{}
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
	f := finding{broken: true, since: later(relocated, lastEmp)}
	if detail {
		f.evidence = append(v.householdEvidence(h, hgRegistry), firstEvidence(emp, 5)...)
		f.message = fmt.Sprintf("零就业户: %d个劳动力, 无人就业", max(int(h.labourCount), int(h.mem[mLabour])))
	}
	return f
}

// evalCommunityFactory is R2: a centralized site of many households has a
// community factory or poverty workshop.
func (v *View) evalCommunityFactory(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	if sc.occupied && sc.s.central && sc.households >= v.p.factoryHouseholds && countOpen(sc.s.workshops, "community_factory", "poverty_workshop") == 0 {
		return v.siteBroken(sc, detail, "%d户集中安置点未创办社区工厂或扶贫车间", sc.households)
	}
	return finding{}
}

// evalTrainingEmployment is R5: of a site's persons who passed a training,
// enough are employed within the months after it.
func (v *View) evalTrainingEmployment(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	c := sc.c
	if due := c[cTrainedDue]; due >= v.p.trainMin && float64(c[cTrainedEmployed]) < v.p.trainShare*float64(due) {
		return v.siteBroken(sc, detail, "培训合格%d人, %d个月内就业%d人(%.0f%%), 低于%.0f%%", due, v.p.trainMonths, c[cTrainedEmployed],
			100*float64(c[cTrainedEmployed])/float64(due), 100*v.p.trainShare)
	}
	return finding{}
}

// evalProjectJobs is R3: a government-funded project gives its share of
// jobs to relocated persons.
func (v *View) evalProjectJobs(k wkey, detail bool) finding {
	p := v.projectList[k.idx]
	if p.jobsTotal > 0 && v.quotaKind(p.kind) &&
		float64(p.jobsRelocated) < v.p.projectShare*float64(p.jobsTotal) {
		f := finding{broken: true, since: p.jobs.eff.Time()}
		if detail {
			f.evidence = []Evidence{{Family: "hr.projectjobs", Key: p.jobs.key, Subject: p.id, Time: p.jobs.eff.Time()}}
			f.message = fmt.Sprintf("%d个岗位中安置搬迁群众%d个(%.0f%%), 低于%.0f%%", p.jobsTotal, p.jobsRelocated,
				100*float64(p.jobsRelocated)/float64(p.jobsTotal), 100*v.p.projectShare)
		}
		return f
	}
	return finding{}
}

// foldPensionFact folds hr.pension: a person's basic pension insurance of a
// year (the latest year wins).
func foldPensionFact(x *personFact) bool {
	p, f := x.p, x.f
	year := uint16(f.int("year"))
	if year < p.pensionYear || (year == p.pensionYear && !newer(x.eff, x.key, p.eff[pgPension], p.keys[pgPension])) {
		return false
	}
	p.eff[pgPension], p.keys[pgPension] = x.eff, x.key
	p.pensionYear = year
	switch {
	case f.is("status", "enrolled"), f.is("status", "receiving"):
		p.pension = covEnrolled
	case f.is("status", "exempt"):
		p.pension = covExempt
	default:
		p.pension = covLapsed
	}
	return true
}

// foldEmployment folds hr.employment: whether and how a person works.
func foldEmployment(x *personFact) bool {
	p, f := x.p, x.f
	if !x.set(pgEmploy) {
		return false
	}
	if f.is("status", "employed") {
		p.emp = empEmployed
	} else {
		p.emp = empUnemployed
	}
	p.empKind = employmentKind(f.str("kind"))
	p.empStart, p.empEnd = f.day("start_on"), f.day("end_on")
	return true
}

// foldTraining folds hr.training: only a passed training (培训合格) counts,
// the latest completion wins.
func foldTraining(x *personFact) bool {
	p, f := x.p, x.f
	if !f.bool("passed") {
		return false
	}
	done := f.day("completed_on")
	if done < p.trainDone || (done == p.trainDone && !newer(x.eff, x.key, p.eff[pgTrain], p.keys[pgTrain])) {
		return false
	}
	p.eff[pgTrain], p.keys[pgTrain] = x.eff, x.key
	p.trainDone, p.trainPassed = done, 1
	return true
}

// foldWorkshop folds hr.workshop: a community factory or workshop at a site.
func foldWorkshop(x *siteFact) bool {
	fac, ok := x.facility(x.s.workshops, "workshop_id")
	if ok {
		fac.kind, fac.open, fac.jobs = x.f.str("kind"), x.f.is("status", "open"), x.f.int("relocated_employed")
	}
	return ok
}

// foldProjectJobs folds hr.projectjobs: the jobs of a project and how many
// went to relocated persons (R3).
func foldProjectJobs(x *projectFact) bool {
	p, f := x.p, x.f
	if !p.jobs.set(x.e) {
		return false
	}
	// The area's project jobs (and the rate) count only the projects the
	// 30% applies to, as R3 judges them.
	a := x.v.areaOf(p.area)
	if x.v.quotaKind(p.kind) {
		a.bumpOne(cProjectJobs, -p.jobsTotal)
		a.bumpOne(cProjectJobsRelocated, -p.jobsRelocated)
	}
	p.kind, p.jobsTotal, p.jobsRelocated = f.str("kind"), f.int("jobs_total"), f.int("jobs_relocated")
	if x.v.quotaKind(p.kind) {
		a.bumpOne(cProjectJobs, p.jobsTotal)
		a.bumpOne(cProjectJobsRelocated, p.jobsRelocated)
	}
	return true
}

// quotaKind says whether R3's share applies to a kind of project (政府投资
// 建设项目、以工代赈项目、社会管理和公共服务岗位: the rule's params.kinds).
func (v *View) quotaKind(kind string) bool { return slices.Contains(v.p.projectQuotaKinds, kind) }

// hrPersonBits is a person's pension insurance, employment today, and
// passed training with employment within the months after it.
func (v *View) hrPersonBits(p *person, today day) bits {
	var b bits
	if v.age(p) >= v.p.pensionMinAge && p.labour != labourStudent {
		b |= bit(cPensionEligible)
		// Pension insurance (参保) is a standing enrolment, not a yearly one:
		// enrolled until a fact says it lapsed.
		if p.pension == covEnrolled || p.pension == covExempt {
			b |= bit(cPensionEnrolled)
		}
	}
	if p.emp == empEmployed && (p.empStart == 0 || p.empStart <= today) && (p.empEnd == 0 || p.empEnd >= today) {
		b |= bit(cEmployed)
	}
	if p.trainPassed == 1 {
		b |= bit(cTrained)
		due := toDay(p.trainDone.Time().AddDate(0, v.p.trainMonths, 0))
		if due <= today {
			b |= bit(cTrainedDue)
			if p.emp == empEmployed && p.empStart != 0 && p.empStart <= due && (p.empEnd == 0 || p.empEnd >= p.trainDone) {
				b |= bit(cTrainedEmployed)
			}
		}
	}
	return b
}

// hrHouseholdBits is a household with labour, and with someone employed
// or none (零就业户).
func hrHouseholdBits(h *household) bits {
	var b bits
	if h.labourCount > 0 || h.mem[mLabour] > 0 {
		b |= bit(cHouseholdsLabour)
		if h.mem[mEmployed] > 0 {
			b |= bit(cHouseholdsEmployed)
		} else {
			b |= bit(cZeroEmployment)
		}
	}
	return b
}

// hrSiteContrib is a site's open workshops, and of them community
// factories.
func hrSiteContrib(s *site, c *counters) {
	c[cWorkshops] = countOpen(s.workshops)
	c[cFactories] = countOpen(s.workshops, "community_factory")
}

// hrPersonObligations are a person's pension insurance (met unless
// eligible and not enrolled), employment today and passed training.
var hrPersonObligations = []personObligation{
	{"pension", func(p *person) Obligation {
		return p.obligation(pgPension, coverageState(p.pension, p.pensionYear), !p.bits.has(cPensionEligible) || p.bits.has(cPensionEnrolled))
	}},
	{"employment", func(p *person) Obligation {
		return p.obligation(pgEmploy, employmentNames[p.emp], p.bits.has(cEmployed))
	}},
	{"training", func(p *person) Obligation {
		state := "none"
		if p.trainPassed == 1 {
			state = "passed " + p.trainDone.String()
		}
		return p.obligation(pgTrain, state, p.trainPassed == 1)
	}},
}

// hrHouseholdObligations is the household's employment: someone employed,
// or met anyway while the household has no labour.
var hrHouseholdObligations = []householdObligation{
	{"employment", func(h *household) Obligation {
		state := "zero_employment"
		if h.bits.has(cHouseholdsEmployed) {
			state = "someone_employed"
		}
		return Obligation{State: state, Met: !h.bits.has(cZeroEmployment)}
	}},
}
