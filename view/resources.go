package view

import "fmt"

// Natural resources (resources, forestry): deeds, homestead reclamation,
// land and forest rights, and R9 and R11.

// evalDeed is R9: a household's new home is registered and its property
// certificate issued (办理不动产产权登记, 核发不动产权证书) by the annex's
// deadline (2020年底前, the rule's params.deadline), and for a household that
// moved later within the grace days after moving.
func (v *View) evalDeed(k wkey, detail bool) finding {
	h, relocated, ok := v.householdJudged(k)
	if !ok {
		return finding{}
	}
	since, _ := v.graceOver(relocated, v.p.deedGraceDays)
	if v.p.deedDeadline != 0 {
		if end := v.p.deedDeadline.Time().AddDate(0, 0, 1); end.After(since) {
			since = end
		}
	}
	if v.clock.Before(since) || h.deed >= deedIssued {
		return finding{}
	}
	f := finding{broken: true, since: since}
	if detail {
		f.evidence = v.householdEvidence(h, hgRegistry, hgDeed)
		what := "未办理不动产登记"
		if h.deed == deedRegistered {
			what = "已登记但未核发不动产权证书"
		}
		f.message = fmt.Sprintf("搬迁%d天后安置房%s", int(v.clock.Sub(relocated).Hours()/24), what)
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

// foldDeed folds resources.deeds: the registration of a household's new
// home, which also places a household not yet at a site.
func foldDeed(x *householdFact) bool {
	h, f := x.h, x.f
	if !x.set(hgDeed) {
		return false
	}
	switch {
	case f.is("status", "certificate_issued"):
		h.deed = deedIssued
	case f.is("status", "registered"):
		h.deed = deedRegistered
	default:
		h.deed = deedApplied
	}
	h.deedDay = max(f.day("registered_on"), f.day("issued_on"))
	if h.site == 0 {
		if sid := f.str("site_id"); sid != "" {
			x.v.moveHousehold(x.hi, x.v.siteIndex(sid)+1)
		}
	}
	return true
}

// foldReclamation folds resources.reclamation: the stage of a household's
// old homestead.
func foldReclamation(x *householdFact) bool {
	h := x.h
	if !x.set(hgReclaim) {
		return false
	}
	h.reclaim = 0
	stage := x.f.str("stage")
	for i, s := range reclaimStages {
		if s == stage {
			h.reclaim = uint8(i)
		}
	}
	h.reclaimDay = x.f.day("effective_on")
	h.linkage = x.f.bool("in_linkage_project")
	return true
}

// evalLinkage is R21: the old homestead of a household, once reclaimed as
// farmland (拆旧复垦), is in an urban–rural construction land linkage
// project (全面纳入城乡建设用地增减挂钩项目) by the annex's deadline. A
// regreened homestead (复绿) yields no construction-land quota and is not
// asked for.
func (v *View) evalLinkage(k wkey, detail bool) finding {
	h, _, ok := v.householdJudged(k)
	if !ok || h.linkage || h.reclaim != reclaimReclaimed || v.p.linkageDeadline == 0 {
		return finding{}
	}
	since := later(v.p.linkageDeadline.Time().AddDate(0, 0, 1), h.reclaimDay.Time())
	if v.clock.Before(since) {
		return finding{}
	}
	f := finding{broken: true, since: since}
	if detail {
		f.evidence = v.householdEvidence(h, hgRegistry, hgReclaim)
		f.message = "旧宅基地已拆旧复垦, 未纳入城乡建设用地增减挂钩项目"
	}
	return f
}

// foldLandRights folds resources.landrights: the arrangement of a
// household's contracted land.
func foldLandRights(x *householdFact) bool {
	if !x.set(hgLand) {
		return false
	}
	x.h.land = arrangement(x.f)
	return true
}

// foldForestRights folds forestry.rights: the arrangement of a household's
// forest land.
func foldForestRights(x *householdFact) bool {
	if !x.set(hgForest) {
		return false
	}
	x.h.forest = arrangement(x.f)
	return true
}

// resourcesHouseholdBits is a household's deed registered, old homestead
// reclaimed, and land and forest rights recorded.
func resourcesHouseholdBits(h *household) bits {
	var b bits
	if h.deed >= deedIssued {
		b |= bit(cDeeds) // the certificate in hand (R9)
	}
	if h.reclaim >= reclaimReclaimed {
		b |= bit(cReclaimed)
	}
	if h.land != 0 {
		b |= bit(cLandRights)
	}
	if h.forest != 0 {
		b |= bit(cForestRights)
	}
	return b
}

// homesteadStates are the states of the homestead obligation: the
// reclamation stages, "not_vacated" before any.
var homesteadStates = append([]string{"not_vacated"}, reclaimStages[1:]...)

// resourcesHouseholdObligations are the household's deed, old homestead,
// and land and forest rights (forestry.rights is folded here too).
var resourcesHouseholdObligations = []householdObligation{
	{"title_deed", func(h *household) Obligation {
		return h.obligation(hgDeed, deedNames[h.deed], h.deed >= deedIssued)
	}},
	{"homestead", func(h *household) Obligation {
		return h.obligation(hgReclaim, homesteadStates[h.reclaim], h.reclaim >= reclaimReclaimed)
	}},
	{"land_rights", func(h *household) Obligation {
		return h.obligation(hgLand, arrangementNames[h.land], h.land != 0)
	}},
	{"forest_rights", func(h *household) Obligation {
		return h.obligation(hgForest, arrangementNames[h.forest], h.forest != 0)
	}},
}
