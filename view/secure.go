package view

import (
	"fmt"
	"strings"
)

// 两不愁三保障 by 2020 (R23): the guidance's headline outcome, per household.

// evalSecure is R23: after the annex's deadline (2020年底前), and once a
// household has lived at its site for the grace days, it is 两不愁三保障 as
// the view can see it (secure): every school-age child enrolled, every
// member insured, and an income.
func (v *View) evalSecure(k wkey, detail bool) finding {
	h, relocated, ok := v.householdJudged(k)
	if !ok || v.p.secureDeadline == 0 {
		return finding{}
	}
	since, _ := v.graceOver(relocated, v.p.secureGraceDays)
	if end := v.p.secureDeadline.Time().AddDate(0, 0, 1); end.After(since) {
		since = end
	}
	if v.clock.Before(since) || v.secure(h) {
		return finding{}
	}
	f := finding{broken: true, since: since}
	if detail {
		var missing []string
		if h.mem[mMembers] == 0 {
			missing = append(missing, "无在册成员")
		}
		if n := h.mem[mSchoolAge] - h.mem[mEnrolled]; n > 0 {
			missing = append(missing, fmt.Sprintf("%d名适龄子女未在学(义务教育)", n))
		}
		if n := h.mem[mMembers] - h.mem[mInsuredBoth]; n > 0 {
			missing = append(missing, fmt.Sprintf("%d人未参加基本医疗保险和大病保险(基本医疗)", n))
		}
		if !(h.mem[mEmployed] > 0 || h.dibao == 1 || h.tekun == 1 || (h.labourCount == 0 && h.mem[mLabour] == 0)) {
			missing = append(missing, "无人就业且未纳入低保或特困供养(不愁吃穿)")
		}
		f.message = "“两不愁三保障”未实现: " + strings.Join(missing, "; ")
		f.evidence = v.householdEvidence(h, hgRegistry)
	}
	return f
}
