package view

import "fmt"

// Natural resources (resources, forestry): deeds, homestead reclamation,
// land and forest rights, and R9 and R11.

// evalDeed is R9: a household's new home is registered (不动产登记) within
// the grace days after moving.
func (v *View) evalDeed(k wkey, detail bool) finding {
	h, relocated, ok := v.householdJudged(k)
	if !ok {
		return finding{}
	}
	since, due := v.graceOver(relocated, v.p.deedGraceDays)
	if !due || h.deed >= deedRegistered {
		return finding{}
	}
	f := finding{broken: true, since: since}
	if detail {
		f.evidence = v.householdEvidence(h, hgRegistry, hgDeed)
		f.message = fmt.Sprintf("搬迁%d天后安置房未办理不动产登记", int(v.clock.Sub(relocated).Hours()/24))
	}
	return f
}

// evalReclamation is R11: a household's old homestead is reclaimed within
// the grace days after moving.
func (v *View) evalReclamation(k wkey, detail bool) finding {
	h, relocated, ok := v.householdJudged(k)
	if !ok {
		return finding{}
	}
	since, due := v.graceOver(relocated, v.p.reclaimGraceDays)
	if !due || h.reclaim >= reclaimReclaimed {
		return finding{}
	}
	f := finding{broken: true, since: since}
	if detail {
		f.evidence = v.householdEvidence(h, hgRegistry, hgReclaim)
		stage := "未腾退"
		if h.reclaim > 0 {
			stage = "仅" + map[uint8]string{1: "腾空", 2: "收回", 3: "拆除"}[h.reclaim]
		}
		f.message = "旧宅基地" + stage + ", 未复垦复绿"
	}
	return f
}
