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
