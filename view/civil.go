package view

// Civil affairs and organisation (civil, org): assistance, community
// self-governance, party branches, and R14.

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
	}
	return ok
}

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
