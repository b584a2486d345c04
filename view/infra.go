package view

import "strings"

// Infrastructure (infra.*): water, power, roads, gas, heating, sewage,
// telecom and sanitation at sites, and R12.

var infraNames = map[string]string{"water": "供水", "power": "供电", "road": "道路", "gas": "燃气",
	"heating": "供暖", "sewage": "污水管网", "telecom": "通信", "sanitation": "环卫"}

// evalInfrastructure is R12: an occupied centralized site has every
// infrastructure item done (one part per item), unless the item's owner
// declared that the site does not need it (按照“缺什么补什么”的原则: status
// not_needed).
func (v *View) evalInfrastructure(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	s := sc.s
	i := int(k.sub - subInfra)
	item := infraItems[i]
	if !sc.occupied || !s.central || infraMet(s.infra[i]) {
		return finding{}
	}
	f := v.siteBroken(sc, detail, "安置点%s配套设施未完成", infraNames[item])
	if detail && s.infraReg[i].key != 0 {
		f.evidence = append(f.evidence, Evidence{Family: "infra." + item, Key: s.infraReg[i].key, Subject: s.id,
			Time: s.infraReg[i].eff.Time()})
	}
	return f
}

// foldInfra makes the site fold of the infrastructure item i's family
// (infra.<item>): the item's status and completion day.
func foldInfra(i int) siteFold {
	return func(x *siteFact) bool {
		s, f := x.s, x.f
		if !s.infraReg[i].set(x.e) {
			return false
		}
		switch {
		case f.is("status", "done"):
			s.infra[i] = infraDone
		case f.is("status", "building"):
			s.infra[i] = infraBuilding
		case f.is("status", "not_needed"):
			s.infra[i] = infraNotNeeded
		default:
			s.infra[i] = infraPlanned
		}
		s.infraDay[i] = f.day("completed_on")
		return true
	}
}

// evalHousingQuality is R20: by the annex's deadline an occupied
// centralized site has its major-repair fund (大修基金), and its houses have
// not failed a quality inspection left unrectified (工程质量管理).
func (v *View) evalHousingQuality(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	s := sc.s
	if !sc.occupied || !s.central || v.p.housingDeadline == 0 {
		return finding{}
	}
	var missing []string
	if !s.repairFund {
		missing = append(missing, "未建立大修基金")
	}
	if s.inspection == "fail" || s.inspection == "rectifying" {
		missing = append(missing, "安置房质量检查不合格, 尚未整改完成")
	}
	since := later(v.p.housingDeadline.Time().AddDate(0, 0, 1), sc.since)
	if len(missing) == 0 || v.clock.Before(since) {
		return finding{}
	}
	sc.since = since
	f := v.siteBroken(sc, detail, "安置点%s", strings.Join(missing, "; "))
	if detail && s.housing.key != 0 {
		f.evidence = append(f.evidence, Evidence{Family: "housing.quality", Key: s.housing.key, Subject: s.id, Time: s.housing.eff.Time()})
	}
	return f
}

// foldHousingQuality folds housing.quality: a site's repair fund, or the
// result of its latest housing inspection.
func foldHousingQuality(x *siteFact) bool {
	if x.f.is("kind", "repair_fund") {
		x.s.repairFund = true
	} else if x.s.housing.set(x.e) {
		x.s.inspection = x.f.str("result")
	}
	return true
}

// infraContrib is a site's infrastructure items done, and whether all
// eight are in place (done or not needed).
func infraContrib(s *site, c *counters) {
	all := int64(1)
	for i, st := range s.infra {
		if st == infraDone {
			c[infraCounters[i]] = 1
		}
		if !infraMet(st) {
			all = 0
		}
	}
	c[cInfraAll] = all
}
