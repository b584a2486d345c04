package hub_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// TestHTTPTaskBoard: the board, a task, the meetings and the assessment
// over HTTP, with the R15 warning on the overdue row, and clear errors.
func TestHTTPTaskBoard(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	items := append(scenario.Village(2021), scenario.Plan("2021Q1", 2021)...)
	items = append(items,
		scenario.PlanTask("RL09-1", "hrss", "2021-05-31", "complete", scenario.Day("2021-01-10")),
		scenario.Progress("RL09-1", "hrss", "in_progress", 80, "2021-05-20"),
		scenario.Meeting("2021Q2", "2021-06-20", scenario.Issue{No: 1, Owner: "county/610424", Due: "2021-12-31"}))
	if err := scenario.Publish(ctx, nc, items); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 7, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var board struct {
		AsOf  time.Time       `json:"as_of"`
		Items []view.TaskView `json:"items"`
	}
	getJSON(t, base+"/api/v1/tasks?dept=hrss", http.StatusOK, &board)
	var row *view.TaskView
	for i := range board.Items {
		if board.Items[i].Owner != "hrss" {
			t.Errorf("dept=hrss lists %s's row of %s", board.Items[i].Owner, board.Items[i].TaskID)
		}
		if board.Items[i].TaskID == "RL09-1" {
			row = &board.Items[i]
		}
	}
	if row == nil || row.Board != view.TaskOverdue || row.Warning == "" || row.Percent != 80 {
		t.Fatalf("RL09-1 row %+v, want overdue with an R15 warning", row)
	}
	if board.Items[0].Board != view.TaskOverdue {
		t.Errorf("overdue rows do not come first: %s", board.Items[0].Board)
	}
	board.Items = nil
	getJSON(t, base+"/api/v1/tasks?county=610424&status=on_track", http.StatusOK, &board)
	if len(board.Items) != 1 || board.Items[0].TaskID != "JM-2021Q2-I1" {
		t.Errorf("the county's rows on track: %+v, want the meeting's issue", board.Items)
	}
	var detail view.TaskDetail
	getJSON(t, base+"/api/v1/tasks/RL25-1", http.StatusOK, &detail)
	if len(detail.Units) != 14 {
		t.Errorf("RL25-1 has %d rows, want one per county government (14)", len(detail.Units))
	}
	var meetings struct {
		Held   []view.MeetingView `json:"held"`
		Missed []string           `json:"quarters_missed"`
	}
	getJSON(t, base+"/api/v1/meetings", http.StatusOK, &meetings)
	if n := len(meetings.Held); n != 6 || len(meetings.Held[5].Assigned) != 1 || len(meetings.Missed) != 0 {
		t.Errorf("%d meetings (last assigned %v), missed %v; want 6, one issue, none missed", n, meetings.Held[n-1].Assigned, meetings.Missed)
	}
	var as struct {
		Quarter  string                `json:"quarter"`
		Closed   bool                  `json:"closed"`
		Counties []view.AssessmentView `json:"counties"`
	}
	getJSON(t, base+"/api/v1/assessment?county=610424", http.StatusOK, &as)
	if as.Closed || as.Quarter != view.QuarterOf(time.Now().In(view.ChinaTime())) || len(as.Counties) != 1 || len(as.Counties[0].Lines) == 0 {
		t.Errorf("assessment of the current quarter: %+v", as)
	}
	as.Counties = nil
	getJSON(t, base+"/api/v1/assessment?quarter=2021Q2", http.StatusOK, &as)
	if !as.Closed || len(as.Counties) != 14 {
		t.Errorf("assessment of 2021Q2 (before the log began): closed %v, %d counties", as.Closed, len(as.Counties))
	}
	for _, c := range []struct{ path, want string }{
		{"/api/v1/tasks?status=late", "status"},
		{"/api/v1/tasks?dept=nobody", "dept"},
		{"/api/v1/tasks?county=999999", "county"},
		{"/api/v1/assessment?quarter=2025Q5", "quarter"},
		{"/api/v1/assessment?quarter=2099Q1", "has not begun"},
	} {
		r := do(t, http.MethodGet, base+c.path)
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("GET %s: %d %s, want 400 naming %s", c.path, r.code, r.body, c.want)
		}
	}
	// Findings: the overdue one first, with its R22 warning.
	if err := scenario.Publish(ctx, nc, []scenario.Item{
		scenario.Finding("inspect.finding", "DC-2021-05", "hrss", "2021-03-10", "2021-05-31", "rectifying", scenario.Day("2021-03-10")),
		scenario.Finding("audit.finding", "SJ-2021-01", "finance", "2021-06-01", "2021-12-31", "open", scenario.Day("2021-06-01"))}); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 7, 3, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var fs struct {
		Items []view.FindingView `json:"items"`
	}
	getJSON(t, base+"/api/v1/findings?county=610424", http.StatusOK, &fs)
	if len(fs.Items) != 2 || fs.Items[0].FindingID != "DC-2021-05" || !fs.Items[0].Overdue || fs.Items[0].Warning == "" || fs.Items[1].Overdue {
		t.Errorf("findings %+v, want DC-2021-05 overdue first", fs.Items)
	}
	fs.Items = nil
	getJSON(t, base+"/api/v1/findings?dept=finance", http.StatusOK, &fs)
	if len(fs.Items) != 1 || fs.Items[0].FindingID != "SJ-2021-01" {
		t.Errorf("finance's findings %+v", fs.Items)
	}
	for _, path := range []string{"/api/v1/findings?county=999999", "/api/v1/findings?dept=nobody"} {
		if r := do(t, http.MethodGet, base+path); r.code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path, r.code)
		}
	}
	if r := do(t, http.MethodGet, base+"/api/v1/tasks/RL99-9"); r.code != http.StatusNotFound {
		t.Errorf("GET an unknown task: %d, want 404", r.code)
	}
}
