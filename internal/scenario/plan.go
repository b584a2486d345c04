package scenario

import (
	"fmt"
	"strconv"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// The lead office's plan: the responsibility list's tasks, progress,
// joint meetings and the counties' assessment schemes.

// PlanTask is the lead office putting a task of the responsibility list in
// force (plan.task) with one milestone, as of eff.
func PlanTask(id, owner, deadline, target string, eff time.Time) Item {
	var row, no int
	fmt.Sscanf(id, "RL%d-%d", &row, &no)
	return item("drc", "plan.task", eff, map[string]any{
		"task_id": id, "annex_row": row, "task_no": no, "owner": owner, "title": "责任清单任务" + id,
		"deadline": deadline, "target": target, "status": "active"})
}

// Progress is a unit's report on a task (task.progress), reported on the
// day it takes effect; a done report is completed that day.
func Progress(id, unit, status string, percent int, reported string) Item {
	d := map[string]any{"task_id": id, "department": unit, "status": status, "percent": percent, "reported_on": reported}
	if status == "done" {
		d["completed_on"] = reported
	}
	return item(unit, "task.progress", Day(reported), d)
}

// Issue is an issue a joint meeting assigns.
type Issue struct {
	No    int
	Owner string
	Due   string
}

// Meeting is the lead office's joint meeting for a quarter, held on a day,
// assigning issues.
func Meeting(quarter, held string, issues ...Issue) Item {
	d := map[string]any{"meeting_id": "JM-" + quarter, "quarter": quarter, "held_on": held, "chaired_by": "drc",
		"attendees": []string{"drc", "hrss", "county/610424"}, "issues_discussed": 5, "decisions": 3}
	if len(issues) > 0 {
		var list []map[string]any
		for _, is := range issues {
			list = append(list, map[string]any{"item_no": is.No, "title": "会议交办事项" + strconv.Itoa(is.No), "owner": is.Owner, "due_on": is.Due})
		}
		d["issues_assigned"] = list
	}
	return item("drc", "plan.meeting", Day(held), d)
}

// Scheme is a county's assessment scheme for a year, the follow-up work
// weighing followup, published on a day.
func Scheme(county string, year int, followup float64, published string) Item {
	return item("county/"+county, "plan.assessment", Day(published), map[string]any{
		"assessment_id": fmt.Sprintf("AS-%s-%d", county, year), "area": county, "year": year, "published_on": published,
		"items": []map[string]any{
			{"item": "易地扶贫搬迁后续扶持", "weight": followup, "followup": true},
			{"item": "其他脱贫攻坚工作", "weight": 1 - followup}}})
}

// Plan puts the responsibility list in force with one task done, holds a
// joint meeting in every quarter from 2020Q1 through meetingsThrough, and
// gives every county a scheme weighing the follow-up work 35% for every
// year from 2020 through schemesThrough (except the county-years listed in
// skip, spelt 610424/2021): the plan as R15, R16 and R19 find nothing
// wrong with it.
func Plan(meetingsThrough string, schemesThrough int, skip ...string) []Item {
	out := []Item{PlanTask("RL04-1", "drc", "2020-03-31", "complete", Day("2020-03-20")), Progress("RL04-1", "drc", "done", 100, "2020-03-25")}
	for y := 2020; ; y++ {
		done := false
		for q := 1; q <= 4; q++ {
			quarter := fmt.Sprintf("%dQ%d", y, q)
			out = append(out, Meeting(quarter, fmt.Sprintf("%d-%02d-20", y, 3*q)))
			if quarter == meetingsThrough {
				done = true
				break
			}
		}
		if done || y > 2100 {
			break
		}
	}
	for y := 2020; y <= schemesThrough; y++ {
		for _, c := range schemas.MustLoad().Counties() {
			key := c.Code + "/" + strconv.Itoa(y)
			if containsString(skip, key) {
				continue
			}
			out = append(out, Scheme(c.Code, y, 0.35, fmt.Sprintf("%d-02-15", y)))
		}
	}
	return out
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
