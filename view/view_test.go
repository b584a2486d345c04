package view_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// world builds log entries for view tests.
type world struct {
	t   *testing.T
	seq uint64
	n   int
}

func (w *world) entry(dept, family string, eff time.Time, data map[string]any) fact.Entry {
	w.t.Helper()
	w.n++
	b, err := json.Marshal(data)
	if err != nil {
		w.t.Fatal(err)
	}
	area := "610400"
	for _, k := range []string{"site_id", "household_id", "project_id"} {
		if s, ok := data[k].(string); ok {
			area = s[1:7]
			break
		}
	}
	return fact.Entry{
		Family: family, Area: area, Source: "/xianyang/" + dept, ID: fmt.Sprintf("%s-%d", family, w.n),
		Time: eff, Recorded: eff, Data: b,
	}
}

func (w *world) tick(at time.Time) fact.Entry {
	w.n++
	b, _ := json.Marshal(map[string]any{"clock": "clock", "at": at.Format(time.RFC3339), "period": "minute"})
	return fact.Entry{Family: "hub.tick", Area: "610400", Source: "/xianyang/hub", ID: fmt.Sprintf("tick-%d", w.n), Time: at, Recorded: at, Data: b}
}

func apply(v *view.View, es ...fact.Entry) []view.Change {
	var out []view.Change
	for i := range es {
		out = append(out, v.Apply(&es[i])...)
	}
	return out
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

const siteID = "S610424-0001"

func pk(i int) string { return fmt.Sprintf("%064x", i+1) }

// village returns the facts of a small, complete centralized site with one
// household of two adults and a child: every rule holds.
func village(w *world) []fact.Entry {
	const hh = "H610424-000001"
	es := []fact.Entry{
		w.entry("drc", "registry.site", day("2019-01-10"), map[string]any{
			"site_id": siteID, "county": "610424", "site_name": "城关安置小区", "kind": "centralized", "setting": "urban",
			"planned_households": 1, "planned_persons": 3, "status": "occupied"}),
		w.entry("poverty", "registry.household", day("2019-05-01"), map[string]any{
			"household_id": hh, "site_id": siteID, "size": 3, "labour_count": 2, "registered_poor": true, "relocated_on": "2019-05-01"}),
	}
	for i, p := range []struct {
		born   int
		labour string
	}{{1980, "full"}, {1982, "full"}, {2013, "student"}} {
		es = append(es, w.entry("poverty", "registry.person", day("2019-05-01"), map[string]any{
			"person_key": pk(i), "household_id": hh, "birth_year": p.born, "sex": "female", "labour_capacity": p.labour}))
		for _, scheme := range []string{"basic_medical", "serious_illness"} {
			es = append(es, w.entry("medins", "health.coverage", day("2021-01-01"), map[string]any{
				"person_key": pk(i), "household_id": hh, "year": 2021, "scheme": scheme, "status": "enrolled"}))
		}
		es = append(es, w.entry("police", "police.hukou", day("2019-08-01"), map[string]any{
			"person_key": pk(i), "household_id": hh, "action": "hukou_moved", "effective_on": "2019-08-01"}))
		if p.labour == "full" {
			es = append(es, w.entry("hrss", "hr.pension", day("2021-01-01"), map[string]any{
				"person_key": pk(i), "household_id": hh, "year": 2021, "status": "enrolled"}))
		}
	}
	es = append(es,
		w.entry("hrss", "hr.employment", day("2019-07-01"), map[string]any{
			"person_key": pk(0), "household_id": hh, "status": "employed", "kind": "workshop", "start_on": "2019-07-01"}),
		w.entry("edu", "edu.enrolment", day("2019-09-01"), map[string]any{
			"person_key": pk(2), "household_id": hh, "action": "enrolled", "school_id": "SC610424-001", "level": "primary", "effective_on": "2019-09-01"}),
		w.entry("resources", "resources.deeds", day("2019-10-01"), map[string]any{
			"household_id": hh, "site_id": siteID, "status": "certificate_issued", "certificate_no": "陕(2019)乾县不动产权第0000001号", "registered_on": "2019-10-01"}),
		w.entry("resources", "resources.reclamation", day("2020-03-01"), map[string]any{
			"household_id": hh, "origin_area": "610424", "stage": "reclaimed", "effective_on": "2020-03-01",
			"in_linkage_project": true, "project_id": "P610424-ZJGG1"}),
		w.entry("housing", "housing.quality", day("2020-06-01"), map[string]any{
			"site_id": siteID, "kind": "repair_fund", "fund_set_up_on": "2020-06-01", "fund_balance_yuan": 120000}),
		w.entry("hrss", "hr.workshop", day("2019-06-01"), map[string]any{
			"site_id": siteID, "workshop_id": "WS-1", "kind": "poverty_workshop", "status": "open"}),
		w.entry("health", "health.facility", day("2019-06-01"), map[string]any{
			"site_id": siteID, "facility_id": "CL-1", "kind": "clinic", "status": "open"}),
		w.entry("edu", "edu.capacity", day("2019-08-01"), map[string]any{
			"site_id": siteID, "school_id": "SC610424-001", "level": "primary", "school_year": "2019-2020", "seats": 300,
			"seats_used": 200, "teachers": 20, "serves_site": true}),
		w.entry("edu", "edu.capacity", day("2019-08-01"), map[string]any{
			"site_id": siteID, "school_id": "KG610424-001", "level": "kindergarten", "school_year": "2019-2020", "seats": 90,
			"seats_used": 60, "teachers": 8, "serves_site": true}),
		w.entry("civil", "civil.community", day("2019-06-01"), map[string]any{
			"site_id": siteID, "unit_id": "U-1", "form": "standalone", "unit_kind": "community", "set_up_on": "2019-06-01"}),
		w.entry("org", "org.partybranch", day("2019-06-01"), map[string]any{
			"site_id": siteID, "org_id": "P-1", "kind": "party_branch", "set_up_on": "2019-06-01"}),
	)
	for _, item := range []string{"water", "power", "road", "gas", "heating", "sewage", "telecom", "sanitation"} {
		dept := map[string]string{"water": "water", "power": "power", "road": "transport", "gas": "gas", "heating": "housing",
			"sewage": "eco", "telecom": "cac", "sanitation": "housing"}[item]
		es = append(es, w.entry(dept, "infra."+item, day("2019-04-01"), map[string]any{
			"site_id": siteID, "status": "done", "completed_on": "2019-04-01"}))
	}
	return es
}

func newView(t *testing.T) *view.View {
	t.Helper()
	v, err := view.New(schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// freshDepts keeps every department fresh (R18) at clock t.
func freshDepts(w *world, t time.Time) []fact.Entry {
	var es []fact.Entry
	for _, d := range schemas.MustLoad().Departments() {
		e := w.entry(d.Code, "issue.report", t, map[string]any{"report_id": "alive-" + d.Code, "department": d.Code,
			"kind": "problem", "reported_on": t.Format(time.DateOnly), "description": "例行更新"})
		e.Recorded = t
		es = append(es, e)
	}
	return es
}

func TestCompleteVillageHasNoWarnings(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	now := day("2021-06-01")
	apply(v, village(w)...)
	apply(v, freshDepts(w, now)...)
	changes := apply(v, w.tick(now))
	for _, c := range changes {
		t.Errorf("unexpected %s %s on %s: %s", c.Kind, c.Warning.Rule, c.Warning.EntityID, c.Warning.Message)
	}
	city := v.City()
	for name, want := range map[string]int64{"persons": 3, "households": 1, "school_age": 1, "enrolled": 1,
		"insured_both": 3, "zero_employment": 0, "households_employed": 1, "deeds": 1, "infra_all": 1, "clinics": 1} {
		if got := city.Indicators.Counts[name]; got != want {
			t.Errorf("city %s = %d, want %d", name, got, want)
		}
	}
	h, err := v.Household("H610424-000001")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Secure || len(h.Members) != 3 || h.Site != siteID {
		t.Errorf("household = %+v", h)
	}
	if got := h.Obligations["title_deed"]; !got.Met || got.Fact == nil || got.Fact.Family != "resources.deeds" {
		t.Errorf("title deed obligation = %+v", got)
	}
}

// TestZeroEmploymentBreaksAndHolds is R4 through a household's facts.
func TestZeroEmploymentBreaksAndHolds(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	now := day("2021-06-01")
	apply(v, village(w)...)
	apply(v, freshDepts(w, now)...)
	apply(v, w.tick(now))
	// The only employed member loses the job.
	apply(v, w.entry("hrss", "hr.employment", day("2021-05-01"), map[string]any{
		"person_key": pk(0), "household_id": "H610424-000001", "status": "unemployed", "start_on": "2021-05-01"}))
	changes := apply(v, w.tick(now.Add(time.Hour)))
	// R4, and R23: without an income the household is not 两不愁三保障.
	if len(changes) != 2 || changes[0].Kind != view.Raised || changes[0].Warning.Rule != "R4" || changes[1].Warning.Rule != "R23" {
		t.Fatalf("changes = %+v, want R4 and R23 raised", changes)
	}
	wr := changes[0].Warning
	if wr.EntityID != "H610424-000001" || wr.Responsible[0] != "hrss" || wr.Area != "610424" {
		t.Errorf("warning = %+v", wr)
	}
	if !wr.Since.Equal(day("2021-05-01")) || !wr.Due.Equal(now.Add(time.Hour).AddDate(0, 0, 30)) {
		t.Errorf("since %v due %v", wr.Since, wr.Due)
	}
	families := map[string]bool{}
	for _, e := range wr.Evidence {
		families[e.Family] = true
	}
	if !families["registry.household"] || !families["hr.employment"] {
		t.Errorf("evidence %+v lacks the household and the employment facts", wr.Evidence)
	}
	if got := v.City().Indicators.Counts["zero_employment"]; got != 1 {
		t.Errorf("zero_employment = %d, want 1", got)
	}
	// Someone is employed again: the warning resolves.
	apply(v, w.entry("hrss", "hr.employment", day("2021-06-10"), map[string]any{
		"person_key": pk(1), "household_id": "H610424-000001", "status": "employed", "kind": "public_welfare", "start_on": "2021-06-10"}))
	changes = apply(v, w.tick(day("2021-06-11")))
	if len(changes) != 2 || changes[0].Kind != view.Resolved || changes[0].Warning.ID != wr.ID ||
		changes[1].Kind != view.Resolved || changes[1].Warning.Rule != "R23" {
		t.Fatalf("changes = %+v, want %s and the R23 warning resolved", changes, wr.ID)
	}
}

// TestLateFactLandsInPlace: an older fact reported after a newer one does
// not override it.
func TestLateFactLandsInPlace(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, village(w)...)
	apply(v, w.tick(day("2021-06-01")))
	before := v.Digest()
	// A dropout in 2018 reported now: the 2019 enrolment stands.
	apply(v, w.entry("edu", "edu.enrolment", day("2018-09-01"), map[string]any{
		"person_key": pk(2), "household_id": "H610424-000001", "action": "dropped_out", "school_id": "SC610424-001",
		"level": "primary", "effective_on": "2018-09-01"}))
	h, _ := v.Household("H610424-000001")
	for _, m := range h.Members {
		if m.PersonKey == pk(2) && m.Obligations["compulsory_edu"].State != "enrolled" {
			t.Errorf("late dropout overrode a later enrolment: %+v", m.Obligations["compulsory_edu"])
		}
	}
	if before == v.Digest() {
		t.Log("digest unchanged is fine only if the register kept the later fact")
	}
}

// TestInterleavingsGiveTheSameDigest folds the same facts in different
// orders across departments (each department's own order kept).
func TestInterleavingsGiveTheSameDigest(t *testing.T) {
	w := &world{t: t}
	es := village(w)
	// More households and some breakage so that rules have work to do.
	for i := 2; i <= 40; i++ {
		hh := fmt.Sprintf("H610424-%06d", i)
		es = append(es, w.entry("poverty", "registry.household", day("2019-05-01"), map[string]any{
			"household_id": hh, "site_id": siteID, "size": 2, "labour_count": 1, "registered_poor": i%2 == 0, "relocated_on": "2019-05-01"}))
		for j := 0; j < 2; j++ {
			p := pk(i*10 + j)
			es = append(es, w.entry("poverty", "registry.person", day("2019-05-01"), map[string]any{
				"person_key": p, "household_id": hh, "birth_year": 1975 + i, "sex": "male", "labour_capacity": "full"}))
			if (i+j)%3 != 0 {
				es = append(es, w.entry("hrss", "hr.employment", day("2020-01-01").AddDate(0, 0, i), map[string]any{
					"person_key": p, "household_id": hh, "status": "employed", "kind": "local", "start_on": "2020-01-01"}))
			}
			if i%4 != 0 {
				es = append(es, w.entry("medins", "health.coverage", day("2021-01-01"), map[string]any{
					"person_key": p, "household_id": hh, "year": 2021, "scheme": "basic_medical", "status": "enrolled"}))
			}
		}
	}
	byDept := map[string][]fact.Entry{}
	var depts []string
	for _, e := range es {
		if _, ok := byDept[e.Source]; !ok {
			depts = append(depts, e.Source)
		}
		byDept[e.Source] = append(byDept[e.Source], e)
	}
	digest := func(seed uint64) string {
		r := rand.New(rand.NewPCG(seed, 1))
		v := newView(t)
		next := map[string]int{}
		var seq uint64
		for left := len(es); left > 0; left-- {
			var d string
			for {
				d = depts[r.IntN(len(depts))]
				if next[d] < len(byDept[d]) {
					break
				}
			}
			e := byDept[d][next[d]]
			next[d]++
			seq++
			e.Seq = seq
			v.Apply(&e)
			if r.IntN(50) == 0 {
				tk := w.tick(day("2021-06-01").Add(-time.Duration(left) * time.Minute))
				seq++
				tk.Seq = seq
				v.Apply(&tk)
			}
		}
		tk := w.tick(day("2021-06-01"))
		tk.Seq = seq + 1
		v.Apply(&tk)
		return v.Digest()
	}
	first := digest(1)
	for seed := uint64(2); seed < 6; seed++ {
		if got := digest(seed); got != first {
			t.Fatalf("interleaving %d gives digest %s, interleaving 1 %s", seed, got, first)
		}
	}
}

// TestWarningsPage pages through open warnings in rule then entity order,
// matching the full list.
func TestWarningsPage(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	es := village(w)
	for i := 2; i <= 12; i++ {
		es = append(es, w.entry("poverty", "registry.household", day("2019-05-01"), map[string]any{
			"household_id": fmt.Sprintf("H610424-%06d", i), "site_id": siteID, "size": 1, "labour_count": 1,
			"registered_poor": true, "relocated_on": "2019-05-01"}))
	}
	apply(v, es...)
	apply(v, w.tick(day("2021-06-01")))
	all := v.Warnings(view.WarningQuery{})
	if len(all) < 10 {
		t.Fatalf("%d warnings, want a few dozen", len(all))
	}
	var got []view.Warning
	rule, entity := "", ""
	for {
		page, more := v.WarningsPage(view.WarningQuery{}, rule, entity, 3)
		got = append(got, page...)
		if !more {
			break
		}
		rule, entity = page[len(page)-1].Rule, page[len(page)-1].EntityID
	}
	if len(got) != len(all) {
		t.Fatalf("pages hold %d warnings, the list %d", len(got), len(all))
	}
	for i := range all {
		if got[i].ID != all[i].ID {
			t.Fatalf("item %d: page order %s, list order %s", i, got[i].ID, all[i].ID)
		}
	}
}
