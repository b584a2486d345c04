package simulate

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// householdFacts emits the facts about a household as a whole: the deed of
// its new house, its old homestead, its land and forest rights, social
// assistance and its link to an enterprise or cooperative.
func (g *gen) householdFacts(h *hhState, ps []person) bool {
	rng, cc, hid, sid := h.rng, h.ss.c.code, h.id, h.ss.id
	// Deed of the resettlement house (resources): most within months, some
	// late, a few never registered.
	area := float64(min(125, max(40, 25*h.size))) - float64(rng.IntN(300))/100
	applied := day(h.relocated, 20+rng.IntN(100))
	deed := func(status string) *obj {
		return newObj().str("household_id", hid).str("site_id", sid).str("status", status).date("applied_on", applied)
	}
	if !g.emit("resources", "resources.deeds", cc, hid, applied, deed("applied").num("floor_area_m2", area).done()) {
		return false
	}
	if r := rng.Float64(); r >= 0.03 {
		registered := day(applied, 30+rng.IntN(90))
		if r < 0.11 {
			registered = day(h.relocated, 200+rng.IntN(500)) // late
		}
		if !g.emit("resources", "resources.deeds", cc, hid, registered, deed("registered").date("registered_on", registered).num("floor_area_m2", area).done()) {
			return false
		}
		issued := day(registered, 5+rng.IntN(25))
		cert := fmt.Sprintf("%s(%d)%s不动产权第%07d号", h.ss.c.prov, issued.Year(), h.ss.c.name, h.ss.k.hhBase+rng.IntN(1_000_000))
		o := deed("certificate_issued").date("registered_on", registered).date("issued_on", issued).str("certificate_no", cert).
			num("floor_area_m2", area).bool("trade_restricted", true)
		if !g.emit("resources", "resources.deeds", cc, hid, issued, o.done()) {
			return false
		}
	}
	// The old homestead (resources): vacated, then demolished and reclaimed
	// or re-greened; a few are only vacated.
	vacated := day(h.relocated, 10+rng.IntN(50))
	home := func(stage string, t time.Time) *obj {
		return newObj().str("household_id", hid).str("origin_area", h.origin).str("stage", stage).date("effective_on", t)
	}
	if !g.emit("resources", "resources.reclamation", cc, hid, vacated, home("vacated", vacated).done()) {
		return false
	}
	if rng.Float64() >= 0.05 {
		demolished := day(vacated, 60+rng.IntN(240))
		if !g.emit("resources", "resources.reclamation", cc, hid, demolished, home("demolished", demolished).done()) {
			return false
		}
		final := day(demolished, 60+rng.IntN(300))
		o := home("regreened", final).num("area_mu", 0.2+float64(rng.IntN(60))/100).bool("in_linkage_project", false)
		if rng.Float64() < 0.7 {
			o = home("reclaimed", final).num("area_mu", 0.2+float64(rng.IntN(60))/100).bool("in_linkage_project", true).
				str("project_id", fmt.Sprintf("P%s-ZJGG%d", cc, final.Year()))
		}
		if !g.emit("resources", "resources.reclamation", cc, hid, final, o.done()) {
			return false
		}
	}
	// Land (resources) and forest (forestry) rights kept in the old place.
	partners := []string{"某苹果专业合作社", "某农业开发有限公司", "某中药材种植合作社", "某林业专业合作社"}
	rights := func(o *obj) *obj {
		switch r := rng.Float64(); {
		case r < 0.5:
			o.str("arrangement", "kept")
		case r < 0.85:
			o.str("arrangement", "transferred").str("partner", pick(rng, partners)).yuan("annual_income_yuan", 300+float64(rng.IntN(2000)))
		default:
			o.str("arrangement", "pooled_shares").str("partner", pick(rng, partners)).yuan("annual_income_yuan", 200+float64(rng.IntN(1500)))
		}
		return o
	}
	on := day(h.relocated, rng.IntN(120))
	o := rights(newObj().str("household_id", hid).str("origin_area", h.origin).str("land_kind", "farmland")).
		num("area_mu", 1+float64(rng.IntN(500))/100).date("effective_on", on)
	if !g.emit("resources", "resources.landrights", cc, hid, on, o.done()) {
		return false
	}
	if rng.Float64() < 0.4 {
		on := day(h.relocated, rng.IntN(200))
		o := rights(newObj().str("household_id", hid).str("origin_area", h.origin)).num("area_mu", 2+float64(rng.IntN(3000))/100).
			date("effective_on", on).bool("collective_benefit_kept", true)
		if !g.emit("forestry", "forestry.rights", cc, hid, on, o.done()) {
			return false
		}
	}
	// Social assistance (civil): minimum living allowance for a quarter of
	// the poor, extreme-poverty support for old people living alone,
	// temporary assistance now and then.
	help := func(kind, action string, t time.Time) *obj {
		return newObj().str("household_id", hid).str("kind", kind).str("action", action).date("effective_on", t)
	}
	if h.poor && rng.Float64() < 0.25 {
		granted := day(h.relocated, rng.IntN(200))
		o := help("dibao", "granted", granted).int("persons_covered", h.size).yuan("monthly_amount_yuan", float64(h.size)*(300+float64(rng.IntN(150)))).
			str("document_no", fmt.Sprintf("民发〔%d〕%d号", granted.Year(), 1+rng.IntN(200)))
		if !g.emit("civil", "civil.assistance", cc, hid, granted, o.done()) {
			return false
		}
		if rng.Float64() < 0.3 {
			ended := between(rng, date(2021, 1, 1), date(2024, 12, 31))
			if !g.emit("civil", "civil.assistance", cc, hid, ended, help("dibao", "ended", ended).str("note", "家庭收入超过低保标准").done()) {
				return false
			}
		}
	}
	if h.size == 1 && refYear-ps[0].birthYear >= 70 && rng.Float64() < 0.6 {
		granted := day(h.relocated, rng.IntN(90))
		if !g.emit("civil", "civil.assistance", cc, hid, granted, help("tekun", "granted", granted).int("persons_covered", 1).
			yuan("monthly_amount_yuan", 600+float64(rng.IntN(300))).done()) {
			return false
		}
	}
	if rng.Float64() < 0.03 {
		t := day(h.relocated, 30+rng.IntN(1500))
		if !g.emit("civil", "civil.assistance", cc, hid, t, help("temporary", "granted", t).yuan("amount_yuan", 500+float64(rng.IntN(26))*100).
			str("note", pick(rng, []string{"因病临时救助", "因灾临时救助", "因学临时救助"})).done()) {
			return false
		}
	}
	// Link to an enterprise, cooperative or the community (poverty).
	if rng.Float64() < 0.55 {
		started := day(h.relocated, 30+rng.IntN(400))
		o := newObj().str("household_id", hid).str("model", pick(rng, []string{"community_plus", "cooperative_plus", "cooperative_plus", "enterprise_plus", "asset_income"})).
			str("partner", h.ss.township+pick(rng, partners)).str("status", "active").date("started_on", started).yuan("annual_dividend_yuan", 300+float64(rng.IntN(1500)))
		if !g.emit("poverty", "industry.benefit", cc, hid, started, o.done()) {
			return false
		}
	}
	return true
}

// county emits a county's own facts once its sites are done: jobs on
// government-investment projects, funds sent to other areas (some while a
// site's infrastructure is unfinished), problem reports and the county
// government's progress on its responsibility-list tasks.
func (g *gen) county(cs *countyState) bool {
	rng, cc := cs.rng, cs.c.code
	gov := "county/" + cc
	for n := 1; n <= 3; n++ {
		pid := fmt.Sprintf("P%s-GZ%d", cc, n)
		start := between(rng, date(2019, 3, 1), date(2022, 6, 30))
		end := day(start, 240+rng.IntN(360))
		total := 40 + rng.IntN(360)
		share := 0.18 + rng.Float64()*0.32 // some below the 30% of the guidance
		o := newObj().str("project_id", pid).str("area", cc)
		if len(cs.centralizedSites) > 0 {
			o.str("site_id", cs.centralizedSites[rng.IntN(len(cs.centralizedSites))].id)
		}
		o.str("project_name", pick(rng, []string{"安置区配套道路工程", "以工代赈水利工程", "安置社区公共服务岗位", "农村饮水安全巩固提升工程"})).
			str("kind", pick(rng, []string{"government_investment", "government_investment", "work_relief", "public_service_post"})).
			date("period_start", start).date("period_end", end).int("jobs_total", total).int("jobs_relocated", int(float64(total)*share))
		base := o.b
		for _, asOf := range []time.Time{day(start, (int(end.Sub(start).Hours())/24)/2), end} {
			o := &obj{b: append([]byte(nil), base...)}
			if !g.emit("hrss", "hr.projectjobs", cc, pid, asOf, o.date("as_of", asOf).done()) {
				return false
			}
		}
	}
	funds := func(n int, t time.Time, note string) bool {
		pid := fmt.Sprintf("P%s-QT%d%02d", cc, t.Year(), n)
		o := newObj().str("project_id", pid).str("project_name", "县域产业发展项目").str("area", cc).str("action", "allocated").
			yuan("amount_yuan", 200000+float64(rng.IntN(3000))*1000).str("target", "other_area").str("purpose", pick(rng, []string{"industry", "public_service", "other"})).
			str("fund_source", "county").date("dated_on", t)
		if note != "" {
			o.str("note", note)
		}
		return g.emit(gov, "finance.funds", cc, pid, t, o.done())
	}
	for i, ss := range cs.unfinishedSites {
		if i < 2 && !funds(i+1, between(rng, date(2021, 4, 1), date(2022, 12, 31)), "") {
			return false
		}
		t := between(rng, date(2021, 4, 1), date(2022, 9, 30))
		rid := fmt.Sprintf("FK-%s-%04d", cc, ss.k.serial)
		o := newObj().str("report_id", rid).str("department", gov).str("kind", "problem").
			str("area", cc).str("site_id", ss.id).str("severity", "high").date("reported_on", t).
			str("description", ss.name+"配套设施因资金缺口停工, 需协调资金续建")
		if !g.emit(gov, "issue.report", cc, rid, t, o.done()) {
			return false
		}
	}
	if len(cs.unfinishedSites) == 0 && rng.Float64() < 0.3 && !funds(9, between(rng, date(2023, 1, 1), date(2024, 12, 31)), "安置区配套已全部到位") {
		return false
	}
	// Row 25 of the responsibility list: the county government reports
	// every December.
	for _, task := range []string{"RL25-1", "RL25-2", "RL25-3"} {
		doneIn := 2020 + rng.IntN(3)
		if task != "RL25-1" {
			doneIn = 2024 + rng.IntN(3)
		}
		for y := max(2020, g.s.cfg.From.Year()); y <= g.s.cfg.To.Year(); y++ {
			t := date(y, 12, 10+rng.IntN(15))
			o := newObj().str("task_id", task).str("department", gov)
			if y >= doneIn {
				done := day(t, -rng.IntN(60))
				if !g.emit(gov, "task.progress", cc, task, t, o.str("status", "done").int("percent", 100).date("reported_on", t).date("completed_on", done).done()) {
					return false
				}
				break
			}
			if !g.emit(gov, "task.progress", cc, task, t, o.str("status", "in_progress").int("percent", min(95, 30+20*(y-2019))).date("reported_on", t).done()) {
				return false
			}
		}
	}
	return true
}

// cityStart emits the responsibility list (责任清单): every task of the
// annex's 25 rows with its deadline, defined by the lead office in the first
// quarter of 2020.
func (g *gen) cityStart() bool {
	city := g.s.cat.City.Code
	defined := date(2020, 3, 20)
	for _, row := range g.s.cat.Responsibilities() {
		owner := row.Department
		var coOwners []string
		if owner == "county" {
			owner = "county/" + g.s.counties[0].code
			for _, c := range g.s.counties[1:min(len(g.s.counties), 30)] {
				coOwners = append(coOwners, "county/"+c.code)
			}
		}
		for _, t := range row.Tasks {
			deadline, target := t.Deadline, t.Target
			if deadline == "" {
				deadline, target = "2025-12-31", "long_term"
			}
			o := newObj().str("task_id", t.TaskID).int("annex_row", row.Row).int("task_no", t.TaskNo).str("owner", owner)
			if len(coOwners) > 0 {
				o.strs("co_owners", coOwners)
			}
			o.str("title", truncate(t.Text, 200)).str("deadline", deadline).str("target", target)
			if t.FinalDeadline != "" {
				o.str("final_deadline", t.FinalDeadline).str("final_target", t.FinalTarget)
			}
			o.str("milestone_text", truncate(row.DeadlineText, 500)).str("status", "active")
			if !g.emit("drc", "plan.task", city, t.TaskID, defined, o.done()) {
				return false
			}
		}
	}
	return true
}

// cityEnd emits the quarterly joint meetings (a few quarters are missed)
// with the issues most of them assign, every department's progress on its
// tasks (some overdue), the owners' progress on the issues (some late or
// open) and the counties' assessment schemes.
func (g *gen) cityEnd() {
	rng := g.s.rng(3, 0)
	issues := g.s.rng(3, 1) // the issues' own stream: the meetings and tasks draw as before
	var assigned []meetingItem
	city := g.s.cat.City.Code
	depts := []string{"edu", "police", "civil", "finance", "hrss", "resources", "housing", "transport", "water", "agri",
		"commerce", "forestry", "health", "medins", "poverty", "justice", "power", "gas", "org", "cac", "eco"}
	missed := map[int]bool{}
	for len(missed) < 3 {
		missed[1+rng.IntN(24)] = true
	}
	n := 0
	for q := quarterStart(later(g.s.cfg.From, date(2020, 1, 1))); q.Before(g.s.end); q = q.AddDate(0, 3, 0) {
		n++
		if missed[n] {
			continue
		}
		quarter := fmt.Sprintf("%dQ%d", q.Year(), (int(q.Month())+2)/3)
		held := day(q, 60+rng.IntN(28))
		attendees := []string{"drc"}
		for _, d := range depts {
			if rng.Float64() < 0.6 {
				attendees = append(attendees, d)
			}
		}
		for _, c := range g.s.counties[:min(len(g.s.counties), 14)] {
			if rng.Float64() < 0.5 {
				attendees = append(attendees, "county/"+c.code)
			}
		}
		o := newObj().str("meeting_id", "JM-"+quarter).str("quarter", quarter).date("held_on", held).str("chaired_by", "drc").
			strs("attendees", attendees).int("issues_discussed", 3+rng.IntN(10)).int("decisions", 2+rng.IntN(6)).
			str("minutes_no", fmt.Sprintf("咸发改纪要〔%d〕%d号", held.Year(), n))
		if items := assignIssues(issues, "JM-"+quarter, held, attendees); len(items) > 0 {
			o.objs("issues_assigned", issuesJSON(items))
			if held.Before(g.s.end) {
				assigned = append(assigned, items...)
			}
		}
		if !g.emit("drc", "plan.meeting", city, "JM-"+quarter, held, o.done()) {
			return
		}
	}
	// Progress: quarterly until done; a quarter of the tasks run late.
	for _, row := range g.s.cat.Responsibilities() {
		if row.Department == "county" {
			continue
		}
		for _, t := range row.Tasks {
			var done time.Time
			if t.Deadline != "" {
				deadline, _ := time.ParseInLocation(time.DateOnly, t.Deadline, cst)
				done = day(deadline, -rng.IntN(120))
				if rng.Float64() < 0.25 {
					done = day(deadline, 60+rng.IntN(700)) // overdue
				}
			}
			for q := date(2020, 4, 1); q.Before(g.s.end); q = q.AddDate(0, 3, 0) {
				reported := day(q, 80+rng.IntN(8))
				if reported.Before(g.s.cfg.From) {
					continue
				}
				o := newObj().str("task_id", t.TaskID).str("department", row.Department)
				if !done.IsZero() && !reported.Before(done) {
					o.str("status", "done").int("percent", 100).date("reported_on", reported).date("completed_on", done)
					if !g.emit(row.Department, "task.progress", city, t.TaskID, reported, o.done()) {
						return
					}
					break
				}
				pct := min(95, 10+int(reported.Sub(date(2020, 1, 1)).Hours()/24/12))
				o.str("status", "in_progress").int("percent", pct).date("reported_on", reported)
				if !g.emit(row.Department, "task.progress", city, t.TaskID, reported, o.done()) {
					return
				}
			}
		}
	}
	for i, it := range assigned {
		if !g.followIssue(issues, it, i) {
			return
		}
	}
	if !g.assessments() {
		return
	}
	g.findings()
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
