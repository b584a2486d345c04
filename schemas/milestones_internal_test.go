package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

// annexRows reads responsibilities.json afresh, for a test to spoil.
func annexRows(t *testing.T) []ResponsibilityRow {
	t.Helper()
	b, err := files.ReadFile("responsibilities.json")
	if err != nil {
		t.Fatal(err)
	}
	var rl struct {
		Rows []ResponsibilityRow `json:"rows"`
	}
	if err := json.Unmarshal(b, &rl); err != nil {
		t.Fatal(err)
	}
	return rl.Rows
}

// TestCheckMilestones: loading the catalog fails when a task's typed
// deadline disagrees with its row's 完成时限.
func TestCheckMilestones(t *testing.T) {
	task := func(rows []ResponsibilityRow, id string) *ResponsibilityTask {
		for i := range rows {
			for j := range rows[i].Tasks {
				if rows[i].Tasks[j].TaskID == id {
					return &rows[i].Tasks[j]
				}
			}
		}
		t.Fatalf("no task %s", id)
		return nil
	}
	tests := []struct {
		name      string
		spoil     func(rows []ResponsibilityRow)
		withError string
	}{
		{"as embedded", func([]ResponsibilityRow) {}, ""},
		{"final target left out", func(rows []ResponsibilityRow) { task(rows, "RL25-2").FinalTarget = "" }, ""},
		{"wrong deadline", func(rows []ResponsibilityRow) { task(rows, "RL09-7").Deadline = "2021-12-31" }, "RL09-7"},
		{"wrong target", func(rows []ResponsibilityRow) { task(rows, "RL01-1").Target = TargetComplete }, "RL01-1"},
		{"final milestone missing", func(rows []ResponsibilityRow) {
			tk := task(rows, "RL12-3")
			tk.FinalDeadline, tk.FinalTarget = "", ""
		}, "RL12-3"},
		{"long-term task with a date", func(rows []ResponsibilityRow) { task(rows, "RL10-1").Deadline = "2020-12-31" }, "RL10-1"},
		{"text not the annex's", func(rows []ResponsibilityRow) { rows[1].DeadlineText = "2021年底前完成" }, "not the annex's"},
		{"unreadable text", func(rows []ResponsibilityRow) { rows[21].DeadlineText = "年" }, "row 22"},
		{"task twice", func(rows []ResponsibilityRow) { rows[6].Tasks[1].TaskNo = 1 }, "task 1 twice"},
	}
	for _, tt := range tests {
		rows := annexRows(t)
		tt.spoil(rows)
		err := checkMilestones(rows)
		switch {
		case tt.withError == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.withError != "" && (err == nil || !strings.Contains(err.Error(), tt.withError)):
			t.Errorf("%s: checkMilestones = %v, want an error with %q", tt.name, err, tt.withError)
		}
	}
	// A final milestone typed without its target takes the annex's.
	rows := annexRows(t)
	task(rows, "RL25-2").FinalTarget = ""
	if err := checkMilestones(rows); err != nil {
		t.Fatal(err)
	}
	if got, want := task(rows, "RL25-2").FinalTarget, TargetComplete; got != want {
		t.Errorf("RL25-2 final target %q, want %q (2025年,实现…目标)", got, want)
	}
}
