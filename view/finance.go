package view

import (
	"fmt"
	"sort"
)

// Finance (finance): project funds, and R17.

// evalFundsElsewhere is R17: a project's funds go elsewhere only once the
// infrastructure and public services of the centralized sites of its area
// are arranged (基础和公共服务配套设施安排到位: see servicesArranged).
func (v *View) evalFundsElsewhere(k wkey, detail bool) finding {
	p := v.projectList[k.idx]
	if p.otherArea.key == 0 {
		return finding{}
	}
	var unfinished []*site
	for _, s := range v.sites {
		if s.known && s.central && (p.area == v.cat.City.Code || s.county == p.area) && !servicesArranged(s) {
			unfinished = append(unfinished, s)
		}
	}
	if len(unfinished) == 0 {
		return finding{}
	}
	f := finding{broken: true, since: p.otherArea.eff.Time()}
	if detail {
		sort.Slice(unfinished, func(i, j int) bool { return unfinished[i].id < unfinished[j].id })
		f.evidence = []Evidence{{Family: "finance.funds", Key: p.otherArea.key, Subject: p.id, Time: p.otherArea.eff.Time()}}
		for _, s := range unfinished[:min(len(unfinished), 5)] {
			f.evidence = append(f.evidence, v.siteEvidence(s)...)
		}
		f.message = fmt.Sprintf("%s有%d个集中安置点基础和公共服务配套设施未安排到位, 项目资金%.2f元安排到其他区域",
			v.areaOf(p.area).name, len(unfinished), float64(p.otherAmount)/100)
	}
	return f
}

// servicesArranged says whether a site's infrastructure and public services
// are arranged (安排到位) — planned, under way or in place, not necessarily
// finished: each of the 8 infrastructure items has a state (planned,
// building, done, or not needed), a clinic is planned, being built or open,
// and a school of compulsory education admits the site's children.
func servicesArranged(s *site) bool {
	for _, st := range s.infra {
		if st == infraNone {
			return false
		}
	}
	return countArranged(s.clinics) > 0 && countArranged(s.schools, "primary", "junior") > 0
}

// foldFunds folds finance.funds: each allocation, disbursement or return
// is its own fact, and they add up; an allocation to another area than a
// resettlement site stands until returned (R17).
func foldFunds(x *projectFact) bool {
	v, p, f, e := x.v, x.p, x.f, x.e
	amount := f.fen("amount_yuan")
	a := v.areaOf(p.area)
	if sid := f.str("site_id"); sid != "" {
		a = v.sites[v.siteIndex(sid)].area
	}
	allocated, disbursed := FundsMovement(f.str("action"), amount)
	p.allocated += allocated
	p.disbursed += disbursed
	a.bumpOne(cFundsAllocated, allocated)
	a.bumpOne(cFundsDisbursed, disbursed)
	switch {
	case f.is("action", "allocated"):
		if f.is("target", "other_area") && p.otherArea.set(e) {
			p.otherAreaDay, p.otherAmount = f.day("dated_on"), amount
		}
	case f.is("action", "returned"):
		if p.otherArea.key != 0 && p.otherArea.set(e) {
			p.otherArea = reg{key: 0, eff: toETime(e.Time)} // the money came back
		}
	}
	return true
}

// FundsMovement is what one finance.funds fact of an action and amount (in
// fen) adds to its project's allocated and disbursed funds: an allocation
// (下达) adds to the allocated, a return (收回) takes from it, a
// disbursement (拨付) adds to the disbursed. The view and the auditors'
// funds ledger add up funds by it alone.
func FundsMovement(action string, fen int64) (allocated, disbursed int64) {
	switch action {
	case "allocated":
		return fen, 0
	case "returned":
		return -fen, 0
	case "disbursed":
		return 0, fen
	}
	return 0, 0
}

// ProjectFunds is a project's funds: allocated (下达, net of what was
// returned 收回) and disbursed (拨付), in fen.
type ProjectFunds struct {
	ProjectID string `json:"project_id"`
	// Area is the county (or the city's code) the project's facts name.
	Area      string `json:"area"`
	Allocated int64  `json:"allocated_fen"`
	Disbursed int64  `json:"disbursed_fen"`
}

// Funds returns every project with funds in an area (a county's code, the
// city's for the city's own, "" for all), ordered by area and project id.
// Projects known only by their jobs (hr.projectjobs) are left out.
func (v *View) Funds(area string) []ProjectFunds {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []ProjectFunds{}
	for _, p := range v.projectList {
		if (p.allocated == 0 && p.disbursed == 0) || (area != "" && p.area != area) {
			continue
		}
		out = append(out, ProjectFunds{ProjectID: p.id, Area: p.area, Allocated: p.allocated, Disbursed: p.disbursed})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Area != out[j].Area {
			return out[i].Area < out[j].Area
		}
		return out[i].ProjectID < out[j].ProjectID
	})
	return out
}
