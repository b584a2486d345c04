package view_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestSupervisionHistory: the monthly tallies follow the log's warning and
// report entries, in the city and the warning's county, and survive a
// snapshot.
func TestSupervisionHistory(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	now := day("2021-06-01")
	apply(v, village(w)...)
	apply(v, freshDepts(w, now)...)
	apply(v, w.tick(now))
	apply(v, w.entry("hrss", "hr.employment", day("2021-05-01"), map[string]any{
		"person_key": pk(0), "household_id": "H610424-000001", "status": "unemployed", "start_on": "2021-05-01"}))
	changes := apply(v, w.tick(now.Add(time.Hour)))
	// R4 (零就业户) and R23 (the household is no longer 两不愁三保障).
	if len(changes) != 2 || changes[0].Warning.Rule != "R4" || changes[1].Warning.Rule != "R23" {
		t.Fatalf("changes = %+v, want R4 and R23 raised", changes)
	}
	wr := changes[0].Warning
	raised := w.entry("hub", "warning.raised", now.Add(time.Hour), map[string]any{
		"warning_id": wr.ID, "rule": wr.Rule, "entity_kind": wr.EntityKind, "entity_id": wr.EntityID, "area": wr.Area, "level": "warning"})
	raised.Area = wr.Area
	report := func(id, kind, on string) {
		e := w.entry("hrss", "issue.report", day(on), map[string]any{"report_id": id, "department": "hrss", "kind": kind,
			"warning_id": wr.ID, "household_id": wr.EntityID, "reported_on": on, "description": "已签收"})
		apply(v, e)
	}
	apply(v, raised)
	report("R-1", "acknowledgement", "2021-06-05")
	report("R-1", "acknowledgement", "2021-06-05") // the same report again: counted once
	report("R-2", "action", "2021-07-02")
	report("R-3", "rectified", "2021-07-20")
	resolved := w.entry("hub", "warning.resolved", day("2021-07-21"), map[string]any{
		"warning_id": wr.ID, "rule": wr.Rule, "entity_kind": wr.EntityKind, "entity_id": wr.EntityID, "area": wr.Area})
	apply(v, resolved)

	want := []view.HistoryMonth{
		{Month: "2021-06", Raised: 1, Acknowledged: 1},
		{Month: "2021-07", Actions: 1, Rectified: 1, Resolved: 1},
	}
	check := func(v *view.View, area string) {
		t.Helper()
		got, err := v.History(area)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("history of %s = %+v, want %+v", area, got, want)
		}
	}
	check(v, "610400")
	check(v, "610424")
	if got, _ := v.History("610402"); len(got) != 0 {
		t.Errorf("another county's history = %+v, want none", got)
	}
	if _, err := v.History("999999"); err == nil {
		t.Error("History of an unknown area did not fail")
	}
	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := view.Restore(schemas.MustLoad(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	check(r, "610400")
	check(r, "610424")
}

func TestCountySitesAndSiteHouseholds(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, village(w)...)
	for _, id := range []string{"H610424-000003", "H610424-000002"} {
		apply(v, w.entry("poverty", "registry.household", day("2019-05-01"), map[string]any{
			"household_id": id, "site_id": siteID, "size": 1, "labour_count": 0, "registered_poor": false, "relocated_on": "2019-05-01"}))
	}
	apply(v, freshDepts(w, day("2021-06-01"))...)
	apply(v, w.tick(day("2021-06-01")))

	sites, err := v.CountySites("610424")
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 1 || sites[0].SiteID != siteID || sites[0].Households != 3 || sites[0].InfraDone != view.InfrastructureItems {
		t.Errorf("sites = %+v, want %s with 3 households and every item done", sites, siteID)
	}
	if _, err := v.CountySites("123456"); err == nil {
		t.Error("CountySites of an unknown county did not fail")
	}
	read := func(v *view.View, after string, limit int) ([]string, bool) {
		t.Helper()
		hs, more, err := v.SiteHouseholds(siteID, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hs {
			ids = append(ids, h.HouseholdID)
		}
		return ids, more
	}
	if ids, more := read(v, "", 2); len(ids) != 2 || ids[0] != "H610424-000001" || ids[1] != "H610424-000002" || !more {
		t.Errorf("first page = %v more=%v", ids, more)
	}
	if ids, more := read(v, "H610424-000002", 2); len(ids) != 1 || ids[0] != "H610424-000003" || more {
		t.Errorf("second page = %v more=%v", ids, more)
	}
	// A household moved to another site leaves this one's list.
	apply(v, w.entry("poverty", "registry.household", day("2019-06-01"), map[string]any{
		"household_id": "H610424-000002", "site_id": "S610424-0002", "size": 1, "labour_count": 0, "registered_poor": false, "relocated_on": "2019-05-01"}))
	if ids, _ := read(v, "", 10); len(ids) != 2 || ids[1] != "H610424-000003" {
		t.Errorf("after the move = %v", ids)
	}
	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := view.Restore(schemas.MustLoad(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := read(r, "", 10); len(ids) != 2 || ids[0] != "H610424-000001" {
		t.Errorf("restored = %v", ids)
	}
	if _, _, err := v.SiteHouseholds("S610424-9999", "", 10); err == nil {
		t.Error("SiteHouseholds of an unknown site did not fail")
	}
}

func TestDepartmentsList(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, village(w)...)
	apply(v, w.tick(day("2021-06-01")))
	ds := v.Departments()
	cat := schemas.MustLoad()
	if want := len(cat.Departments()) + len(cat.Counties()); len(ds) != want {
		t.Fatalf("%d departments listed, want %d", len(ds), want)
	}
	byCode := map[string]view.DepartmentSummary{}
	for _, d := range ds {
		byCode[d.Code] = d
		if d.Name == "" {
			t.Errorf("%s has no name", d.Code)
		}
	}
	if d := byCode["edu"]; d.Published != 3 || d.DaysSilent < 600 {
		t.Errorf("edu = %+v, want 3 published (school, kindergarten, enrolment) and silent since 2019", d)
	}
	if d := byCode["county/610424"]; d.Name != "乾县人民政府" {
		t.Errorf("county/610424 = %+v", d)
	}
}

// TestIndicatorsAreRates: every indicator with a target names a rate the
// view computes.
func TestIndicatorsAreRates(t *testing.T) {
	rates := newView(t).City().Indicators.Rates
	for _, in := range schemas.MustLoad().Indicators() {
		if _, ok := rates[in.Rate]; !ok {
			t.Errorf("indicators.json names %q, which is not a rate of the view", in.Rate)
		}
	}
}
