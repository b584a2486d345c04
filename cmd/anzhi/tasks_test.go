package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// TestTasksAndAssessment: anzhi tasks shows the board with the overdue row
// first and its R15 warning, a task with every unit's row, and anzhi
// assessment the counties' scores; bad flags are usage errors.
func TestTasksAndAssessment(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, HTTPAddr: "127.0.0.1:0"})
	api := []string{"--api-url", "http://" + h.HTTPAddr()}
	items := append(scenario.Village(2021), scenario.Plan("2021Q1", 2021)...)
	items = append(items, scenario.PlanTask("RL09-1", "hrss", "2021-05-31", "complete", scenario.Day("2021-01-10")),
		scenario.Progress("RL09-1", "hrss", "in_progress", 80, "2021-05-20"))
	if err := scenario.Publish(ctx, nc, items); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 6, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	r := runCLI(ctx, append([]string{"tasks", "--dept", "hrss"}, api...)...)
	if r.code != exitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "overdue") || !strings.Contains(lines[1], "RL09-1") || !strings.Contains(lines[1], "in_progress 80%") {
		t.Errorf("the overdue row is not first:\n%s", r.stdout)
	}
	r = runCLI(ctx, append([]string{"tasks", "RL25-1"}, api...)...)
	if r.code != exitOK || strings.Count(r.stdout, "county/6104") != 14 || !strings.Contains(r.stdout, "secure") {
		t.Errorf("RL25-1 with the 14 county governments' rows and its indicators:\n%s\n%s", r.stdout, r.stderr)
	}
	r = runCLI(ctx, append([]string{"tasks", "--status", "overdue", "--json"}, api...)...)
	var board struct {
		Items []struct {
			Board   string `json:"board"`
			Warning string `json:"warning_id"`
			TaskID  string `json:"task_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &board); err != nil || len(board.Items) == 0 {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	for _, it := range board.Items {
		if it.Board != "overdue" {
			t.Errorf("--status overdue lists %s", it.Board)
		}
		if it.TaskID == "RL09-1" && !strings.HasPrefix(it.Warning, "W-R15-") {
			t.Errorf("RL09-1 has no R15 warning: %q", it.Warning)
		}
	}
	r = runCLI(ctx, append([]string{"assessment", "--county", "610424"}, api...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "610424") || !strings.Contains(r.stdout, "tasks_on_time") || !strings.Contains(r.stdout, "AS-610424-") {
		t.Errorf("assessment of 610424:\n%s\n%s", r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"tasks", "--status", "late"}, {"tasks", "--dept", "nobody"}, {"tasks", "--county", "999999"}, {"assessment", "--quarter", "2025Q5"}} {
		if r := runCLI(ctx, append(args, api...)...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, r.code, exitUsage, r.stderr)
		}
	}
	if r := runCLI(ctx, append([]string{"tasks", "RL99-9"}, api...)...); r.code != exitRuntime || !strings.Contains(r.stderr, "RL99-9") {
		t.Errorf("an unknown task: exit %d: %s", r.code, r.stderr)
	}
}
