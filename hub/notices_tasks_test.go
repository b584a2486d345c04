package hub_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// TestTaskNotices: a unit is told when its share of a task turns at risk
// (its milestone near and unmet) and again when it turns overdue, once
// each however many ticks follow; a county government of its issue.
func TestTaskNotices(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	items := append(scenario.Plan("2021Q1", 2021),
		scenario.PlanTask("RL09-1", "hrss", "2021-07-31", "complete", scenario.Day("2021-01-10")),
		scenario.Progress("RL09-1", "hrss", "in_progress", 60, "2021-04-20"),
		scenario.Meeting("2021Q2", "2021-05-20", scenario.Issue{No: 1, Owner: "county/610424", Due: "2021-12-31"}))
	if err := scenario.Publish(ctx, nc, items); err != nil {
		t.Fatal(err)
	}
	about := func(dept, subject string) []subscribers.NoticeKind {
		var out []subscribers.NoticeKind
		for _, n := range noticesOf(t, js, dept) {
			if n.Data.Task != nil && len(n.Subject) >= len(subject) && n.Subject[:len(subject)] == subject {
				out = append(out, n.Data.Kind)
			}
		}
		return out
	}
	// Two months before the deadline, 60% done: at risk.
	tick(t, h, time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC))
	tick(t, h, time.Date(2021, 6, 2, 0, 0, 0, 0, time.UTC))
	if got := about("hrss", "RL09-1/hrss"); !slices.Equal(got, []subscribers.NoticeKind{subscribers.NoticeTaskAtRisk}) {
		t.Fatalf("hrss's notices of RL09-1: %v, want one task_at_risk", got)
	}
	var row view.TaskView
	for _, n := range noticesOf(t, js, "hrss") {
		if n.Data.Kind == subscribers.NoticeTaskAtRisk {
			if err := json.Unmarshal(n.Data.Task, &row); err != nil {
				t.Fatal(err)
			}
			if n.Data.Path != "/task/RL09-1" || n.Data.DueOn != "2021-07-31" {
				t.Errorf("notice path %s due %s", n.Data.Path, n.Data.DueOn)
			}
		}
	}
	if row.TaskID != "RL09-1" || row.Owner != "hrss" || row.Board != view.TaskAtRisk || row.Percent != 60 {
		t.Errorf("the notice's task row %+v", row)
	}
	// Past the deadline: overdue, told once.
	tick(t, h, time.Date(2021, 8, 2, 0, 0, 0, 0, time.UTC))
	tick(t, h, time.Date(2021, 8, 3, 0, 0, 0, 0, time.UTC))
	want := []subscribers.NoticeKind{subscribers.NoticeTaskAtRisk, subscribers.NoticeTaskOverdue}
	if got := about("hrss", "RL09-1/hrss"); !slices.Equal(got, want) {
		t.Errorf("hrss's notices of RL09-1: %v, want %v", got, want)
	}
	// The county government's issue is on track: no notice of it; edu has none.
	if got := about("county/610424", "JM-2021Q2-I1"); len(got) != 0 {
		t.Errorf("the county's issue on track: notices %v", got)
	}
	if got := about("edu", ""); len(got) != 0 {
		t.Errorf("edu has task notices %v", got)
	}
}
