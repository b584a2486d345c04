package view_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

func newRuleWorld(t *testing.T) *ruleWorld {
	t.Helper()
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	return &ruleWorld{t: t, cat: cat, v: v, keys: map[uint64]string{}}
}

// row returns a unit's row of a task on the board.
func row(t *testing.T, v *view.View, task, unit string) view.TaskView {
	t.Helper()
	d, err := v.Task(task)
	if err != nil {
		t.Fatalf("task %s: %v", task, err)
	}
	for _, u := range d.Units {
		if u.Owner == unit {
			return u
		}
	}
	t.Fatalf("task %s has no row for %s: %+v", task, unit, d.Units)
	return view.TaskView{}
}

// TestBoardStatuses: each status of the board, judged on the recorded
// clock from the milestones and the unit's latest report.
func TestBoardStatuses(t *testing.T) {
	at := func(s string) time.Time { return scenario.Day(s).Add(12 * time.Hour) }
	for _, tc := range []struct {
		name    string
		items   []scenario.Item
		clock   string
		task    string
		unit    string
		want    string
		whyPart string
	}{
		{"far milestone, recent report", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2021-12-31", "complete", scenario.Day("2021-01-10")),
			scenario.Progress("RL09-1", "hrss", "in_progress", 40, "2021-05-01")}, "2021-06-01", "RL09-1", "hrss", view.TaskOnTrack, "2021-12-31"},
		{"milestone within 90 days", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2021-08-01", "complete", scenario.Day("2021-01-10")),
			scenario.Progress("RL09-1", "hrss", "in_progress", 40, "2021-05-01")}, "2021-06-01", "RL09-1", "hrss", view.TaskAtRisk, "天后到期"},
		{"no report since the task was given", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2021-12-31", "complete", scenario.Day("2021-01-10"))}, "2021-06-01", "RL09-1", "hrss", view.TaskAtRisk, "未报告"},
		{"given lately, no report yet", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2021-12-31", "complete", scenario.Day("2021-05-10"))}, "2021-06-01", "RL09-1", "hrss", view.TaskOnTrack, "2021-12-31"},
		{"stale report", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2022-12-31", "complete", scenario.Day("2021-01-10")),
			scenario.Progress("RL09-1", "hrss", "in_progress", 40, "2021-01-15")}, "2021-06-01", "RL09-1", "hrss", view.TaskAtRisk, "天未报告"},
		{"blocked", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2022-12-31", "complete", scenario.Day("2021-01-10")),
			scenario.Progress("RL09-1", "hrss", "blocked", 40, "2021-05-15")}, "2021-06-01", "RL09-1", "hrss", view.TaskAtRisk, "受阻"},
		{"past the milestone", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2021-05-31", "complete", scenario.Day("2021-01-10")),
			scenario.Progress("RL09-1", "hrss", "in_progress", 95, "2021-05-30")}, "2021-06-01", "RL09-1", "hrss", view.TaskOverdue, "2021-05-31"},
		{"done", []scenario.Item{
			scenario.PlanTask("RL09-1", "hrss", "2021-05-31", "complete", scenario.Day("2021-01-10")),
			scenario.Progress("RL09-1", "hrss", "done", 100, "2021-05-30")}, "2021-06-01", "RL09-1", "hrss", view.TaskDone, "已完成"},
		{"significant progress met, final milestone far", []scenario.Item{
			scenario.With(scenario.With(scenario.PlanTask("RL09-2", "hrss", "2020-12-31", "significant_progress", scenario.Day("2020-03-20")),
				"final_deadline", "2025-12-31"), "final_target", "basically_complete"),
			scenario.Progress("RL09-2", "hrss", "in_progress", 60, "2021-05-01")}, "2021-06-01", "RL09-2", "hrss", view.TaskOnTrack, "2025-12-31"},
		{"significant progress short of the threshold", []scenario.Item{
			scenario.With(scenario.With(scenario.PlanTask("RL09-2", "hrss", "2020-12-31", "significant_progress", scenario.Day("2020-03-20")),
				"final_deadline", "2025-12-31"), "final_target", "basically_complete"),
			scenario.Progress("RL09-2", "hrss", "in_progress", 45, "2021-05-01")}, "2021-06-01", "RL09-2", "hrss", view.TaskOverdue, "取得显著成效"},
		{"long-term task", []scenario.Item{
			scenario.With(scenario.Drop(scenario.PlanTask("RL22-1", "justice", "", "long_term", scenario.Day("2020-03-20")), "deadline"), "target", "long_term"),
			scenario.Progress("RL22-1", "justice", "in_progress", 50, "2021-05-01")}, "2021-06-01", "RL22-1", "justice", view.TaskOngoing, "长期"},
		{"withdrawn", []scenario.Item{
			scenario.With(scenario.PlanTask("RL09-1", "hrss", "2021-05-31", "complete", scenario.Day("2021-01-10")), "status", "withdrawn")},
			"2021-06-01", "RL09-1", "hrss", view.TaskWithdrawn, "撤销"},
		{"annex task before the list is in force", nil, "2021-06-01", "RL19-1", "medins", view.TaskOverdue, "2020-12-31"},
		{"county government's share of row 25", []scenario.Item{
			scenario.Progress("RL25-1", "county/610424", "done", 100, "2020-12-20")}, "2021-06-01", "RL25-1", "county/610424", view.TaskDone, "已完成"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRuleWorld(t)
			w.fold(tc.items...)
			w.tick(at(tc.clock))
			r := row(t, w.v, tc.task, tc.unit)
			if r.Board != tc.want || !strings.Contains(r.Why, tc.whyPart) {
				t.Errorf("board %s (%s), want %s with %q", r.Board, r.Why, tc.want, tc.whyPart)
			}
		})
	}
}

// TestBoardClaimedBesideData: a unit reporting its task done while the
// indicator the task moves is far below target is flagged; the same report
// with the data at target is not.
func TestBoardClaimedBesideData(t *testing.T) {
	const year = 2021
	w := newRuleWorld(t)
	w.fold(scenario.Village(year)...)
	w.fold(scenario.PlanTask("RL19-1", "medins", "2020-12-31", "complete", scenario.Day("2020-03-20")),
		scenario.Progress("RL19-1", "medins", "done", 100, "2020-12-20"))
	w.tick(scenario.RuleClock(year))
	r := row(t, w.v, "RL19-1", "medins")
	if len(r.Indicators) != 1 || r.Indicators[0].Rate != "insured" || r.Indicators[0].Area != "610400" {
		t.Fatalf("indicators %+v, want the city's insured rate", r.Indicators)
	}
	if r.Indicators[0].Value < 1 {
		t.Fatalf("village not fully insured: %+v", r.Indicators)
	}
	if r.Contradicted {
		t.Errorf("flagged with the data at target: %s", r.Contradiction)
	}
	// One member's insurance lapses: 2 of 3 insured.
	lapsed := scenario.Covered(scenario.Person(0), scenario.VillageHousehold, year, "lapsed")
	for i := range lapsed {
		lapsed[i] = scenario.At(lapsed[i], scenario.Day("2021-05-01"))
	}
	w.fold(lapsed...)
	w.tick(scenario.RuleClock(year).Add(time.Hour))
	r = row(t, w.v, "RL19-1", "medins")
	if !r.Contradicted || !strings.Contains(r.Contradiction, "insured") {
		t.Errorf("not flagged with the insured rate at %v: %+v", r.Indicators, r)
	}
}

// TestMeetingIssuesOnTheBoard: issues a meeting assigns are board rows of
// their owners; a meeting published again without one withdraws it.
func TestMeetingIssuesOnTheBoard(t *testing.T) {
	w := newRuleWorld(t)
	w.fold(scenario.Meeting("2021Q1", "2021-03-20",
		scenario.Issue{No: 1, Owner: "hrss", Due: "2021-06-30"}, scenario.Issue{No: 2, Owner: "county/610424", Due: "2021-05-31"}))
	w.tick(scenario.Day("2021-04-10"))
	// The county government's rows: its three tasks of the annex's row 25
	// and the issue.
	var ids []string
	for _, r := range w.v.Tasks(view.TaskQuery{County: "610424"}) {
		ids = append(ids, r.TaskID)
		if r.TaskID == "JM-2021Q1-I2" && (r.Meeting != "JM-2021Q1" || r.Deadline != "2021-05-31" || r.Board != view.TaskAtRisk) {
			t.Errorf("issue 2: %+v", r)
		}
	}
	slices.Sort(ids)
	if want := []string{"JM-2021Q1-I2", "RL25-1", "RL25-2", "RL25-3"}; !slices.Equal(ids, want) {
		t.Fatalf("county's rows %v, want %v", ids, want)
	}
	found := false
	for _, r := range w.v.Tasks(view.TaskQuery{Dept: "hrss"}) {
		found = found || r.TaskID == "JM-2021Q1-I1"
	}
	if !found {
		t.Fatal("hrss has no row for issue 1")
	}
	held, _ := w.v.Meetings()
	if len(held) != 1 || len(held[0].Assigned) != 2 {
		t.Fatalf("meetings %+v", held)
	}
	// Published again with issue 1 only.
	w.fold(scenario.At(scenario.Meeting("2021Q1", "2021-03-20", scenario.Issue{No: 1, Owner: "hrss", Due: "2021-06-30"}), scenario.Day("2021-03-21")))
	w.tick(scenario.Day("2021-04-11"))
	if r := row(t, w.v, "JM-2021Q1-I2", "county/610424"); r.Board != view.TaskWithdrawn {
		t.Errorf("issue dropped from the meeting: %s", r.Board)
	}
}

// TestAssessmentLines: a county's score is the sum of its lines, each
// weight × 100 × min(1, value/target), with its scheme's follow-up weight.
func TestAssessmentLines(t *testing.T) {
	const year = 2021
	w := newRuleWorld(t)
	w.fold(scenario.Village(year)...)
	w.fold(scenario.Plan("2021Q1", 2021)...)
	w.fold(scenario.Scheme("610424", 2021, 0.40, "2021-05-01"))
	w.tick(scenario.RuleClock(year))
	var a *view.AssessmentView
	as := w.v.Assessments()
	if len(as) != len(schemas.MustLoad().Counties()) {
		t.Fatalf("%d counties scored", len(as))
	}
	for i := range as {
		if as[i].County == "610424" {
			a = &as[i]
		}
	}
	if a == nil {
		t.Fatal("610424 not scored")
	}
	sum, weights, measured := 0.0, 0.0, 0.0
	unmeasured := map[string]bool{}
	for _, l := range a.Lines {
		want := l.Weight * 100 * min(1, l.Value/l.Target)
		if !l.Measured {
			want = 0
			unmeasured[l.Line] = true
		} else {
			measured += l.Weight
		}
		if d := l.Points - want; d > 0.01 || d < -0.01 {
			t.Errorf("line %s: %v points, want %v", l.Line, l.Points, want)
		}
		sum += l.Points
		weights += l.Weight
	}
	// The village has no one trained six months ago and no open warning:
	// those lines measure nothing and the score is out of the others.
	if !unmeasured["training_to_employment_6m"] || !unmeasured["warnings_supervised"] || unmeasured["secure"] {
		t.Errorf("lines measuring nothing: %v", unmeasured)
	}
	if d := a.Score - sum/measured; d > 0.02 || d < -0.02 || weights < 0.999 || weights > 1.001 {
		t.Errorf("score %v, lines sum to %v over measured weight %v (all %v)", a.Score, sum, measured, weights)
	}
	if a.Weight != 0.40 || a.WeightFrom != "AS-610424-2021" {
		t.Errorf("follow-up weight %v from %s, want 0.40 from the scheme", a.Weight, a.WeightFrom)
	}
	if d := a.Contribution - a.Score*0.40; d > 0.01 || d < -0.01 {
		t.Errorf("contribution %v, want %v", a.Contribution, a.Score*0.40)
	}
	// The village (610424) has everything: it outranks counties with no
	// households, whose rates are 0.
	if a.Rank != 1 {
		t.Errorf("610424 ranks %d", a.Rank)
	}
}

// TestPlanSurvivesSnapshot: the board, meetings and schemes read the same
// after a snapshot and restore, and the digest sees the plan.
func TestPlanSurvivesSnapshot(t *testing.T) {
	w := newRuleWorld(t)
	w.fold(scenario.Plan("2021Q1", 2021)...)
	w.fold(scenario.Meeting("2021Q2", "2021-06-20", scenario.Issue{No: 1, Owner: "county/610424", Due: "2021-05-31"}))
	w.tick(scenario.Day("2021-07-02"))
	before := w.v.Digest()
	var buf bytes.Buffer
	if err := w.v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := view.Restore(w.cat, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Digest(); got != before {
		t.Errorf("digest after restore %s, want %s", got, before)
	}
	a, b := w.v.Tasks(view.TaskQuery{}), r.Tasks(view.TaskQuery{})
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d rows, restored %d", len(a), len(b))
	}
	for i := range a {
		if a[i].TaskID != b[i].TaskID || a[i].Owner != b[i].Owner || a[i].Board != b[i].Board || a[i].Warning != b[i].Warning {
			t.Errorf("row %d: %+v, restored %+v", i, a[i], b[i])
		}
	}
	// The plan changes the digest.
	w.fold(scenario.Progress("JM-2021Q2-I1", "county/610424", "done", 100, "2021-07-01"))
	if w.v.Digest() == before {
		t.Error("a progress report did not change the digest")
	}
}

// TestFindingsRead: an overdue finding is listed first with its R22
// warning, survives a snapshot, and leaves once rectified.
func TestFindingsRead(t *testing.T) {
	w := newRuleWorld(t)
	w.fold(scenario.Finding("inspect.finding", "DC-1", "hrss", "2021-03-10", "2021-05-31", "rectifying", scenario.Day("2021-03-10")),
		scenario.Finding("audit.finding", "AU-1", "finance", "2021-05-01", "2021-12-31", "open", scenario.Day("2021-05-01")))
	w.tick(scenario.Day("2021-06-02"))
	fs := w.v.Findings("610424")
	if len(fs) != 2 || fs[0].FindingID != "DC-1" || !fs[0].Overdue || fs[0].Warning == "" || fs[1].Overdue {
		t.Fatalf("findings %+v, want DC-1 overdue first", fs)
	}
	var buf bytes.Buffer
	if err := w.v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := view.Restore(w.cat, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Findings(""); len(got) != 2 || got[0] != fs[0] {
		t.Errorf("restored %+v, want %+v", got, fs)
	}
	if r.Digest() != w.v.Digest() {
		t.Error("the digest changed across a snapshot")
	}
	w.fold(scenario.Finding("inspect.finding", "DC-1", "hrss", "2021-03-10", "2021-05-31", "rectified", scenario.Day("2021-06-05")))
	w.tick(scenario.Day("2021-06-06"))
	if fs := w.v.Findings(""); fs[0].Overdue || len(w.v.Warnings(view.WarningQuery{Rule: "R22"})) != 0 {
		t.Errorf("rectified, still overdue: %+v", fs)
	}
}
