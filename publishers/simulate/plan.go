package simulate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The lead office's plan beyond the annex: the issues the joint meetings
// assign (会议交办事项) and their owners' progress on them, and each county's
// assessment scheme (plan.assessment) that R19 weighs. Their streams of
// randomness are their own, and they are emitted after every other fact,
// so the rest of the world is the same with them as without.

// meetingItem is an issue a joint meeting assigns: a task of the board,
// owned by one unit and due on a date.
type meetingItem struct {
	id    string // meeting_id + "-I" + no
	no    int
	title string
	owner string
	due   time.Time
	held  time.Time // the meeting's day
}

// assignIssues picks the issues a meeting held on a day assigns: most
// meetings assign one to three, each to an attendee other than the chair,
// due 60 to 120 days later.
func assignIssues(rng *rand.Rand, meeting string, held time.Time, attendees []string) []meetingItem {
	owners := attendees[1:] // the chair assigns
	if len(owners) == 0 || rng.Float64() >= 0.85 {
		return nil
	}
	var items []meetingItem
	for i, j := range rng.Perm(len(owners))[:min(len(owners), 1+rng.IntN(3))] {
		owner, no := owners[j], i+1
		items = append(items, meetingItem{id: meeting + "-I" + strconv.Itoa(no), no: no, title: pick(rng, issueTitles(owner)), owner: owner,
			due: day(held, 60+rng.IntN(61)), held: held})
	}
	return items
}

// issueTitles are what a joint meeting assigns to a unit (交办事项).
func issueTitles(owner string) []string {
	switch owner {
	case "hrss":
		return []string{"安置点社区工厂用工不足,组织专场招聘", "开发公益性岗位安置就业困难搬迁群众", "核查搬迁群众零就业家庭并落实就业帮扶"}
	case "resources":
		return []string{"加快安置房不动产权证办理", "推进旧宅基地拆除复垦和增减挂钩项目验收"}
	case "edu":
		return []string{"解决安置区学校学位不足问题", "核查搬迁家庭适龄儿童入学情况"}
	case "medins", "health":
		return []string{"核实未参保搬迁人口并动员参保", "补齐安置点卫生室医护人员配备"}
	case "housing":
		return []string{"补齐安置点污水处理和环卫设施短板", "完善安置社区物业服务管理"}
	case "water":
		return []string{"排查安置区饮水安全隐患"}
	case "transport":
		return []string{"协调解决安置点外围道路建设资金缺口"}
	case "finance":
		return []string{"加快后续扶持项目资金拨付进度"}
	case "civil":
		return []string{"将符合条件的搬迁群众及时纳入低保", "完成安置社区自治单元划分"}
	case "police":
		return []string{"落实搬迁群众户籍迁移和居住证办理"}
	}
	if strings.HasPrefix(owner, "county/") {
		return []string{"补齐安置点污水管网", "落实安置社区运转经费和社区干部薪酬", "协调资金续建停工的安置区配套设施",
			"推进安置区产业项目落地, 带动搬迁群众就业", "排查搬迁群众“两不愁三保障”突出问题"}
	}
	return []string{"梳理本部门后续扶持任务进展并报送联席会议办公室", "对照责任清单整改督查发现的问题"}
}

// issuesJSON is a meeting's issues_assigned.
func issuesJSON(items []meetingItem) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, it := range items {
		out[i] = newObj().int("item_no", it.no).str("title", it.title).str("owner", it.owner).date("due_on", it.due).done()
	}
	return out
}

// followIssue emits an item's owner's progress on it (task.progress, on the
// owner's county for a county government): a report about a month after the
// meeting and then monthly until done. The n-th item of the period is done
// before it is due, except every fifth, which is done late or (every
// tenth) still open after its due date: reported blocked once, then no
// more.
func (g *gen) followIssue(rng *rand.Rand, it meetingItem, n int) bool {
	county := g.s.cat.City.Code
	if code, ok := strings.CutPrefix(it.owner, "county/"); ok {
		county = code
	}
	span := int(it.due.Sub(it.held).Hours() / 24)
	var done time.Time
	switch n % 10 {
	case 2:
		done = day(it.due, 10+rng.IntN(90)) // late
	case 7: // open
	default:
		done = day(it.held, span/3+rng.IntN(span-span/3))
	}
	report := func() *obj { return newObj().str("task_id", it.id).str("department", it.owner) }
	pct := 0
	for t := day(it.held, 25+rng.IntN(10)); t.Before(g.s.end); t = day(t, 28+rng.IntN(6)) {
		if !done.IsZero() && !t.Before(done) {
			t = day(done, rng.IntN(5))
			o := report().str("status", "done").int("percent", 100).date("reported_on", t).date("completed_on", done)
			return g.emit(it.owner, "task.progress", county, it.id, t, o.done())
		}
		if done.IsZero() && t.After(it.due) {
			o := report().str("status", "blocked").int("percent", pct).date("reported_on", t).
				str("note", pick(rng, []string{"资金未落实, 待协调", "涉及多个部门, 需联席会议再次研究", "施工受阻, 正在协调"}))
			return g.emit(it.owner, "task.progress", county, it.id, t, o.done())
		}
		pct = min(90, 10+80*int(t.Sub(it.held).Hours()/24)/max(1, span))
		if !g.emit(it.owner, "task.progress", county, it.id, t, report().str("status", "in_progress").int("percent", pct).date("reported_on", t).done()) {
			return false
		}
	}
	return true
}

// assessments emits each county government's assessment scheme for every
// year of the period from 2020 on (plan.assessment), published in the
// year's first quarter with the follow-up work weighing 30-40%, except
// that the second county weighs it below 30% in the period's last year (so
// the latest quarter's assessment and report show it) and the third
// publishes the middle year's scheme after March (both raise R19).
func (g *gen) assessments() bool {
	first, last := max(2020, g.s.cfg.From.Year()), g.s.cfg.To.Year()
	if first > last {
		return true
	}
	n := len(g.s.counties)
	lowCounty, lowYear := min(1, n-1), last
	lateCounty, lateYear := min(2, n-1), first+(last-first)/2
	others := []string{"产业扶贫", "就业扶贫", "健康扶贫", "教育扶贫", "住房安全保障", "饮水安全保障", "兜底保障", "驻村帮扶", "扶贫资金项目管理"}
	for ci, c := range g.s.counties {
		rng := g.s.rng(4, uint64(ci))
		gov := "county/" + c.code
		for y := first; y <= last; y++ {
			// By mid-March, so that it reaches the hub before April
			// even when reported two weeks late.
			published := between(rng, date(y, 1, 5), date(y, 3, 15))
			if ci == lateCounty && y == lateYear {
				published = date(y, 4+rng.IntN(2), 5+rng.IntN(24))
			}
			followup := 30 + rng.IntN(11) // hundredths
			if ci == lowCounty && y == lowYear {
				followup = 20 + rng.IntN(9)
			}
			// The other items share the rest, at least 5 hundredths each.
			k := 3 + rng.IntN(3)
			shares, sum := make([]int, k), 0
			for i := range shares {
				shares[i] = 1 + rng.IntN(10)
				sum += shares[i]
			}
			rest := 100 - followup - 5*k
			items := []json.RawMessage{newObj().str("item", "易地扶贫搬迁后续扶持").num("weight", float64(followup)/100).bool("followup", true).done()}
			used := 0
			for i, j := range rng.Perm(len(others))[:k] {
				w := 5 + rest*shares[i]/sum
				if i == k-1 {
					w = 100 - followup - used
				}
				used += w
				items = append(items, newObj().str("item", others[j]).num("weight", float64(w)/100).done())
			}
			id := fmt.Sprintf("AS-%s-%d", c.code, y)
			o := newObj().str("assessment_id", id).str("area", c.code).int("year", y).date("published_on", published).
				str("document_no", fmt.Sprintf("%s政办发〔%d〕%d号", string([]rune(c.name)[:1]), y, 1+rng.IntN(30))).
				objs("items", items)
			if !g.emit(gov, "plan.assessment", c.code, id, published, o.done()) {
				return false
			}
		}
	}
	return true
}

// communityFunds adds a self-governance unit's yearly operating budget and
// a cadre's basic pay, each beside the benchmark of an urban community of
// the same size (annex 25-2); about one unit in eight is budgeted below it
// (R25). It draws from its own stream, so the rest of a site is as before.
func communityFunds(rng *rand.Rand, o *obj, households int, set time.Time) {
	benchmark := float64(60000 + 200*households)
	pay := float64(36000 + 1000*rng.IntN(12))
	budget, cadre := benchmark*(1+0.2*rng.Float64()), pay*(1+0.1*rng.Float64())
	if rng.IntN(8) == 0 {
		budget = benchmark * (0.6 + 0.3*rng.Float64())
	}
	o.yuan("annual_budget_yuan", float64(int(budget))).yuan("urban_budget_yuan", benchmark).
		yuan("cadre_pay_yuan", float64(int(cadre))).yuan("urban_cadre_pay_yuan", pay).int("budget_year", set.Year())
}

// findings emits, each year from 2021, the audit's findings on relocation
// funds (audit.finding, 市审计局 with 市财政局) and the inspectors'
// (inspect.finding, 市委市政府督查室) in a few counties, each with a unit to
// rectify it by a deadline; most are rectified in time, about one in five
// late or not at all (R22).
func (g *gen) findings() bool {
	first, last := max(2021, g.s.cfg.From.Year()), g.s.cfg.To.Year()
	rng := g.s.rng(6, 0)
	categories := []string{"funds_misuse", "delayed", "quality", "policy_not_implemented", "data_quality"}
	owners := map[string][]string{"funds_misuse": {"finance", "drc"}, "delayed": {"housing", "transport", "water"},
		"quality": {"housing"}, "policy_not_implemented": {"hrss", "edu", "medins", "resources"}, "data_quality": {"poverty", "civil"}}
	for y := first; y <= last; y++ {
		for _, fam := range []string{"audit.finding", "inspect.finding"} {
			dept, prefix := "audit", "SJ"
			if fam == "inspect.finding" {
				dept, prefix = "inspect", "DC"
			}
			count := 2 + rng.IntN(4)
			for n := 1; n <= count; n++ {
				c := g.s.counties[rng.IntN(len(g.s.counties))]
				cat := categories[rng.IntN(len(categories))]
				if fam == "audit.finding" {
					cat = "funds_misuse"
				}
				found := between(rng, date(y, 3, 1), date(y, 11, 30))
				if !found.Before(g.s.end) {
					continue
				}
				due := day(found, 60+rng.IntN(60))
				id := fmt.Sprintf("%s-%d-%02d", prefix, y, n)
				owner, severity := owners[cat][rng.IntN(len(owners[cat]))], []string{"low", "medium", "high"}[rng.IntN(3)]
				amount := float64(10000 * (1 + rng.IntN(200)))
				// The finding as reported, and again when rectified.
				base := func() *obj {
					o := newObj().str("finding_id", id).str("area", c.code).str("responsible", owner).
						str("category", cat).str("severity", severity).date("found_on", found).date("due_on", due).
						str("report_no", fmt.Sprintf("咸%s〔%d〕%d号", map[string]string{"audit": "审", "inspect": "督"}[dept], y, n))
					if fam == "audit.finding" {
						o.yuan("amount_yuan", amount)
					}
					return o
				}
				o := base()
				if !g.emit(dept, fam, c.code, id, found, o.str("status", "open").done()) {
					return false
				}
				// Rectified in time, late, or not by the period's end.
				var done time.Time
				switch r := rng.IntN(10); {
				case r < 8:
					done = day(found, 20+rng.IntN(int(due.Sub(found).Hours()/24)-20))
				case r == 8:
					done = day(due, 30+rng.IntN(90))
				}
				if done.IsZero() || !done.Before(g.s.end) {
					continue
				}
				if !g.emit(dept, fam, c.code, id, done, base().str("status", "rectified").date("rectified_on", done).done()) {
					return false
				}
			}
		}
	}
	return true
}
