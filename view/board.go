package view

import (
	"fmt"
	"sort"
	"strings"

	"github.com/xianyang/anzhi/schemas"
)

// The task board: every unit's share of every task of the responsibility
// list and of the issues joint meetings assigned, with its milestones, its
// latest progress, a status on the recorded clock, and the indicators it
// moves beside the progress claimed. R15 warns when a milestone passes
// unmet.

// Board statuses of a unit's task.
const (
	TaskOnTrack   = "on_track"
	TaskAtRisk    = "at_risk"
	TaskOverdue   = "overdue"
	TaskDone      = "done"
	TaskOngoing   = "ongoing" // 长期坚持 / 长期推进, no milestone pending
	TaskWithdrawn = "withdrawn"
)

// TaskStatuses are the board's statuses, in the order a board sorts them.
func TaskStatuses() []string {
	return []string{TaskOverdue, TaskAtRisk, TaskOnTrack, TaskOngoing, TaskDone, TaskWithdrawn}
}

// boardParams are R15's thresholds (rules.json).
type boardParams struct {
	AtRiskDays  int   `json:"at_risk_days"`                 // a milestone this close and unmet is at risk
	StaleDays   int   `json:"stale_days"`                   // a report this old leaves a pending milestone at risk
	Basically   int64 `json:"basically_complete_percent"`   // 基本完成 is this percent or done
	Significant int64 `json:"significant_progress_percent"` // 取得显著成效 is this percent or done
}

// TaskView is one unit's share of a task as the board shows it.
type TaskView struct {
	TaskID string `json:"task_id"`
	Title  string `json:"title,omitempty"`
	// Owner is the unit this row is about (the task's owner or a co-owner).
	Owner string `json:"owner"`
	// Deadline and Target are the next milestone not met (the last one
	// when all are).
	Deadline string `json:"deadline,omitempty"`
	Target   string `json:"target,omitempty"`
	// Status is the task's own: active or withdrawn.
	Status   string `json:"status,omitempty"`
	Progress string `json:"progress,omitempty"` // the unit's latest state
	Percent  int64  `json:"percent"`
	Reported string `json:"reported_on,omitempty"`

	Row        int             `json:"annex_row,omitempty"`
	No         int             `json:"task_no,omitempty"`
	Meeting    string          `json:"meeting_id,omitempty"` // the meeting that assigned it
	Area       string          `json:"area"`                 // the county of a county government's row, else the city
	Milestones []MilestoneView `json:"milestones"`
	Completed  string          `json:"completed_on,omitempty"`
	Milestone  string          `json:"milestone_reached,omitempty"`
	Note       string          `json:"note,omitempty"`
	// Board is on_track, at_risk, overdue, done, ongoing or withdrawn, and
	// Why says why.
	Board string `json:"board"`
	Why   string `json:"why"`
	// Indicators are the rates the task moves, in its area.
	Indicators []TaskIndicator `json:"indicators"`
	// Contradicted is set when the unit reports the task done while an
	// indicator it moves is below its target (beyond the amber margin).
	Contradicted  bool   `json:"contradicted"`
	Contradiction string `json:"contradiction,omitempty"`
	// Warning is the open R15 warning on this row, if any.
	Warning string `json:"warning_id,omitempty"`
	// InForce is false for a task the lead office has not put in force
	// (the annex's, before any plan.task): shown, not judged by R15.
	InForce bool `json:"in_force"`
}

// MilestoneView is a milestone of a task.
type MilestoneView struct {
	Due    string `json:"due_on,omitempty"`
	Target string `json:"target"`
	Met    bool   `json:"met"`
}

// TaskIndicator is a rate a task moves, in the area the task is read on.
type TaskIndicator struct {
	Rate   string  `json:"rate"`
	Area   string  `json:"area"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Grade  string  `json:"grade"` // green, amber, red; none when nothing is measured
	// Measured is false when the rate has no base in the area (no
	// households, no one trained): it reads 0 and says nothing.
	Measured bool `json:"measured"`
}

// TaskQuery filters the board; empty fields match all.
type TaskQuery struct {
	Dept   string // the unit (edu, county/610424)
	County string // county governments' rows of this county
	Status string // a board status
}

// Check refuses a query naming what the catalog does not have.
func (q TaskQuery) Check(cat *schemas.Catalog) *QueryError {
	if q.Dept != "" {
		if _, err := cat.ParsePublisher(q.Dept); err != nil || !cat.ValidDepartment(q.Dept) {
			return &QueryError{"dept", q.Dept, "not a department of the registry or a county government (county/610424)"}
		}
	}
	if q.County != "" {
		if _, ok := cat.County(q.County); !ok {
			return &QueryError{"county", q.County, fmt.Sprintf("not a county of %s (six-digit code such as 610424)", cat.City.Name)}
		}
	}
	if q.Status != "" && !containsString(TaskStatuses(), q.Status) {
		return &QueryError{"status", q.Status, "not a board status: " + strings.Join(TaskStatuses(), ", ")}
	}
	return nil
}

// met reports whether a unit's progress meets a milestone's target.
func (v *View) met(m milestone, pr *progress) bool {
	if pr == nil {
		return false
	}
	if pr.State == "done" {
		return true
	}
	switch m.Target {
	case targetBasically:
		return pr.Percent >= v.p.board.Basically
	case targetSignificant:
		return pr.Percent >= v.p.board.Significant
	}
	return false
}

// taskState is a unit's share of a task judged on the recorded clock.
type taskState struct {
	board string
	why   string
	next  int // index of the next milestone not met, -1 when none
	late  day // the deadline an overdue row missed
}

// stateOf judges a unit's share of a task on the view's clock.
func (v *View) stateOf(t *task, unit string) taskState {
	if t.Withdrawn {
		return taskState{board: TaskWithdrawn, why: "任务已撤销", next: -1}
	}
	pr := t.Progress[unit]
	if pr != nil && pr.State == "done" {
		return taskState{board: TaskDone, why: "已完成 " + pr.Completed.String(), next: -1}
	}
	today := toDay(v.clock)
	for i, m := range t.Milestones {
		if m.Due == 0 || m.Target == targetLongTerm || v.met(m, pr) {
			continue
		}
		st := taskState{next: i}
		switch {
		case today != 0 && today > m.Due:
			st.board, st.late = TaskOverdue, m.Due
			st.why = fmt.Sprintf("%s 到期%s未达到", m.Due, targetWords(m.Target))
		case pr != nil && pr.State == "blocked":
			st.board, st.why = TaskAtRisk, "受阻"
		case today != 0 && int(m.Due)-int(today) <= v.p.board.AtRiskDays:
			st.board, st.why = TaskAtRisk, fmt.Sprintf("%d天后到期, 尚未%s", int(m.Due)-int(today), targetWords(m.Target))
		case pr == nil && (t.Reg.key == 0 || int(today)-int(toDay(t.Reg.eff.Time())) > v.p.board.StaleDays):
			// No report since the task was given (long enough ago).
			st.board, st.why = TaskAtRisk, "未报告进展"
		case pr == nil:
			st.board, st.why = TaskOnTrack, fmt.Sprintf("%s 前%s", m.Due, targetWords(m.Target))
		case today != 0 && int(today)-int(pr.Reported) > v.p.board.StaleDays:
			st.board, st.why = TaskAtRisk, fmt.Sprintf("%d天未报告进展", int(today)-int(pr.Reported))
		default:
			st.board, st.why = TaskOnTrack, fmt.Sprintf("%s 前%s", m.Due, targetWords(m.Target))
		}
		return st
	}
	// Every dated milestone is met.
	last := milestone{Target: targetLongTerm}
	if n := len(t.Milestones); n > 0 {
		last = t.Milestones[n-1]
	}
	switch {
	case last.Target == targetLongTerm || last.Due == 0:
		if pr != nil && pr.State == "blocked" {
			return taskState{board: TaskAtRisk, why: "受阻", next: -1}
		}
		return taskState{board: TaskOngoing, why: "长期推进", next: -1}
	case last.Target == targetComplete || last.Target == targetBasically:
		return taskState{board: TaskDone, why: fmt.Sprintf("已%s", targetWords(last.Target)), next: -1}
	}
	return taskState{board: TaskOnTrack, why: fmt.Sprintf("已%s", targetWords(last.Target)), next: -1}
}

// targetWords names a milestone's target as the annex does.
func targetWords(target string) string {
	switch target {
	case targetComplete:
		return "完成"
	case targetBasically:
		return "基本完成"
	case targetSignificant:
		return "取得显著成效"
	}
	return "长期坚持"
}

// unitArea is the county a county government answers for, else the city.
func (v *View) unitArea(unit string) string {
	if c, ok := strings.CutPrefix(unit, "county/"); ok && v.cat.ValidArea(c) {
		return c
	}
	return v.cat.City.Code
}

// taskView builds the board's row of a unit's share of a task.
func (v *View) taskView(i uint32) TaskView {
	u := v.plan.Units[i]
	t := v.plan.Tasks[u.Task]
	st := v.stateOf(t, u.Unit)
	out := TaskView{
		TaskID: t.ID, Title: t.Title, Owner: u.Unit, Status: "active", Row: t.Row, No: t.No, Meeting: t.Meeting,
		Area: v.unitArea(u.Unit), Board: st.board, Why: st.why, Milestones: []MilestoneView{}, Indicators: []TaskIndicator{},
		InForce: v.judged(t),
	}
	if t.Withdrawn {
		out.Status = "withdrawn"
	}
	pr := t.Progress[u.Unit]
	if pr != nil {
		out.Progress, out.Percent, out.Reported, out.Completed = pr.State, pr.Percent, pr.Reported.String(), pr.Completed.String()
		out.Milestone, out.Note = pr.Milestone, pr.Note
	}
	for j, m := range t.Milestones {
		out.Milestones = append(out.Milestones, MilestoneView{Due: m.Due.String(), Target: m.Target, Met: v.met(m, pr)})
		if j == st.next || (st.next < 0 && j == len(t.Milestones)-1) {
			out.Deadline, out.Target = m.Due.String(), m.Target
		}
	}
	a := v.areaOf(out.Area)
	rates := indicators(&a.c).Rates
	var short []string
	for _, r := range v.cat.Board().Links[t.ID] {
		in, ok := v.indicator(r)
		if !ok {
			continue
		}
		ti := TaskIndicator{Rate: r, Area: out.Area, Value: rates[r], Target: in.Target, Grade: in.Grade(rates[r]), Measured: measured(&a.c, r)}
		if !ti.Measured {
			ti.Grade = "none"
		}
		out.Indicators = append(out.Indicators, ti)
		if ti.Grade == "red" {
			short = append(short, fmt.Sprintf("%s %.1f%% < %.0f%%", r, ti.Value*100, ti.Target*100))
		}
	}
	if pr != nil && pr.State == "done" && len(short) > 0 {
		out.Contradicted = true
		out.Contradiction = "报告已完成, 但数据显示: " + strings.Join(short, "; ")
	}
	if w := v.warnings[wkey{rule: 15, kind: entTask, idx: i}]; w != nil {
		out.Warning = warningID(15, w.id)
	}
	return out
}

// indicator returns the indicator of a rate.
func (v *View) indicator(rate string) (schemas.Indicator, bool) {
	for _, in := range v.cat.Indicators() {
		if in.Rate == rate {
			return in, true
		}
	}
	return schemas.Indicator{}, false
}

// judged reports whether R15 judges a task: one the lead office put in
// force (plan.task) or an issue a meeting assigned.
func (v *View) judged(t *task) bool {
	return t.Meeting != "" || t.Reg.key != 0
}

// Tasks returns the board's rows the query asks for, overdue first (those
// in force before those not), then by task and unit.
func (v *View) Tasks(q TaskQuery) []TaskView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []TaskView{}
	for i, u := range v.plan.Units {
		t := v.plan.Tasks[u.Task]
		if t.Owner == "" || !v.plan.answers(t, u.Unit) {
			continue
		}
		if q.Dept != "" && u.Unit != q.Dept {
			continue
		}
		if q.County != "" && u.Unit != "county/"+q.County {
			continue
		}
		tv := v.taskView(uint32(i))
		if q.Status != "" && tv.Board != q.Status {
			continue
		}
		out = append(out, tv)
	}
	sortTasks(out)
	return out
}

// TaskDetail is a task with every unit's row.
type TaskDetail struct {
	TaskID  string     `json:"task_id"`
	Title   string     `json:"title"`
	Text    string     `json:"milestone_text,omitempty"`
	Row     int        `json:"annex_row,omitempty"`
	No      int        `json:"task_no,omitempty"`
	Meeting string     `json:"meeting_id,omitempty"`
	Owner   string     `json:"owner"`
	Units   []TaskView `json:"units"`
}

// Task returns a task of the board with every unit's row.
func (v *View) Task(id string) (*TaskDetail, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t := v.plan.Tasks[id]
	if t == nil || t.Owner == "" {
		return nil, ErrNotFound
	}
	out := &TaskDetail{TaskID: t.ID, Title: t.Title, Text: t.Text, Row: t.Row, No: t.No, Meeting: t.Meeting, Owner: t.Owner, Units: []TaskView{}}
	for _, u := range v.plan.units(t) {
		if i, ok := v.plan.unitIdx[unitRef{Task: t.ID, Unit: u}]; ok {
			out.Units = append(out.Units, v.taskView(i))
		}
	}
	return out, nil
}

// OwnRows keeps the rows of one unit ("" keeps all).
func OwnRows(rows []TaskView, unit string) []TaskView {
	if unit == "" {
		return rows
	}
	out := []TaskView{}
	for _, r := range rows {
		if r.Owner == unit {
			out = append(out, r)
		}
	}
	return out
}

// unitTasks returns a unit's rows of the board (its department page).
func (v *View) unitTasks(unit string) []TaskView {
	out := []TaskView{}
	for _, i := range v.plan.byUnit[unit] {
		u := v.plan.Units[i]
		if t := v.plan.Tasks[u.Task]; t.Owner != "" && v.plan.answers(t, unit) {
			out = append(out, v.taskView(i))
		}
	}
	sortTasks(out)
	return out
}

func sortTasks(ts []TaskView) {
	rank := map[string]int{}
	for i, s := range TaskStatuses() {
		rank[s] = i
	}
	sort.SliceStable(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		if rank[a.Board] != rank[b.Board] {
			return rank[a.Board] < rank[b.Board]
		}
		if a.InForce != b.InForce {
			return a.InForce // the rows R15 judges before the annex's not yet in force
		}
		if a.TaskID != b.TaskID {
			return a.TaskID < b.TaskID
		}
		return a.Owner < b.Owner
	})
}

// evalTask is R15: every unit's share of a task in force meets each
// milestone by its deadline (overdue → warning to the unit).
func (v *View) evalTask(k wkey, detail bool) finding {
	if int(k.idx) >= len(v.plan.Units) {
		return finding{}
	}
	u := v.plan.Units[k.idx]
	t := v.plan.Tasks[u.Task]
	if t == nil || t.Owner == "" || !v.judged(t) || !v.plan.answers(t, u.Unit) {
		return finding{}
	}
	st := v.stateOf(t, u.Unit)
	if st.board != TaskOverdue {
		return finding{}
	}
	f := finding{broken: true, since: st.late.Time().AddDate(0, 0, 1)}
	if detail {
		m := t.Milestones[st.next]
		f.message = fmt.Sprintf("%s %s: %s前应%s, 未按期", v.departmentName(u.Unit), t.ID, m.Due, targetWords(m.Target))
		family := "plan.task"
		if t.Meeting != "" {
			family = "plan.meeting"
		}
		if t.Reg.key != 0 {
			f.evidence = append(f.evidence, Evidence{Family: family, Key: t.Reg.key, Subject: subjectOfTask(t), Time: t.Reg.eff.Time()})
		}
		if pr := t.Progress[u.Unit]; pr != nil {
			f.message += fmt.Sprintf("; 最新进展 %d%% (%s, %s)", pr.Percent, pr.State, pr.Reported)
			f.evidence = append(f.evidence, Evidence{Family: "task.progress", Key: pr.Reg.key, Subject: t.ID, Time: pr.Reg.eff.Time()})
		} else {
			f.message += "; 未报告进展"
		}
	}
	return f
}

// subjectOfTask is the subject of the fact that defined a task.
func subjectOfTask(t *task) string {
	if t.Meeting != "" {
		return t.Meeting
	}
	return t.ID
}
