package view

// Agriculture and industry (agri, industry, commerce): parks, workshops,
// benefit links, e-commerce, and R1.

// evalIndustry is R1: a large site has an industrial park; a smaller
// centralized site a workshop.
func (v *View) evalIndustry(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	switch {
	case sc.occupied && sc.persons >= v.p.largeSitePersons && sc.c[cParks] == 0:
		return v.siteBroken(sc, detail, "%d人安置点未配套扶贫产业园", sc.persons)
	case sc.occupied && sc.s.central && sc.persons < v.p.largeSitePersons && sc.c[cWorkshops] == 0:
		return v.siteBroken(sc, detail, "%d人集中安置点未配套扶贫车间或扶贫作坊", sc.persons)
	}
	return finding{}
}

// foldBenefit folds industry.benefit: a household's benefit link to an
// industry (带贫益贫) starting or ending.
func foldBenefit(x *householdFact) bool {
	if !x.set(hgBenefit) {
		return false
	}
	x.h.benefit = 1
	if x.f.is("status", "ended") {
		x.h.benefit = 0
	}
	return true
}

// foldPark folds industry.park: an industrial park serving a site.
func foldPark(x *siteFact) bool {
	fac, ok := x.facility(x.s.parks, "park_id")
	if ok {
		// A park being built serves nobody yet: R1 wants one operating.
		fac.kind, fac.open, fac.jobs = x.f.str("kind"), x.f.is("status", "operating"), x.f.int("jobs_relocated")
	}
	return ok
}

// foldEcommerce folds commerce.ecommerce: an e-commerce point at a site.
func foldEcommerce(x *siteFact) bool {
	fac, ok := x.facility(x.s.ecommerce, "point_id")
	if ok {
		fac.kind, fac.open = x.f.str("kind"), x.f.is("status", "open")
	}
	return ok
}

// industryHouseholdBits is a household with a benefit linkage (利益联结).
func industryHouseholdBits(h *household) bits {
	if h.benefit == 1 {
		return bit(cBenefit)
	}
	return 0
}

// industrySiteContrib is a site's industrial parks and e-commerce points.
func industrySiteContrib(s *site, c *counters) {
	c[cParks] = countOpen(s.parks)
	c[cEcommerce] = countOpen(s.ecommerce)
}

// industryHouseholdObligations is the household's benefit link (利益联结).
var industryHouseholdObligations = []householdObligation{
	{"benefit_link", func(h *household) Obligation { return h.obligation(hgBenefit, onOff(h.benefit), h.benefit == 1) }},
}
