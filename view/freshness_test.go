package view_test

import (
	"testing"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestFreshnessBreaksAndHolds is R18 in the view, on the recorded clock: a
// department silent for more than the rule's days is warned; it holds again
// once the department publishes; the others stay warned.
func TestFreshnessBreaksAndHolds(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	t0 := day("2021-06-01")
	apply(v, freshDepts(w, t0)...)
	if ch := apply(v, w.tick(t0)); len(r18(ch, "")) != 0 {
		t.Fatalf("R18 at the first tick, every department fresh: %+v", r18(ch, ""))
	}
	// The threshold is the rule's parameter, not a constant here.
	var params struct {
		Days int `json:"days"`
	}
	r, ok := schemas.MustLoad().Rules().Rule("R18")
	if !ok || r.DecodeParams(&params) != nil || params.Days <= 0 {
		t.Fatalf("R18's parameters in rules.json: %+v", r)
	}
	days := params.Days
	// Just within the rule: nothing yet.
	if ch := apply(v, w.tick(t0.AddDate(0, 0, days))); len(r18(ch, "")) != 0 {
		t.Fatalf("R18 after exactly %d days: %+v", days, r18(ch, ""))
	}
	later := t0.AddDate(0, 0, days+1)
	ch := apply(v, w.tick(later))
	depts := len(schemas.MustLoad().Departments())
	if got := r18(ch, view.Raised); len(got) != depts {
		t.Fatalf("%d R18 warnings raised after %d days of silence, want one per department (%d)", len(got), days+1, depts)
	}
	report := w.entry("justice", "issue.report", later, map[string]any{"report_id": "alive-again", "department": "justice",
		"kind": "problem", "reported_on": later.Format(time.DateOnly), "description": "例行更新"})
	report.Recorded = later
	apply(v, report)
	ch = apply(v, w.tick(later.Add(time.Hour)))
	resolved := r18(ch, view.Resolved)
	if len(resolved) != 1 || resolved[0].EntityID != "justice" {
		t.Fatalf("after justice publishes: resolved %+v, want justice's warning only", resolved)
	}
	if open := v.Warnings(view.WarningQuery{Rule: "R18"}); len(open) != depts-1 {
		t.Errorf("%d R18 warnings open, want %d (the others are still silent)", len(open), depts-1)
	}
}

// r18 returns the R18 warnings among changes of kind (any when "").
func r18(changes []view.Change, kind view.ChangeKind) []view.Warning {
	var out []view.Warning
	for _, c := range changes {
		if c.Warning.Rule == "R18" && (kind == "" || c.Kind == kind) {
			out = append(out, c.Warning)
		}
	}
	return out
}
