package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// siteState is one site while it is generated.
type siteState struct {
	k                    *siteSkel
	c                    *county
	id                   string
	rng                  *rand.Rand
	kind, setting        string
	township, name       string
	planned, completed   time.Time
	unfinished           []string // infrastructure items still not done at the end
	school, kindergarten string   // serving the site ("" when none)
	workshop             string
}

// countyState accumulates what a county's own facts need.
type countyState struct {
	c                *county
	rng              *rand.Rand
	unfinishedSites  []*siteState
	centralizedSites []*siteState
}

// infraItems are the 8 infrastructure items of a centralized site and the
// department that reports each (水电路气暖污水通信环卫).
var infraItems = []struct{ family, dept, code, operator string }{
	{"infra.water", "water", "YS", "城乡供水有限公司"},
	{"infra.power", "power", "DL", "供电公司"},
	{"infra.road", "transport", "JT", "交通运输局"},
	{"infra.gas", "gas", "RQ", "天然气有限公司"},
	{"infra.heating", "housing", "GN", "热力公司"},
	{"infra.sewage", "eco", "WS", "污水处理有限公司"},
	{"infra.telecom", "cac", "TX", "移动分公司"},
	{"infra.sanitation", "housing", "HW", "城市管理局"},
}

// day returns the date d days after t (at midnight, China time).
func day(t time.Time, d int) time.Time {
	y, m, dd := t.Date()
	return time.Date(y, m, dd+d, 0, 0, 0, 0, cst)
}

// between returns a date uniformly in [a, b].
func between(rng *rand.Rand, a, b time.Time) time.Time {
	days := int(b.Sub(a).Hours() / 24)
	if days <= 0 {
		return day(a, 0)
	}
	return day(a, rng.IntN(days+1))
}

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, cst) }

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// site generates a site, its households and persons, and every fact about
// them.
func (g *gen) site(k *siteSkel, cs *countyState) bool {
	ss := &siteState{k: k, c: k.county, id: k.id(), rng: g.s.rng(2, uint64(k.index))}
	rng := ss.rng
	// Kind and setting follow the size: big sites are centralized in towns
	// and county seats, small ones dispersed in villages.
	switch {
	case k.persons < 100 && rng.Float64() < 0.7, k.persons < 300 && rng.Float64() < 0.25:
		ss.kind = "dispersed"
	default:
		ss.kind = "centralized"
	}
	r := rng.Float64()
	switch {
	case k.persons >= 800:
		ss.setting = map[bool]string{true: "urban", false: "town"}[r < 0.7]
	case k.persons >= 200:
		ss.setting = pick(rng, []string{"town", "town", "town", "urban", "village"})
	default:
		ss.setting = map[bool]string{true: "village", false: "town"}[r < 0.7]
	}
	ss.township = pick(rng, townships)
	suffix := map[string]string{"centralized": "移民搬迁安置小区", "dispersed": "分散安置点"}[ss.kind]
	ss.name = fmt.Sprintf("%s%s%s", ss.township, pick(rng, []string{"幸福", "和谐", "阳光", "新村", "康居", "惠民"}), suffix)
	ss.completed = between(rng, date(2016, 6, 1), date(2020, 3, 31))
	ss.planned = day(ss.completed, -300-rng.IntN(240))
	if ss.kind == "centralized" {
		cs.centralizedSites = append(cs.centralizedSites, ss)
	}
	if !g.siteFacts(ss) {
		return false
	}
	// Households and their members.
	sizes := householdSizes(rng, k.households, k.persons)
	counter := k.personBase
	for i, size := range sizes {
		if !g.household(ss, k.hhBase+i, size, counter) {
			return false
		}
		counter += size
	}
	if len(ss.unfinished) > 0 {
		cs.unfinishedSites = append(cs.unfinishedSites, ss)
	}
	return true
}

// householdSizes draws n household sizes that add up to persons.
func householdSizes(rng *rand.Rand, n, persons int) []int {
	dist := []float64{0.12, 0.20, 0.22, 0.24, 0.13, 0.06, 0.02, 0.01} // 1..8 persons
	sizes := make([]int, n)
	sum := 0
	for i := range sizes {
		u, s := rng.Float64(), 1
		for j, p := range dist {
			if u < p {
				s = j + 1
				break
			}
			u -= p
			s = j + 1
		}
		sizes[i] = s
		sum += s
	}
	for sum != persons {
		i := rng.IntN(n)
		switch {
		case sum < persons && sizes[i] < 10:
			sizes[i]++
			sum++
		case sum > persons && sizes[i] > 1:
			sizes[i]--
			sum--
		}
	}
	return sizes
}

// siteFacts emits the facts about a site itself.
func (g *gen) siteFacts(ss *siteState) bool {
	rng, k, cc, id := ss.rng, ss.k, ss.c.code, ss.id
	serial := fmt.Sprintf("%04d", k.serial)
	centralized := ss.kind == "centralized"
	site := func(status string, t time.Time) bool {
		o := newObj().str("site_id", id).str("county", cc).str("township", ss.township).str("site_name", ss.name).
			str("kind", ss.kind).str("setting", ss.setting).int("planned_households", k.households).int("planned_persons", k.persons)
		if status == "occupied" {
			o.date("completed_on", ss.completed)
		}
		return g.emit("drc", "registry.site", cc, id, t, o.str("status", status).done())
	}
	if !site("building", ss.planned) || !site("occupied", ss.completed) {
		return false
	}
	// Infrastructure: 8 items per centralized site; some stay unfinished.
	if centralized {
		var stuck map[int]bool
		if rng.Float64() < 0.12 {
			stuck = map[int]bool{rng.IntN(len(infraItems)): true, rng.IntN(len(infraItems)): true}
		}
		for i, it := range infraItems {
			pid := fmt.Sprintf("P%s-%s%d%s", cc, it.code, ss.planned.Year(), serial)
			target := day(ss.completed, -rng.IntN(60))
			item := func(status string) *obj {
				return newObj().str("site_id", id).str("project_id", pid).str("status", status).date("planned_completion", target)
			}
			if !g.emit(it.dept, it.family, cc, id, day(ss.planned, rng.IntN(30)), item("planned").done()) {
				return false
			}
			building := day(ss.planned, 30+rng.IntN(90))
			if !g.emit(it.dept, it.family, cc, id, building, item("building").done()) {
				return false
			}
			if stuck[i] {
				ss.unfinished = append(ss.unfinished, it.family)
				late := between(rng, date(2021, 3, 1), date(2022, 6, 30))
				if !g.emit(it.dept, it.family, cc, id, late, item("building").str("note", "资金缺口, 工程停工待续建").done()) {
					return false
				}
				continue
			}
			done := day(ss.completed, rng.IntN(150)-90)
			o := item("done").date("completed_on", done).yuan("investment_yuan", float64(k.households)*(2000+rng.Float64()*6000)).
				int("households_served", k.households).str("operator", ss.c.name+it.operator)
			if !g.emit(it.dept, it.family, cc, id, done, o.done()) {
				return false
			}
		}
		// Funds for the site's infrastructure (finance).
		pid := fmt.Sprintf("P%s-JC%d%s", cc, ss.planned.Year(), serial)
		amount := float64(k.households) * (20000 + rng.Float64()*20000)
		src := pick(rng, []string{"central", "provincial", "municipal", "county"})
		alloc := day(ss.planned, 10+rng.IntN(50))
		for _, step := range []struct {
			action string
			t      time.Time
		}{{"allocated", alloc}, {"disbursed", day(alloc, 60+rng.IntN(120))}} {
			o := newObj().str("project_id", pid).str("project_name", ss.name+"配套基础设施").str("area", cc).str("action", step.action).
				yuan("amount_yuan", amount).str("target", "resettlement_site").str("site_id", id).str("purpose", "infrastructure").
				str("fund_source", src).date("dated_on", step.t).str("document_no", fmt.Sprintf("%s财农〔%d〕%d号", ss.c.prov, step.t.Year(), 10+rng.IntN(90)))
			if !g.emit("finance", "finance.funds", cc, pid, step.t, o.done()) {
				return false
			}
		}
		// House quality inspection and the major-repair fund (housing).
		insp := day(ss.completed, -10-rng.IntN(50))
		o := newObj().str("site_id", id).str("kind", "inspection").date("inspected_on", insp).int("houses_inspected", k.households)
		if rng.Float64() < 0.85 {
			o.int("houses_failed", 0).str("result", "pass")
		} else {
			fixed := day(insp, 30+rng.IntN(90))
			o.int("houses_failed", 1+rng.IntN(max(1, k.households/20))).str("result", "rectified").date("rectified_on", fixed)
		}
		if !g.emit("housing", "housing.quality", cc, id, insp, o.done()) {
			return false
		}
		if rng.Float64() < 0.9 {
			set := day(ss.completed, 60+rng.IntN(240))
			if !g.emit("housing", "housing.quality", cc, id, set, newObj().str("site_id", id).str("kind", "repair_fund").
				date("fund_set_up_on", set).yuan("fund_balance_yuan", float64(k.households)*(800+rng.Float64()*1200)).done()) {
				return false
			}
		}
	}
	// Clinic (health) and school (edu): most sites are served, a few not.
	if rng.Float64() < 0.92 {
		kind := map[bool]string{true: "community_health_station", false: "clinic"}[k.persons >= 800]
		opened := day(ss.completed, rng.IntN(120)-60)
		o := newObj().str("site_id", id).str("facility_id", "WS"+cc+"-"+serial).str("facility_name", ss.name+"卫生室").
			str("kind", kind).str("status", "open").date("opened_on", opened).int("staff", 2+k.persons/300).int("doctors", 1+k.persons/600).
			bool("telemedicine", rng.Float64() < 0.4)
		if !g.emit("health", "health.facility", cc, id, opened, o.done()) {
			return false
		}
	}
	if rng.Float64() < 0.95 {
		ss.school = "PS" + cc + "-" + serial
	}
	if k.persons >= 300 && rng.Float64() < 0.9 {
		ss.kindergarten = "KG" + cc + "-" + serial
	}
	for y := max(ss.completed.Year(), g.s.cfg.From.Year()); y <= g.s.cfg.To.Year(); y++ {
		for _, sc := range []struct{ id, level string }{{ss.school, "primary"}, {ss.kindergarten, "kindergarten"}} {
			if sc.id == "" {
				continue
			}
			pupils := k.persons / 9
			if sc.level == "kindergarten" {
				pupils = k.persons / 25
			}
			seats := pupils*2 + 120 + rng.IntN(200)
			used := min(seats, pupils+60+rng.IntN(seats-pupils))
			asOf := date(y, 9, 30)
			o := newObj().str("site_id", id).str("school_id", sc.id).str("school_name", ss.township+map[string]string{"primary": "中心小学", "kindergarten": "中心幼儿园"}[sc.level]).
				str("school_county", cc).str("level", sc.level).str("school_year", fmt.Sprintf("%d-%d", y, y+1)).int("seats", seats).
				int("seats_used", used).int("relocated_pupils", pupils).int("teachers", 8+seats/25).bool("serves_site", true).date("as_of", asOf)
			if !g.emit("edu", "edu.capacity", cc, id, asOf, o.done()) {
				return false
			}
		}
	}
	// Industry: a park for sites of 800 persons or more; a workshop for
	// centralized sites (a community factory from 300 households).
	if k.persons >= 800 && rng.Float64() < 0.85 {
		opened := day(ss.completed, rng.IntN(360)-180)
		o := newObj().str("site_id", id).str("park_id", "CY"+cc+"-"+serial).str("kind", "industrial_park").str("status", "operating").
			str("park_name", ss.township+"扶贫产业园").str("industry", pick(rng, []string{"苹果深加工", "奶山羊", "食用菌", "中药材", "服装加工", "电子元件"})).
			date("opened_on", opened).yuan("investment_yuan", float64(k.persons)*(5000+rng.Float64()*10000)).int("enterprises", 2+rng.IntN(8)).
			int("jobs_total", k.persons/4).int("jobs_relocated", k.persons/10)
		if !g.emit("agri", "industry.park", cc, id, opened, o.done()) {
			return false
		}
	}
	if centralized && (k.households >= 300 && rng.Float64() < 0.9 || k.households < 300 && rng.Float64() < 0.85) {
		ss.workshop = "GC" + cc + "-" + serial
		kind := "poverty_workshop"
		switch {
		case k.households >= 300:
			kind = "community_factory"
		case k.persons < 150:
			kind = "poverty_atelier"
		}
		offered := 10 + k.persons/12
		planned := day(ss.completed, -60)
		base := func(status string) *obj {
			return newObj().str("site_id", id).str("workshop_id", ss.workshop).str("workshop_name", ss.township+"扶贫车间").str("kind", kind).str("status", status)
		}
		if !g.emit("hrss", "hr.workshop", cc, id, planned, base("planned").int("jobs_offered", offered).done()) {
			return false
		}
		opened := day(ss.completed, 30+rng.IntN(170))
		filled := offered * (60 + rng.IntN(40)) / 100
		o := base("open").date("opened_on", opened).str("operator", ss.c.name+"某服饰有限公司").str("industry", pick(rng, []string{"服装加工", "电子元件", "手工编织", "食品包装"})).
			int("jobs_offered", offered).int("jobs_filled", filled).int("relocated_employed", filled*8/10).int("poor_employed", filled/2)
		if !g.emit("hrss", "hr.workshop", cc, id, opened, o.done()) {
			return false
		}
	}
	// Self-governance unit (civil) and party organisation (org).
	if rng.Float64() < 0.92 {
		set := day(ss.completed, rng.IntN(90))
		o := newObj().str("site_id", id).str("unit_id", "JW"+cc+"-"+serial)
		switch {
		case k.households >= 300:
			o.str("unit_name", ss.name+"社区居委会").str("form", "standalone").str("unit_kind", "residents_committee")
		case ss.setting == "village":
			o.str("form", "attached").str("unit_kind", "villagers_committee").str("host_unit", ss.township+"中心村村委会")
		default:
			o.str("form", "merged").str("unit_kind", "community").str("host_unit", ss.township+"社区")
		}
		o.date("set_up_on", set).int("staff", 2+k.households/60)
		communityFunds(g.s.rng(5, uint64(k.index)), o, k.households, set)
		if !g.emit("civil", "civil.community", cc, id, set, o.done()) {
			return false
		}
	}
	if rng.Float64() < 0.92 {
		set := day(ss.completed, rng.IntN(120))
		kind := "party_branch"
		if k.persons >= 1500 {
			kind = "general_branch"
		}
		o := newObj().str("site_id", id).str("org_id", "DZ"+cc+"-"+serial).str("kind", kind).date("set_up_on", set).int("members", 3+k.persons/40)
		if !g.emit("org", "org.partybranch", cc, id, set, o.done()) {
			return false
		}
	}
	// E-commerce service point (commerce), legal consultations (justice).
	if centralized && rng.Float64() < 0.4 {
		opened := day(ss.completed, 30+rng.IntN(400))
		o := newObj().str("site_id", id).str("point_id", "DS"+cc+"-"+serial).str("point_name", ss.township+"电商服务站").
			str("kind", pick(rng, []string{"ecommerce_service", "both", "logistics"})).str("status", "open").date("opened_on", opened)
		if !g.emit("commerce", "commerce.ecommerce", cc, id, opened, o.done()) {
			return false
		}
	}
	if centralized {
		for q := quarterStart(later(ss.completed, g.s.cfg.From)); q.Before(g.s.end); q = q.AddDate(0, 3, 0) {
			if rng.Float64() >= 0.6 {
				continue
			}
			held := day(q, rng.IntN(85))
			o := newObj().str("site_id", id).date("held_on", held).str("kind", pick(rng, []string{"on_site", "on_site", "hotline", "online"})).
				int("consultations", 2+rng.IntN(30)).strs("topics", pick(rng, [][]string{{"family"}, {"labour", "land"}, {"land", "housing"}, {"family", "labour", "other"}}))
			if !g.emit("justice", "justice.consultation", cc, id, held, o.done()) {
				return false
			}
		}
	}
	return true
}

// quarterStart returns the first day of t's quarter.
func quarterStart(t time.Time) time.Time {
	return time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, cst)
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
