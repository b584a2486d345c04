package view

import (
	"fmt"
	"strings"
)

// Health (medins, health): insurance, family-doctor contracts, clinics,
// and R7 and R13.

// evalInsurance is R7: every relocated person has basic medical and
// serious-illness insurance this year.
func (v *View) evalInsurance(k wkey, detail bool) finding {
	p := v.persons.at(k.idx)
	b := p.bits
	if !b.has(cPersons) || b.has(cInsuredBoth) {
		return finding{}
	}
	year := v.clock.Year()
	f := finding{broken: true, since: later(jan1(year), v.personRelocated(p))}
	if detail {
		f.evidence = v.personEvidence(k.idx, pgRegistry, pgBasic, pgSerious)
		missing := "基本医疗保险和大病保险"
		if b.has(cInsuredBasic) {
			missing = "大病保险"
		} else if b.has(cInsuredSerious) {
			missing = "基本医疗保险"
		}
		f.message = fmt.Sprintf("%d年未参加%s", year, missing)
	}
	return f
}

// evalClinicSchool is R13: an occupied centralized site has a clinic (part
// subClinic), and its children a school of compulsory education and a
// kindergarten that admit them nearby (part subSchool: 就近入学、入托).
func (v *View) evalClinicSchool(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	if !sc.occupied || !sc.s.central {
		return finding{}
	}
	var missing []string
	switch k.sub {
	case subClinic:
		if countOpen(sc.s.clinics) == 0 {
			missing = append(missing, "卫生室(社区卫生服务站)")
		}
	case subSchool:
		if countOpen(sc.s.schools, "primary", "junior") == 0 {
			missing = append(missing, "就近入学的义务教育学校")
		}
		if countOpen(sc.s.schools, "kindergarten") == 0 {
			missing = append(missing, "就近入托的幼儿园")
		}
	}
	if len(missing) > 0 {
		return v.siteBroken(sc, detail, "安置点无%s", strings.Join(missing, "、"))
	}
	return finding{}
}

// foldCoverage folds health.coverage: a person's basic medical or
// serious-illness insurance of a year. The register holds the latest year:
// a fact about an earlier year never overrides a later one.
func foldCoverage(x *personFact) bool {
	p, f := x.p, x.f
	g := pgBasic
	if f.is("scheme", "serious_illness") {
		g = pgSerious
	}
	year := uint16(f.int("year"))
	cur := &p.basicYear
	st := &p.basic
	if g == pgSerious {
		cur, st = &p.seriousYear, &p.serious
	}
	if year < *cur || (year == *cur && !newer(x.eff, x.key, p.eff[g], p.keys[g])) {
		return false
	}
	p.eff[g], p.keys[g] = x.eff, x.key
	*cur = year
	*st = coverageStatus(f)
	return true
}

// foldContract folds health.contract: a family doctor's contract.
func foldContract(x *personFact) bool {
	if !x.set(pgContract) {
		return false
	}
	if x.f.is("status", "ended") {
		x.p.contract = 0
	} else {
		x.p.contract = 1
	}
	return true
}

// foldClinic folds health.facility: a clinic at a site.
func foldClinic(x *siteFact) bool {
	fac, ok := x.facility(x.s.clinics, "facility_id")
	if ok {
		fac.kind, fac.open, fac.arranged = x.f.str("kind"), x.f.is("status", "open"), !x.f.is("status", "closed")
	}
	return ok
}

// healthPersonBits is a person's insurance this year (basic medical,
// serious illness, both) and family-doctor contract.
func (v *View) healthPersonBits(p *person) bits {
	var b bits
	year := uint16(v.clock.Year())
	basic := p.basicYear >= year && (p.basic == covEnrolled || p.basic == covExempt)
	serious := p.seriousYear >= year && (p.serious == covEnrolled || p.serious == covExempt)
	if basic {
		b |= bit(cInsuredBasic)
	}
	if serious {
		b |= bit(cInsuredSerious)
	}
	if basic && serious {
		b |= bit(cInsuredBoth)
	}
	if p.contract == 1 {
		b |= bit(cFamilyDoctor)
	}
	return b
}

// healthSiteContrib is a site served by an open clinic.
func healthSiteContrib(s *site, c *counters) {
	if countOpen(s.clinics) > 0 {
		c[cClinics] = 1
	}
}

// healthPersonObligations are a person's basic medical and serious-illness
// insurance this year, and family-doctor contract.
var healthPersonObligations = []personObligation{
	{"basic_medical", func(p *person) Obligation {
		return p.obligation(pgBasic, coverageState(p.basic, p.basicYear), p.bits.has(cInsuredBasic))
	}},
	{"serious_illness", func(p *person) Obligation {
		return p.obligation(pgSerious, coverageState(p.serious, p.seriousYear), p.bits.has(cInsuredSerious))
	}},
	{"family_doctor", func(p *person) Obligation {
		return p.obligation(pgContract, onOff(p.contract), p.contract == 1)
	}},
}

// healthHouseholdObligations is the household's members insured both ways
// this year.
var healthHouseholdObligations = []householdObligation{
	{"insurance", func(h *household) Obligation {
		return Obligation{State: ofMembers(h.mem[mInsuredBoth], h.mem[mMembers]), Met: h.mem[mInsuredBoth] == h.mem[mMembers]}
	}},
}
