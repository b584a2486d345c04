package view

import (
	"fmt"
	"sort"
)

// Finance (finance): project funds, and R17.

// evalFundsElsewhere is R17: a project's funds go elsewhere only once the
// centralized sites of its area have their infrastructure.
func (v *View) evalFundsElsewhere(k wkey, detail bool) finding {
	p := v.projectList[k.idx]
	if p.otherArea.key == 0 {
		return finding{}
	}
	var unfinished []*site
	for _, s := range v.sites {
		if s.known && s.central && (p.area == v.cat.City.Code || s.county == p.area) && s.contrib[cInfraAll] == 0 {
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
		f.message = fmt.Sprintf("%s有%d个集中安置点配套设施未到位, 项目资金%.2f元安排到其他区域",
			v.areaOf(p.area).name, len(unfinished), float64(p.otherAmount)/100)
	}
	return f
}
