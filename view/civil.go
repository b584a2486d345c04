package view

import (
	"fmt"
	"sort"
	"strings"
)

// Civil affairs and organisation (civil, org): assistance, community
// self-governance, party branches, R14 and R25.

// evalSelfGovernance is R14: an occupied centralized site has a community
// self-governance unit (part subSelfGov) and a party organisation (part
// subParty).
func (v *View) evalSelfGovernance(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	var have bool
	var name string
	switch k.sub {
	case subSelfGov:
		have, name = countOpen(sc.s.units) > 0, "社区自治单元"
	case subParty:
		have, name = countOpen(sc.s.party) > 0, "党组织"
	}
	if sc.occupied && sc.s.central && !have {
		return v.siteBroken(sc, detail, "安置点无%s", name)
	}
	return finding{}
}

// foldAssistance folds civil.assistance: a household's dibao, tekun or
// temporary assistance starting or ending.
func foldAssistance(x *householdFact) bool {
	h, f := x.h, x.f
	g, target := hgTemporary, &h.temporary
	switch {
	case f.is("kind", "dibao"):
		g, target = hgDibao, &h.dibao
	case f.is("kind", "tekun"):
		g, target = hgTekun, &h.tekun
	}
	if !x.set(g) {
		return false
	}
	*target = 1
	if f.is("action", "ended") {
		*target = 0
	}
	return true
}

// foldCommunity folds civil.community: a self-governance unit at a site.
func foldCommunity(x *siteFact) bool {
	fac, ok := x.facility(x.s.units, "unit_id")
	if ok {
		fac.kind, fac.open = x.f.str("form"), true
		// -1: not reported (R25 judges only what is reported beside its
		// benchmark).
		reported := func(name string) int64 {
			if !x.f.has(name) {
				return -1
			}
			return x.f.fen(name)
		}
		fac.budget, fac.urbanBudget = reported("annual_budget_yuan"), x.f.fen("urban_budget_yuan")
		fac.pay, fac.urbanPay = reported("cadre_pay_yuan"), x.f.fen("urban_cadre_pay_yuan")
	}
	return ok
}

// evalCommunityFunds is R25: a site's self-governance unit has a yearly
// operating budget and its cadres a basic pay not below those of an urban
// community of the same size (annex 25-2), where both are reported. The
// county government answers for it, with 民政.
func (v *View) evalCommunityFunds(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	if !sc.occupied {
		return finding{}
	}
	var short []string
	ids := make([]string, 0, len(sc.s.units))
	for id := range sc.s.units {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		x := sc.s.units[id]
		if x.urbanBudget > 0 && x.budget >= 0 && x.budget < x.urbanBudget {
			short = append(short, fmt.Sprintf("%s运转经费%s元低于城市社区标准%s元", id, yuan(x.budget), yuan(x.urbanBudget)))
		}
		if x.urbanPay > 0 && x.pay >= 0 && x.pay < x.urbanPay {
			short = append(short, fmt.Sprintf("%s干部基本薪酬%s元低于城市社区标准%s元", id, yuan(x.pay), yuan(x.urbanPay)))
		}
	}
	if len(short) == 0 {
		return finding{}
	}
	return v.siteBroken(sc, detail, "%s", strings.Join(short, "; "))
}

// yuan shows an amount in fen as yuan with two decimals.
func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// foldPartyBranch folds org.partybranch: a party organisation at a site.
func foldPartyBranch(x *siteFact) bool {
	fac, ok := x.facility(x.s.party, "org_id")
	if ok {
		fac.kind, fac.open = x.f.str("kind"), true
	}
	return ok
}

// foldConsultation folds justice.consultation: legal consultations held at
// a site add up.
func foldConsultation(x *siteFact) bool {
	x.s.legal += x.f.int("consultations")
	return true
}

// civilHouseholdBits is a household on minimum-living allowance (低保) or
// extreme-poverty support (特困).
func civilHouseholdBits(h *household) bits {
	var b bits
	if h.dibao == 1 {
		b |= bit(cDibao)
	}
	if h.tekun == 1 {
		b |= bit(cTekun)
	}
	return b
}

// civilSiteContrib is a site's party organisation, self-governance unit
// and legal consultations.
func civilSiteContrib(s *site, c *counters) {
	if countOpen(s.party) > 0 {
		c[cParty] = 1
	}
	if countOpen(s.units) > 0 {
		c[cSelfGovernance] = 1
	}
	c[cLegalServices] = s.legal
}

// civilHouseholdObligations are the household's minimum-living allowance
// (低保) and extreme-poverty support (特困).
var civilHouseholdObligations = []householdObligation{
	{"dibao", func(h *household) Obligation { return h.obligation(hgDibao, onOff(h.dibao), h.dibao == 1) }},
	{"tekun", func(h *household) Obligation { return h.obligation(hgTekun, onOff(h.tekun), h.tekun == 1) }},
}
