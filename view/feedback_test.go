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
