package view_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// TestProblemsAndHowHandled: each problem fed back with the answers
// reported on or after it on what it names — a warning, a task, a site —
// the furthest answer as its handling, and nothing for a problem no one
// answered or that names nothing to answer; the same after a snapshot.
func TestProblemsAndHowHandled(t *testing.T) {
	const w7, w15 = "W-R7-0123456789abcdef", "W-R15-fedcba9876543210"
	w := newRuleWorld(t)
	w.fold(
		scenario.Answer("ACK-EARLY", "medins", "acknowledgement", w7, "610424", "2021-02-01"),
		scenario.Problem("FK-1", "county/610424", "610424", "2021-03-01", "参保中断", "warning_id", w7),
		scenario.Answer("ACK-1", "medins", "acknowledgement", w7, "610424", "2021-03-05"),
		scenario.Answer("WC-1", "medins", "rectified", w7, "610424", "2021-03-20"),
		scenario.Problem("FK-2", "hrss", "610400", "2021-04-01", "就业任务进展慢", "task_id", "RL09-1"),
		scenario.Answer("ZG-2", "hrss", "action", w15, "610400", "2021-04-10", "task_id", "RL09-1"),
		scenario.Problem("FK-3", "county/610425", "610425", "2021-05-01", "配套资金缺口", "site_id", "S610425-0001"),
		scenario.Problem("FK-4", "county/610424", "610424", "2021-01-15", "综合问题"),
	)
	all := w.v.Problems("")
	type got struct{ id, about, handling string }
	var gots []got
	for _, p := range all {
		gots = append(gots, got{p.ReportID, p.About, p.Handling})
	}
	want := []got{{"FK-4", "", view.HandlingNone}, {"FK-1", "warning", view.HandlingRectified},
		{"FK-2", "task", view.HandlingAction}, {"FK-3", "site", view.HandlingNone}}
	if !reflect.DeepEqual(gots, want) {
		t.Errorf("problems %v, want %v", gots, want)
	}
	p := all[1]
	if len(p.Answers) != 2 || p.Answers[0].ReportID != "ACK-1" || p.Answers[1].Kind != "rectified" || p.Answers[1].ReportedOn != "2021-03-20" {
		t.Errorf("FK-1 answers %+v, want ACK-1 then WC-1 (not the acknowledgement before it)", p.Answers)
	}
	if p.Dept != "county/610424" || p.DeptName == "" || p.Area != "610424" || p.Severity != "high" || p.Description != "参保中断" || p.Warning != w7 {
		t.Errorf("FK-1 %+v", p)
	}
	county := w.v.Problems("610424")
	if len(county) != 2 || county[0].ReportID != "FK-4" || county[1].ReportID != "FK-1" {
		t.Errorf("610424's problems %+v, want FK-4 and FK-1", county)
	}
	if city := w.v.Problems("610400"); len(city) != 1 || city[0].ReportID != "FK-2" {
		t.Errorf("the city's own problems %+v, want FK-2", city)
	}

	var buf bytes.Buffer
	if err := w.v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := view.Restore(w.cat, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Problems(""); !reflect.DeepEqual(got, all) {
		t.Errorf("after restore %+v, want %+v", got, all)
	}
	if r.Digest() != w.v.Digest() {
		t.Error("the digest changed through a snapshot")
	}
	before := w.v.Digest()
	w.fold(scenario.Problem("FK-1", "county/610424", "610424", "2021-03-01", "参保中断, 已补录", "warning_id", w7))
	if w.v.Digest() == before {
		t.Error("a problem's new description did not change the digest")
	}
}

// TestFundsAndTallies: the projects' funds by area, and the open warnings
// by rule and supervision state with the oldest named.
func TestFundsAndTallies(t *testing.T) {
	w := newRuleWorld(t)
	w.fold(
		scenario.Funds("drc", "P610424-XM01", "610424", "S610424-0001", "allocated", 1000000.5, "2021-01-10"),
		scenario.Funds("finance", "P610424-XM01", "610424", "S610424-0001", "disbursed", 400000.25, "2021-02-10"),
		scenario.Funds("drc", "P610424-XM01", "610424", "", "returned", 100000, "2021-03-10"),
		scenario.Funds("drc", "P610425-XM02", "610425", "", "allocated", 20, "2021-01-10"),
	)
	got := w.v.Funds("")
	want := []view.ProjectFunds{{ProjectID: "P610424-XM01", Area: "610424", Allocated: 90000050, Disbursed: 40000025},
		{ProjectID: "P610425-XM02", Area: "610425", Allocated: 2000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("funds %+v, want %+v", got, want)
	}
	if got := w.v.Funds("610425"); len(got) != 1 || got[0].ProjectID != "P610425-XM02" {
		t.Errorf("610425's funds %+v", got)
	}

	// Two households' members lapse (R7), one county each is answered.
	w.fold(scenario.Village(2021)...)
	for _, it := range scenario.Covered(scenario.Person(0), scenario.VillageHousehold, 2021, "lapsed") {
		w.fold(scenario.At(it, scenario.Day("2021-03-01")))
	}
	w.tick(scenario.Day("2021-06-01"))
	open := w.v.Warnings(view.WarningQuery{})
	if len(open) == 0 {
		t.Fatal("no warning open")
	}
	w.fold(scenario.Answer("ACK-9", "medins", "acknowledgement", open[0].ID, "610424", "2021-06-02"),
		scenario.Answer("WC-9", "medins", "rectified", open[0].ID, "610424", "2021-06-03"))
	tallies := w.v.WarningTallies("610424", scenario.Day("2021-04-01"))
	var r7 *view.RuleTally
	for i := range tallies {
		if tallies[i].Rule == open[0].Rule {
			r7 = &tallies[i]
		}
	}
	n := 0
	for _, x := range open {
		if x.Rule == open[0].Rule {
			n++
		}
	}
	if r7 == nil || r7.Open != n || r7.Acknowledged != 1 || r7.Rectified != 1 || r7.Unanswered != n-1 || r7.RaisedSince != n {
		t.Errorf("%s tally %+v, want %d open, 1 acknowledged and rectified, all raised since April", open[0].Rule, r7, n)
	}
	if got := w.v.WarningTallies("610424", scenario.Day("2021-07-01")); len(got) == 0 || got[0].RaisedSince != 0 {
		t.Errorf("raised since July: %+v", got)
	}
	if got := w.v.WarningTallies("610425", scenario.Day("2021-01-01")); len(got) != 0 {
		t.Errorf("610425 has no warning: %+v", got)
	}
	oldest := w.v.OldestWarnings("", 1)
	if len(oldest) != 1 || oldest[0].Message == "" {
		t.Errorf("the oldest warning: %+v", oldest)
	}
}
