package view_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestRuleReadings holds the rules to the guidance's own words where an
// earlier reading was looser or stricter (MANDATES.md's partial rows): each
// case adds facts to the complete village, sets the clock, and says whether
// the rule is broken on the entity, and what the warning must say.
func TestRuleReadings(t *testing.T) {
	const year = 2021
	cat := schemas.MustLoad()
	site, hh := scenario.VillageSite, scenario.VillageHousehold
	t0 := scenario.RuleClock(year)
	var depts []string
	for _, d := range cat.Departments() {
		depts = append(depts, d.Code)
	}
	village := scenario.Village(year)
	find := func(family string) scenario.Item {
		for _, it := range village {
			if it.Fact.Family == family {
				return it
			}
		}
		t.Fatalf("the village has no %s fact", family)
		return scenario.Item{}
	}
	large := scenario.At(scenario.Site(site, "610424", 300, 900), scenario.Day("2019-01-10"))
	noDeed, _ := scenario.Without(scenario.Household("H610424-000009", site, year,
		[]scenario.Member{{Key: scenario.Person(90), Born: 1980, Labour: "full"}}), "resources.deeds")
	registeredOnly := scenario.At(scenario.Drop(scenario.With(find("resources.deeds"), "status", "registered"),
		"certificate_no"), scenario.Day("2019-10-02"))
	residenceRegistered := func() []scenario.Item {
		var out []scenario.Item
		for _, it := range village {
			if it.Fact.Family == "police.hukou" {
				out = append(out, scenario.At(scenario.Drop(scenario.With(it, "action", "residence_registered"),
					"destination_area"), scenario.Day("2019-08-02")))
			}
		}
		return out
	}()
	school := find("edu.capacity")
	site2 := "S610424-0002"
	noUnit, _ := scenario.Without(scenario.Services(site2, "610424"), "civil.community")
	noUnit = append(noUnit, scenario.Site(site2, "610424", 50, 150))
	for _, tc := range []struct {
		name   string
		add    []scenario.Item
		clock  time.Time
		rule   string
		entity string
		broken bool
		says   string // the warning's message contains this
	}{
		// R1: 800人以上的安置点至少配套1个扶贫产业园 — one operating, not one being built.
		{"R1 large site with a park being built", []scenario.Item{large, scenario.Park(site, "building", scenario.Day("2020-01-01"))},
			t0, "R1", site, true, "扶贫产业园"},
		{"R1 large site with an operating park", []scenario.Item{large, scenario.Park(site, "operating", scenario.Day("2020-01-01"))},
			t0, "R1", site, false, ""},
		// R9: 核发不动产权证书, 2020年底前基本完成.
		{"R9 registered without a certificate", []scenario.Item{registeredOnly}, t0, "R9", hh, true, "未核发不动产权证书"},
		{"R9 before the annex's deadline", noDeed, scenario.Day("2020-06-01"), "R9", "H610424-000009", false, ""},
		{"R9 after the annex's deadline", noDeed, scenario.Day("2021-01-02"), "R9", "H610424-000009", true, "未办理不动产登记"},
		// R10: 通过居住登记和办理居住证等形式进行管理.
		{"R10 residence registration counts", residenceRegistered, t0, "R10", hh, false, ""},
		// R13: 就近入学、入托.
		{"R13 no kindergarten", []scenario.Item{scenario.At(scenario.Kindergarten(site, "610424", false), scenario.Day("2020-09-01"))},
			t0, "R13", site + "/school", true, "幼儿园"},
		{"R13 the school does not admit the site's children", []scenario.Item{
			scenario.At(scenario.With(school, "serves_site", false), scenario.Day("2020-09-01"))},
			t0, "R13", site + "/school", true, "义务教育学校"},
		{"R13 a kindergarten is not a school", []scenario.Item{
			scenario.At(scenario.With(school, "level", "kindergarten"), scenario.Day("2020-09-01"))},
			t0, "R13", site + "/school", true, "义务教育学校"},
		// R14: the self-governance branch (the party branch is RuleCases').
		{"R14 no self-governance unit", noUnit, t0, "R14", site2 + "/self_governance", true, "社区自治单元"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := view.New(cat)
			if err != nil {
				t.Fatal(err)
			}
			w := &ruleWorld{t: t, cat: cat, v: v, keys: map[uint64]string{}}
			w.fold(village...)
			w.fold(scenario.Alive(depts, tc.clock)...)
			w.fold(tc.add...)
			w.tick(tc.clock)
			var got *view.Warning
			for _, x := range v.Warnings(view.WarningQuery{Rule: tc.rule}) {
				if x.EntityID == tc.entity {
					got = &x
				}
			}
			switch {
			case tc.broken && got == nil:
				t.Fatalf("no %s warning on %s", tc.rule, tc.entity)
			case !tc.broken && got != nil:
				t.Fatalf("%s raised on %s: %s", tc.rule, tc.entity, got.Message)
			case got != nil && !strings.Contains(got.Message, tc.says):
				t.Errorf("%s on %s says %q, want it to name %s", tc.rule, tc.entity, got.Message, tc.says)
			}
		})
	}
}

// TestInfrastructureItems: R12 demands each of the 8 items of an occupied
// centralized site from its own owner (rules.json params.items), is met
// when the item is done, and is not demanded once the owner declares the
// site does not need it (缺什么补什么) — the site then counts as complete.
func TestInfrastructureItems(t *testing.T) {
	const year = 2021
	cat := schemas.MustLoad()
	site := scenario.VillageSite
	t0 := scenario.RuleClock(year)
	rule, _ := cat.Rules().Rule("R12")
	var p struct {
		Items map[string][]string `json:"items"`
	}
	if err := rule.DecodeParams(&p); err != nil {
		t.Fatal(err)
	}
	var depts []string
	for _, d := range cat.Departments() {
		depts = append(depts, d.Code)
	}
	if len(scenario.InfraItems) != 8 {
		t.Fatalf("%d infrastructure items, want the guidance's 8", len(scenario.InfraItems))
	}
	for _, item := range scenario.InfraItems {
		t.Run(item, func(t *testing.T) {
			v, err := view.New(cat)
			if err != nil {
				t.Fatal(err)
			}
			w := &ruleWorld{t: t, cat: cat, v: v, keys: map[uint64]string{}}
			w.fold(scenario.Village(year)...)
			w.fold(scenario.Alive(depts, t0)...)
			w.fold(scenario.Infra(site, item, "building", scenario.Day("2021-05-01")))
			w.tick(t0)
			open := v.Warnings(view.WarningQuery{Rule: "R12"})
			if len(open) != 1 || open[0].EntityID != site+"/"+item {
				t.Fatalf("an item being built: R12 open on %v, want %s/%s", open, site, item)
			}
			for _, owner := range p.Items[item] {
				if !slices.Contains(open[0].Responsible, owner) {
					t.Errorf("R12 on %s goes to %v, not to its owner %s", item, open[0].Responsible, owner)
				}
			}
			sv, _ := v.Site(site)
			if sv.Infrastructure[item].Met || sv.Infrastructure[item].State != "building" {
				t.Errorf("the site shows %s as %+v", item, sv.Infrastructure[item])
			}
			// The owner declares the site does not need it.
			nn := scenario.Infra(site, item, "not_needed", scenario.Day("2021-05-20"))
			nn = scenario.With(nn, "note", "安置点不需要")
			w.fold(nn)
			w.tick(t0.Add(time.Hour))
			if open := v.Warnings(view.WarningQuery{Rule: "R12"}); len(open) != 0 {
				t.Errorf("declared not needed, R12 is still open: %v", open)
			}
			sv, _ = v.Site(site)
			if got := sv.Infrastructure[item]; !got.Met || got.State != "not_needed" {
				t.Errorf("declared not needed, the site shows %s as %+v", item, got)
			}
			if r := sv.Indicators.Rates["infrastructure_complete"]; r != 1 {
				t.Errorf("declared not needed, infrastructure_complete is %v, want 1", r)
			}
		})
	}
}

// TestProjectJobsCountOnlyQuotaKinds: R3's 30% applies to government
// investment, work relief and public-service posts (rules.json params.kinds);
// a project of another kind (苏陕协作, 国企) is neither judged nor counted in
// the area's project-jobs rate.
func TestProjectJobsCountOnlyQuotaKinds(t *testing.T) {
	const year = 2021
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	w := &ruleWorld{t: t, cat: cat, v: v, keys: map[uint64]string{}}
	w.fold(scenario.Village(year)...)
	w.fold(scenario.ProjectJobs("P610424-G1", "government_investment", 100, 40, "2021-05-01"),
		scenario.ProjectJobs("P610424-S1", "suzhou_shaanxi", 500, 0, "2021-05-01"),
		scenario.ProjectJobs("P610424-W1", "work_relief", 50, 5, "2021-05-01"))
	w.tick(scenario.RuleClock(year))
	for _, x := range v.Warnings(view.WarningQuery{Rule: "R3"}) {
		if x.EntityID == "P610424-S1" {
			t.Errorf("R3 judged a 苏陕协作 project: %s", x.Message)
		}
	}
	if n := len(v.Warnings(view.WarningQuery{Rule: "R3"})); n != 1 {
		t.Errorf("%d R3 warnings, want 1 (the work-relief project under 30%%)", n)
	}
	c, err := v.County("610424")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Indicators.Counts["project_jobs"]; got != 150 {
		t.Errorf("project_jobs %d, want 150 (the two projects the 30%% applies to)", got)
	}
	if got := c.Indicators.Counts["project_jobs_relocated"]; got != 45 {
		t.Errorf("project_jobs_relocated %d, want 45", got)
	}
	// A project whose kind changes moves in and out of the count.
	w.fold(scenario.ProjectJobs("P610424-W1", "soe", 50, 5, "2021-05-02"))
	c, _ = v.County("610424")
	if got := c.Indicators.Counts["project_jobs"]; got != 100 {
		t.Errorf("after W1 became soe: project_jobs %d, want 100", got)
	}
}
