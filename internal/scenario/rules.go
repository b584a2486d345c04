package scenario

import "time"

// RuleCase makes one rule break and hold again on the village: the facts
// to add first, the facts that break the rule, the facts that make it hold
// again, and what the warning must show.
type RuleCase struct {
	Rule   string
	Entity string // the warning's entity id
	Setup  []Item
	Breaks []Item
	Holds  []Item
	// Evidence are families the warning's evidence must include.
	Evidence []string
	// Responsible is a unit the warning must go to.
	Responsible string
	// Clock is when the village is judged, when not RuleClock(year): a
	// rule broken by time passing (a deadline, a quarter's end) is judged
	// just before, the breaking facts an hour later.
	Clock time.Time
}

// timeless is a case judged at RuleClock: a RuleCase without its clock.
type timeless struct {
	Rule, Entity         string
	Setup, Breaks, Holds []Item
	Evidence             []string
	Responsible          string
}

// RuleClock is when the village is judged (a tick), an hour later after the
// breaking facts, two hours later after the holding ones.
func RuleClock(year int) time.Time { return time.Date(year, 6, 1, 0, 0, 0, 0, time.UTC) }

// Without splits items into those not of a family and those of it.
func Without(items []Item, family string) (rest, removed []Item) {
	for _, it := range items {
		if it.Fact.Family == family {
			removed = append(removed, it)
		} else {
			rest = append(rest, it)
		}
	}
	return rest, removed
}

// At is an item taking effect at t.
func At(it Item, t time.Time) Item {
	it.Fact.Time = t
	return it
}

// With is an item with one data field set.
func With(it Item, k string, v any) Item {
	d := map[string]any{}
	for key, val := range it.Data() {
		d[key] = val
	}
	d[k] = v
	it.Fact.Data = d
	return it
}

// ProjectJobs is a project's jobs and how many went to relocated persons
// (hr.projectjobs), as of eff.
func ProjectJobs(project, kind string, total, relocated int, eff string) Item {
	return item("hrss", "hr.projectjobs", Day(eff), map[string]any{
		"project_id": project, "area": project[1:7], "project_name": "安置区道路改造", "kind": kind,
		"jobs_total": total, "jobs_relocated": relocated, "as_of": eff})
}

// Drop is an item without one data field.
func Drop(it Item, k string) Item {
	d := map[string]any{}
	for key, val := range it.Data() {
		if key != k {
			d[key] = val
		}
	}
	it.Fact.Data = d
	return it
}

// RuleCases returns a case for every rule evaluated on the village of
// year (all but R18, the departments' freshness, which needs time to pass).
func RuleCases(year int) []RuleCase {
	village := Village(year)
	hh := VillageHousehold
	site := VillageSite
	workshop := village[1]
	var clinic, school, community Item
	for _, it := range village {
		switch it.Fact.Family {
		case "hr.workshop":
			workshop = it
		case "health.facility":
			clinic = it
		case "civil.community":
			community = it
		case "edu.capacity":
			if it.Data()["level"] == "primary" {
				school = it
			}
		}
	}
	newHousehold := func(id string) []Item {
		return Household(id, site, year, []Member{{Key: Person(100 + len(id)), Born: 1985, Labour: "full"}})
	}
	h3, deed := Without(newHousehold("H610424-000003"), "resources.deeds")
	h4, hukou := Without(newHousehold("H610424-000004"), "police.hukou")
	h5, reclaim := Without(newHousehold("H610424-000005"), "resources.reclamation")
	var trainees []Member
	for i := 0; i < 5; i++ {
		trainees = append(trainees, Member{Key: Person(200 + i), Born: 1990, Labour: "full"})
	}
	training := func() (out []Item) {
		for _, m := range trainees {
			out = append(out, item("hrss", "hr.training", Day("2020-01-01"), map[string]any{
				"person_key": m.Key, "household_id": "H610424-000002", "course": "电商技能", "kind": "skills",
				"completed_on": "2020-01-01", "passed": true}))
		}
		return out
	}
	site2 := "S610424-0002"
	services2, party := Without(Services(site2, "610424"), "org.partybranch")
	projectJobs := func(relocated int, eff string) Item {
		return ProjectJobs("P610424-G1", "government_investment", 100, relocated, eff)
	}
	coverage := Covered(Person(0), hh, year, "lapsed")[0]

	cases := []timeless{
		{"R1", site, nil,
			[]Item{At(With(With(workshop, "status", "closed"), "closed_on", "2021-05-01"), Day("2021-05-01"))},
			[]Item{At(workshop, Day("2021-05-20"))}, []string{"registry.site"}, "agri"},
		{"R2", site, []Item{At(With(Site(site, "610424", 320, 700), "status", "occupied"), Day("2020-01-01"))},
			[]Item{At(With(With(workshop, "status", "closed"), "closed_on", "2021-05-01"), Day("2021-05-01"))},
			[]Item{At(With(With(workshop, "workshop_id", "WS-2"), "kind", "community_factory"), Day("2021-05-20"))},
			[]string{"registry.site"}, "hrss"},
		{"R3", "P610424-G1", nil, []Item{projectJobs(20, "2021-05-01")}, []Item{projectJobs(35, "2021-05-20")},
			[]string{"hr.projectjobs"}, "hrss"},
		{"R4", hh, nil,
			[]Item{Employed(Person(0), hh, "unemployed", Day("2021-05-01"))},
			[]Item{Employed(Person(1), hh, "employed", Day("2021-05-15"))},
			[]string{"registry.household", "hr.employment"}, "hrss"},
		{"R5", site, Household("H610424-000002", site, year, trainees), training(),
			[]Item{
				Employed(trainees[1].Key, "H610424-000002", "employed", Day("2020-03-01")),
				Employed(trainees[2].Key, "H610424-000002", "employed", Day("2020-03-01"))},
			[]string{"registry.site"}, "hrss"},
		{"R6", Person(2), nil,
			[]Item{Enrolment(Person(2), hh, "dropped_out", Day("2021-03-01"))},
			[]Item{Enrolment(Person(2), hh, "enrolled", Day("2021-04-01"))},
			[]string{"registry.person", "edu.enrolment"}, "edu"},
		{"R7", Person(0), nil,
			[]Item{At(coverage, Day("2021-03-01"))},
			[]Item{At(With(coverage, "status", "enrolled"), Day("2021-04-01"))},
			[]string{"registry.person", "health.coverage"}, "medins"},
		{"R8", Person(0), nil,
			[]Item{At(Pension(Person(0), hh, year, "lapsed"), Day("2021-03-01"))},
			[]Item{At(Pension(Person(0), hh, year, "enrolled"), Day("2021-04-01"))},
			[]string{"registry.person", "hr.pension"}, "hrss"},
		{"R9", "H610424-000003", nil, h3, deed, []string{"registry.household"}, "resources"},
		{"R20", site, nil,
			[]Item{item("housing", "housing.quality", Day("2021-05-01"), map[string]any{"site_id": site, "kind": "inspection",
				"inspected_on": "2021-05-01", "houses_inspected": 40, "houses_failed": 3, "result": "fail"})},
			[]Item{item("housing", "housing.quality", Day("2021-05-20"), map[string]any{"site_id": site, "kind": "inspection",
				"inspected_on": "2021-05-01", "houses_inspected": 40, "houses_failed": 3, "result": "rectified", "rectified_on": "2021-05-20"})},
			[]string{"registry.site", "housing.quality"}, "housing"},
		{"R21", hh, nil,
			[]Item{Drop(Drop(At(Reclamation(hh, "reclaimed", Day("2020-03-01")), Day("2021-05-01")), "in_linkage_project"), "project_id")},
			[]Item{At(Reclamation(hh, "reclaimed", Day("2020-03-01")), Day("2021-05-20"))},
			[]string{"registry.household", "resources.reclamation"}, "resources"},
		// The site's primary school is full, without the village's child:
		// then it enrols the child.
		{"R24", site, nil,
			[]Item{At(With(With(school, "seats_used", 300), "relocated_pupils", 0), Day("2021-05-01"))},
			[]Item{At(With(With(school, "seats_used", 300), "relocated_pupils", 1), Day("2021-05-20"))},
			[]string{"registry.site"}, "edu"},
		// The community's budget falls below an urban community's of the
		// same size; then the county raises it.
		{"R25", site, nil,
			[]Item{At(With(With(community, "annual_budget_yuan", 100000), "urban_budget_yuan", 150000), Day("2021-05-01"))},
			[]Item{At(With(With(community, "annual_budget_yuan", 150000), "urban_budget_yuan", 150000), Day("2021-05-20"))},
			[]string{"registry.site"}, "county/610424"},
		// A member's insurance lapses: the household is no longer 两不愁三保障.
		{"R23", hh, nil,
			[]Item{At(coverage, Day("2021-03-01"))},
			[]Item{At(With(coverage, "status", "enrolled"), Day("2021-04-01"))},
			[]string{"registry.household"}, "county/610424"},
		{"R10", "H610424-000004", nil, h4, hukou, []string{"registry.household"}, "police"},
		{"R11", "H610424-000005", nil, h5, reclaim, []string{"registry.household"}, "resources"},
		{"R12", site + "/water", nil,
			[]Item{Infra(site, "water", "building", Day("2021-05-01"))},
			[]Item{Infra(site, "water", "done", Day("2021-05-20"))},
			[]string{"registry.site", "infra.water"}, "water"},
		{"R13", site + "/clinic", nil,
			[]Item{At(With(clinic, "status", "closed"), Day("2021-05-01"))},
			[]Item{At(clinic, Day("2021-05-20"))}, []string{"registry.site"}, "health"},
		{"R14", site2 + "/party", nil, append([]Item{Site(site2, "610424", 50, 150)}, services2...), party,
			[]string{"registry.site"}, "org"},
		{"R17", "P610424-F1", nil,
			// The clinic closes: the site's public services are no longer
			// arranged, and the funds went elsewhere. A new clinic planned
			// (安排到位, not yet open) makes the rule hold again.
			[]Item{
				At(With(clinic, "status", "closed"), Day("2021-05-01")),
				item("finance", "finance.funds", Day("2021-05-02"), map[string]any{
					"project_id": "P610424-F1", "area": "610424", "action": "allocated", "amount_yuan": 500000.00,
					"target": "other_area", "purpose": "industry", "fund_source": "municipal", "dated_on": "2021-05-02"})},
			[]Item{At(With(With(clinic, "facility_id", "CL-NEW"), "status", "planned"), Day("2021-05-20"))},
			[]string{"finance.funds", "registry.site"}, "finance"},
	}
	var out []RuleCase
	for _, c := range cases {
		out = append(out, RuleCase{Rule: c.Rule, Entity: c.Entity, Setup: c.Setup, Breaks: c.Breaks, Holds: c.Holds,
			Evidence: c.Evidence, Responsible: c.Responsible})
	}
	return append(append(out, planCases()...), findingCases()...)
}

// Finding is an audit (by audit) or inspection (by inspect) finding of the
// village's county that hrss or finance must rectify, found on a day, due
// on a day ("" for none), in a status.
func Finding(family, id, responsible, found, due, status string, eff time.Time) Item {
	dept := "inspect"
	if family == "audit.finding" {
		dept = "audit"
	}
	d := map[string]any{"finding_id": id, "area": "610424", "responsible": responsible, "category": "policy_not_implemented",
		"severity": "medium", "status": status, "found_on": found}
	if due != "" {
		d["due_on"] = due
	}
	if status == "rectified" {
		d["rectified_on"] = eff.Format(time.DateOnly)
	}
	return item(dept, family, eff, d)
}

// findingCases break and hold R22: an inspection finding past its
// deadline, and an audit finding that names none, past the rule's default
// days.
func findingCases() []RuleCase {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	return []RuleCase{
		{Rule: "R22", Entity: "DC-2021-05", Clock: at("2021-05-31T23:00:00Z"),
			Setup:    []Item{Finding("inspect.finding", "DC-2021-05", "hrss", "2021-03-10", "2021-05-31", "rectifying", Day("2021-03-10"))},
			Holds:    []Item{Finding("inspect.finding", "DC-2021-05", "hrss", "2021-03-10", "2021-05-31", "rectified", Day("2021-06-01"))},
			Evidence: []string{"inspect.finding"}, Responsible: "hrss"},
		{Rule: "R22", Entity: "AU-2021-01",
			Breaks:   []Item{Finding("audit.finding", "AU-2021-01", "finance", "2021-02-01", "", "open", Day("2021-02-01"))},
			Holds:    []Item{Finding("audit.finding", "AU-2021-01", "finance", "2021-02-01", "", "rectified", Day("2021-05-30"))},
			Evidence: []string{"audit.finding"}, Responsible: "finance"},
	}
}

// planCases break and hold the rules of the lead office's plan: R15 and
// R16 by time passing (a milestone, a quarter's end), R19 by time and by a
// scheme weighing the follow-up work too little.
func planCases() []RuleCase {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	return []RuleCase{
		{Rule: "R15", Entity: "RL09-1/hrss", Clock: at("2021-05-31T23:00:00Z"),
			Setup: append(Plan("2021Q1", 2021), PlanTask("RL09-1", "hrss", "2021-05-31", "complete", Day("2021-01-10")),
				Progress("RL09-1", "hrss", "in_progress", 80, "2021-05-20")),
			Holds:    []Item{Progress("RL09-1", "hrss", "done", 100, "2021-06-01")},
			Evidence: []string{"plan.task", "task.progress"}, Responsible: "hrss"},
		{Rule: "R15", Entity: "JM-2021Q1-I1/county/610424", Clock: at("2021-04-30T23:00:00Z"),
			// An issue a meeting assigned to a county government, due at
			// the end of April, with no report.
			Setup:    append(Plan("2020Q4", 2021), Meeting("2021Q1", "2021-03-20", Issue{No: 1, Owner: "county/610424", Due: "2021-04-30"})),
			Holds:    []Item{Progress("JM-2021Q1-I1", "county/610424", "done", 100, "2021-05-01")},
			Evidence: []string{"plan.meeting"}, Responsible: "county/610424"},
		{Rule: "R16", Entity: "610400/2021Q2", Clock: at("2021-06-30T23:00:00Z"),
			Setup: Plan("2021Q1", 2021), Holds: []Item{Meeting("2021Q2", "2021-07-01")}, Responsible: "drc"},
		{Rule: "R19", Entity: "610424/2021", Clock: at("2021-03-31T23:00:00Z"),
			Setup: Plan("2021Q1", 2021, "610424/2021"), Holds: []Item{Scheme("610424", 2021, 0.35, "2021-04-01")},
			Responsible: "county/610424"},
		{Rule: "R19", Entity: "610424/2021",
			Setup:    Plan("2021Q1", 2021),
			Breaks:   []Item{Scheme("610424", 2021, 0.20, "2021-05-20")},
			Holds:    []Item{Scheme("610424", 2021, 0.35, "2021-05-25")},
			Evidence: []string{"plan.assessment"}, Responsible: "county/610424"},
	}
}
