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
