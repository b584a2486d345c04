package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/xianyang/anzhi/idcard"
)

// person is a member of a household while it is generated.
type person struct {
	key        string
	relation   string
	birthYear  int
	male       bool
	capacity   string // full, weak, none, student
	disability string
}

// refYear is the year ages and capacities are stated for.
const refYear = 2020

// syntheticID returns a valid ID-card number: the county's code, a birth
// date and a serial that the county-wide person counter makes unique
// (for up to 182,500 persons per county), and the GB 11643 check digit.
func syntheticID(countyCode string, birthYear, counter int, male bool) string {
	d := (counter * 7919) % 365
	k := (counter / 365) % 500
	birth := time.Date(birthYear, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
	serial := 2 * k
	if male {
		serial++
	}
	first17 := fmt.Sprintf("%s%s%03d", countyCode, birth.Format("20060102"), serial)
	return first17 + string(idcard.CheckDigit(first17))
}

// members makes the persons of a household of the given size.
func (g *gen) members(ss *siteState, rng *rand.Rand, size, counter int) []person {
	var ps []person
	add := func(rel string, age int, male bool) {
		p := person{relation: rel, birthYear: refYear - age, male: male, disability: "none"}
		switch {
		case age < 6:
			p.capacity = "none"
		case age <= 18 || age <= 22 && rng.Float64() < 0.3:
			p.capacity = "student"
		case age < 60:
			p.capacity = pick(rng, []string{"full", "full", "full", "full", "full", "full", "full", "full", "weak", "none"})
		case age < 65:
			p.capacity = pick(rng, []string{"weak", "weak", "none"})
		default:
			p.capacity = pick(rng, []string{"none", "none", "none", "weak"})
		}
		if rng.Float64() < 0.05 {
			p.disability = pick(rng, []string{"grade1", "grade2", "grade3", "grade4"})
			if p.capacity == "full" {
				p.capacity = "weak"
			}
		}
		id := syntheticID(ss.c.code, p.birthYear, counter+len(ps), male)
		p.key, _ = idcard.PersonKey(g.s.key, id)
		ps = append(ps, p)
	}
	headMale := rng.Float64() < 0.8
	switch {
	case size == 1:
		add("head", pick(rng, []int{35, 45, 55, 62, 68, 72, 76, 81}), headMale)
	case size == 2 && rng.Float64() < 0.5:
		age := 60 + rng.IntN(25)
		add("head", age, true)
		add("spouse", age-rng.IntN(5), false)
	default:
		headAge := 28 + rng.IntN(30)
		add("head", headAge, headMale)
		rest := size - 1
		if rest > 0 && rng.Float64() < 0.9 {
			add("spouse", headAge-2+rng.IntN(5), !headMale)
			rest--
		}
		if rest >= 3 && rng.Float64() < 0.6 {
			add("parent", headAge+22+rng.IntN(10), rng.Float64() < 0.5)
			rest--
		}
		for ; rest > 0; rest-- {
			add("child", rng.IntN(min(22, headAge-18)+1), rng.Float64() < 0.52)
		}
	}
	return ps
}

// household generates one household, its members, and every fact about
// them.
// counter numbers the household's first person within the county.
func (g *gen) household(ss *siteState, n, size, counter int) bool {
	rng := ss.rng
	cc := ss.c.code
	hid := householdID(cc, n)
	ps := g.members(ss, rng, size, counter)
	relocated := day(ss.completed, rng.IntN(180))
	origin := cc
	if len(g.s.counties) > 1 && rng.Float64() < 0.1 {
		origin = g.s.counties[rng.IntN(len(g.s.counties))].code
	}
	labour := 0
	for _, p := range ps {
		if (p.capacity == "full" || p.capacity == "weak") && refYear-p.birthYear >= 16 && refYear-p.birthYear < 65 {
			labour++
		}
	}
	poor := rng.Float64() < 0.85
	o := newObj().str("household_id", hid).str("site_id", ss.id).int("size", size).int("labour_count", labour).
		bool("registered_poor", poor).date("relocated_on", relocated).str("origin_area", origin).str("origin_township", pick(rng, townships)).
		num("house_area_m2", float64(min(125, 25*size))).str("status", "active")
	if !g.emit("poverty", "registry.household", cc, hid, relocated, o.done()) {
		return false
	}
	for _, p := range ps {
		o := newObj().str("person_key", p.key).str("household_id", hid).str("relation", p.relation).int("birth_year", p.birthYear).
			str("sex", map[bool]string{true: "male", false: "female"}[p.male]).str("labour_capacity", p.capacity).
			str("disability", p.disability).str("status", "active")
		if !g.emit("poverty", "registry.person", cc, p.key, relocated, o.done()) {
			return false
		}
	}
	h := &hhState{ss: ss, id: hid, relocated: relocated, origin: origin, poor: poor, size: size, rng: rng}
	return g.personFacts(h, ps) && g.householdFacts(h, ps)
}

// hhState is one household while its facts are generated.
type hhState struct {
	ss        *siteState
	id        string
	relocated time.Time
	origin    string
	poor      bool
	size      int
	rng       *rand.Rand
}

var (
	employers = map[string][]string{
		"local":          {"县城某建材厂", "某物流公司", "某农业开发公司", "县城某餐饮店"},
		"outbound":       {"苏州某电子有限公司", "深圳某科技有限公司", "杭州某服装厂", "西安某建筑公司"},
		"public_welfare": {"护林员公益岗位", "保洁员公益岗位", "安置社区公益岗位"},
		"self_employed":  {"个体经营", "家庭农场", "电商网店"},
		"project":        {"安置区配套道路工程", "以工代赈水利工程"},
	}
	destinations = []string{"320500", "440300", "330100", "610100", "320100"}
	courses      = []struct{ course, kind string }{{"中式烹调师(初级)", "vocational"}, {"家政服务员", "vocational"}, {"电子商务", "entrepreneurship"},
		{"苹果栽培技术", "skills"}, {"服装缝纫", "on_the_job"}, {"电工", "vocational"}, {"养老护理员", "order"}}
)

// personFacts emits employment, training, schooling, insurance, pension
// and household registration of a household's members.
func (g *gen) personFacts(h *hhState, ps []person) bool {
	rng, cc, hid := h.rng, h.ss.c.code, h.id
	zeroEmployment := rng.Float64() < 0.04
	employedSomeone := false
	hukou := pick(rng, []string{"hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved",
		"hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved", "hukou_moved",
		"residence_permit", "residence_permit", "residence_permit", "residence_permit", "none"})
	hukouOn := day(h.relocated, 30+rng.IntN(170))
	notInsured := map[int]bool{} // years with no insurance for the whole household
	if rng.Float64() < 0.02 {
		notInsured[g.s.cfg.From.Year()+rng.IntN(g.s.cfg.To.Year()-g.s.cfg.From.Year()+1)] = true
	}
	for i, p := range ps {
		age := refYear - p.birthYear
		labourer := (p.capacity == "full" || p.capacity == "weak") && age >= 16 && age < 60
		// Employment (hrss).
		if labourer {
			employed := !zeroEmployment && (!employedSomeone && i == len(ps)-1 || rng.Float64() < map[string]float64{"full": 0.8, "weak": 0.45}[p.capacity])
			start := day(h.relocated, 15+rng.IntN(400))
			if !employed {
				o := newObj().str("person_key", p.key).str("household_id", hid).str("status", "unemployed").date("start_on", start)
				if !g.emit("hrss", "hr.employment", cc, p.key, start, o.done()) {
					return false
				}
			} else {
				employedSomeone = true
				for spell := 0; spell < 2; spell++ {
					kind := pick(rng, []string{"local", "local", "local", "outbound", "outbound", "outbound", "workshop", "public_welfare", "self_employed", "project"})
					if kind == "workshop" && h.ss.workshop == "" {
						kind = "local"
					}
					o := newObj().str("person_key", p.key).str("household_id", hid).str("status", "employed").str("kind", kind)
					income := 1800 + rng.Float64()*2500
					switch kind {
					case "workshop":
						o.str("employer", h.ss.township+"扶贫车间").str("workshop_id", h.ss.workshop).str("destination_area", cc)
					case "outbound":
						o.str("employer", pick(rng, employers[kind])).str("destination_area", pick(rng, destinations))
						income += 1500
					case "project":
						o.str("employer", pick(rng, employers[kind])).str("project_id", fmt.Sprintf("P%s-GZ%d", cc, 1+rng.IntN(3))).str("destination_area", cc)
					default:
						o.str("employer", pick(rng, employers[kind])).str("destination_area", cc)
					}
					o.date("start_on", start)
					ends := spell == 0 && rng.Float64() < 0.15
					end := day(start, 180+rng.IntN(500))
					if ends {
						o.date("end_on", end)
					}
					o.yuan("monthly_income_yuan", income)
					if kind == "outbound" {
						o.bool("organized", rng.Float64() < 0.5)
					}
					if !g.emit("hrss", "hr.employment", cc, p.key, start, o.done()) {
						return false
					}
					if !ends {
						break
					}
					start = day(end, 30+rng.IntN(170))
				}
			}
			// Training (hrss).
			if rng.Float64() < 0.15 {
				c := pick(rng, courses)
				done := day(h.relocated, 60+rng.IntN(900))
				passed := rng.Float64() < 0.88
				o := newObj().str("person_key", p.key).str("household_id", hid).str("course", c.course).str("kind", c.kind).
					str("provider", h.ss.c.name+"职业技术培训学校").date("started_on", day(done, -20-rng.IntN(40))).date("completed_on", done).bool("passed", passed)
				if passed {
					o.str("certificate_no", fmt.Sprintf("PX%s-%d-%04d", cc, done.Year(), rng.IntN(10000)))
				}
				if !g.emit("hrss", "hr.training", cc, p.key, done, o.yuan("subsidy_yuan", 800+float64(rng.IntN(8))*100).done()) {
					return false
				}
			}
		}
		// Schooling (edu): children from 3 to 18.
		if !g.schooling(h, p) {
			return false
		}
		// Medical insurance (medins): both schemes every year.
		exempt := rng.Float64() < 0.03
		for y := max(g.s.cfg.From.Year(), h.relocated.Year()); y <= g.s.cfg.To.Year(); y++ {
			if notInsured[y] || rng.Float64() < 0.005 {
				continue // uninsured this year
			}
			on := date(y-1, 12, 1+rng.IntN(20))
			if on.Before(h.relocated) {
				on = h.relocated // the cover moves with the household (参保关系随迁)
			}
			for _, scheme := range []string{"basic_medical", "serious_illness"} {
				o := newObj().str("person_key", p.key).str("household_id", hid).int("year", y).str("scheme", scheme)
				switch {
				case exempt:
					o.str("status", "exempt").str("note", "已参加城镇职工医疗保险")
				case scheme == "basic_medical" && rng.Float64() < 0.004:
					o.str("status", "lapsed")
				default:
					o.str("status", "enrolled").date("enrolled_on", on).str("insured_area", cc)
					if h.poor && scheme == "basic_medical" {
						o.yuan("subsidy_yuan", float64(min(400, 220+30*(y-2019))))
					}
				}
				if !g.emit("medins", "health.coverage", cc, p.key, on, o.done()) {
					return false
				}
			}
		}
		// Pension (hrss): adults enrol; at 60 they receive.
		if p.capacity != "student" && age >= 16 && rng.Float64() < 0.97 {
			if age < 60 {
				on := h.relocated // enrolled at the origin; the enrolment moves with the household
				o := newObj().str("person_key", p.key).str("household_id", hid).int("year", on.Year()).str("scheme", "residents").
					str("status", "enrolled").date("enrolled_on", on).yuan("contribution_grade_yuan", map[bool]float64{true: 100, false: 200}[h.poor])
				if !g.emit("hrss", "hr.pension", cc, p.key, on, o.done()) {
					return false
				}
			}
			at60 := date(p.birthYear+60, 1+rng.IntN(12), 1)
			if at60.Before(h.relocated) {
				at60 = h.relocated // already receiving at the origin
			}
			o := newObj().str("person_key", p.key).str("household_id", hid).int("year", at60.Year()).str("scheme", "residents").
				str("status", "receiving").yuan("monthly_pension_yuan", 150+float64(rng.IntN(80)))
			if !g.emit("hrss", "hr.pension", cc, p.key, at60, o.done()) {
				return false
			}
		}
		// Household registration (police).
		if hukou != "none" {
			on := day(hukouOn, rng.IntN(10))
			o := newObj().str("person_key", p.key).str("household_id", hid).str("action", hukou).date("effective_on", on)
			if hukou == "residence_permit" {
				o.date("valid_until", day(on, 5*365))
			}
			o.str("origin_area", h.origin).str("destination_area", cc)
			if !g.emit("police", "police.hukou", cc, p.key, on, o.done()) {
				return false
			}
		}
	}
	return true
}

// schooling emits a child's enrolments: kindergarten at 3, primary at 6,
// junior at 12, senior at 15; a child already at school when the family
// moved transfers. A few children are never enrolled or drop out.
func (g *gen) schooling(h *hhState, p person) bool {
	rng, cc := h.rng, h.ss.c.code
	// Children too young for kindergarten before the period ends have no
	// school yet; those born up to then start school within it.
	if p.birthYear+3 > g.s.cfg.To.Year() || p.birthYear < refYear-20 {
		return true
	}
	r := rng.Float64()
	if r < 0.015 {
		return true // never enrolled
	}
	dropAt := 0
	if r < 0.02 {
		dropAt = 13 + rng.IntN(2)
	}
	school := h.ss.school
	if school == "" {
		school = "PS" + cc + "-0000"
	}
	stages := []struct {
		level, id  string
		age, years int
		grade0     int
		chance     float64
	}{
		{"kindergarten", h.ss.kindergarten, 3, 3, -1, 0.7},
		{"primary", school, 6, 6, 1, 1},
		{"junior", fmt.Sprintf("JS%s-%02d", cc, 1+h.ss.k.serial%3), 12, 3, 7, 1},
		{"senior", "SS" + cc + "-01", 15, 3, 10, 0.55},
	}
	for _, st := range stages {
		if st.id == "" || rng.Float64() >= st.chance {
			continue
		}
		start := date(p.birthYear+st.age, 9, 1)
		end := date(p.birthYear+st.age+st.years, 6, 30)
		action, on, y := "enrolled", start, start.Year()
		if start.Before(h.relocated) {
			if !end.After(h.relocated) {
				continue
			}
			action, on = "transferred", h.relocated // the child changes school as the family moves
			y = on.Year()
			if on.Month() < 9 {
				y--
			}
		}
		o := newObj().str("person_key", p.key).str("household_id", h.id).str("action", action).str("school_id", st.id).
			str("school_county", cc).str("level", st.level)
		if st.grade0 > 0 && st.grade0+(y-start.Year()) <= 9 {
			o.int("grade", st.grade0+(y-start.Year()))
		}
		o.str("school_year", fmt.Sprintf("%d-%d", y, y+1)).date("effective_on", on).bool("near_home", st.id == h.ss.school)
		if !g.emit("edu", "edu.enrolment", cc, p.key, on, o.done()) {
			return false
		}
		if dropAt > 0 && dropAt < st.age+st.years && st.level == "junior" {
			left := date(p.birthYear+dropAt, 3+rng.IntN(6), 1)
			o := newObj().str("person_key", p.key).str("household_id", h.id).str("action", "dropped_out").str("school_id", st.id).
				str("level", st.level).date("effective_on", left)
			return g.emit("edu", "edu.enrolment", cc, p.key, left, o.done())
		}
		if st.level == "primary" || st.level == "junior" {
			o := newObj().str("person_key", p.key).str("household_id", h.id).str("action", "graduated").str("school_id", st.id).
				str("level", st.level).date("effective_on", end)
			if !g.emit("edu", "edu.enrolment", cc, p.key, end, o.done()) {
				return false
			}
		}
	}
	return true
}
