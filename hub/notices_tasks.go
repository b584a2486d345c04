package hub

import (
	"encoding/json"
	"fmt"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// The notices of the task board: a unit is told when its share of a task
// turns at risk or overdue. Like the warnings' notices they come from the
// log alone — a view of the plan's facts (plan.task, task.progress,
// plan.meeting) judged at each hub.tick of the log — so a replay makes the
// same notices, and the live view's timing plays no part.

// taskFamilies are the log families the board's notices read.
var taskFamilies = []string{"plan.task", "task.progress", "plan.meeting"}

// taskTracker is the board as the log's plan facts make it, and each row's
// last status.
type taskTracker struct {
	v      *view.View
	status map[string]string // task/unit → board status at the last tick
}

func newTaskTracker(cat *schemas.Catalog) (*taskTracker, error) {
	v, err := view.New(cat)
	if err != nil {
		return nil, fmt.Errorf("notices: the task board: %w", err)
	}
	return &taskTracker{v: v, status: map[string]string{}}, nil
}

// apply folds a plan fact or a tick.
func (tt *taskTracker) apply(e *fact.Entry) { tt.v.Apply(e) }

// turned folds a tick and returns the notices of the rows that turned at
// risk or overdue since the last one (made but not returned with send
// false: those were sent before a restart).
func (tt *taskTracker) turned(cat *schemas.Catalog, e *fact.Entry, send bool) ([]outNotice, error) {
	tt.v.Apply(e)
	var out []outNotice
	for _, row := range tt.v.Tasks(view.TaskQuery{}) {
		if !row.InForce {
			continue // the annex's, not put in force: shown, not followed
		}
		key := row.TaskID + "/" + row.Owner
		prev := tt.status[key]
		tt.status[key] = row.Board
		var kind subscribers.NoticeKind
		switch {
		case row.Board == prev:
			continue
		case row.Board == view.TaskAtRisk:
			kind = subscribers.NoticeTaskAtRisk
		case row.Board == view.TaskOverdue:
			kind = subscribers.NoticeTaskOverdue
		default:
			continue
		}
		if !send {
			continue
		}
		b, err := json.Marshal(row)
		if err != nil {
			return out, err
		}
		// One notice a row, kind and milestone: RL09-4/hrss@2025-12-31.
		in := noticeInput{ID: key + "@" + row.Deadline, Kind: kind, At: e.Time, DueOn: row.Deadline, Responsible: []string{row.Owner},
			Area: row.Area, Path: "/task/" + row.TaskID, Task: b, LogSeq: e.Seq}
		cs, err := copies(cat, in)
		if err != nil {
			return out, err
		}
		out = append(out, cs...)
	}
	return out, nil
}
