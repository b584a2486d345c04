package view

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// The lead office's plan (plan.task, task.progress, plan.meeting,
// plan.assessment): the responsibility list's tasks (责任清单) with each
// unit's progress, the issues joint meetings assigned, the meetings held,
// and the counties' assessment schemes. It is small (hundreds of tasks), so
// snapshots keep it as one JSON document.

// Targets of a milestone (plan.task's target), in the order they ask more.
const (
	targetLongTerm    = "long_term"
	targetSignificant = "significant_progress"
	targetBasically   = "basically_complete"
	targetComplete    = "complete"
)

// plan is the lead office's plan as folded.
type plan struct {
	Tasks map[string]*task `json:"tasks"`
	// Units are the (task, unit) pairs, by index: the board's rows, and
	// what R15 judges (a warning refers to its pair by index).
	Units    []unitRef           `json:"units"`
	Meetings map[string]*meeting `json:"meetings"` // by meeting id
	Schemes  map[string]*scheme  `json:"schemes"`  // by county/year
	InForce  bool                `json:"in_force"` // the lead office has put the list in force (a plan.task)
	unitIdx  map[unitRef]uint32  // index of Units
	byUnit   map[string][]uint32 // Units by unit code
	meetsOf  map[string][]string // meeting ids by quarter
	counties []string            // county codes of the catalog, in order (R19 warnings refer by index)
	cat      *schemas.Catalog    // for expanding "county" owners
}

// unitRef is one unit's share of a task.
type unitRef struct {
	Task string `json:"t"`
	Unit string `json:"u"`
}

// task is a responsibility-list task (from the annex, amended by
// plan.task) or an issue a joint meeting assigned.
type task struct {
	ID         string               `json:"id"`
	Reg        reg                  `json:"reg"` // plan.task, or the meeting that assigned it
	Row        int                  `json:"row,omitempty"`
	No         int                  `json:"no,omitempty"`
	Meeting    string               `json:"meeting,omitempty"`
	Owner      string               `json:"owner"` // "county" for every county government (annex row 25)
	CoOwners   []string             `json:"co_owners,omitempty"`
	Title      string               `json:"title"`
	Text       string               `json:"text,omitempty"` // staged goals as the lead office wrote them
	Milestones []milestone          `json:"milestones,omitempty"`
	Withdrawn  bool                 `json:"withdrawn,omitempty"`
	Progress   map[string]*progress `json:"progress,omitempty"` // latest report by reporting unit
}

// milestone is a deadline and what is due by then; a long-term milestone
// has no deadline.
type milestone struct {
	Due    day    `json:"due,omitempty"`
	Target string `json:"target"`
}

// progress is a unit's latest task.progress on a task.
type progress struct {
	Reg       reg    `json:"reg"`
	State     string `json:"state"` // not_started, in_progress, done, blocked
	Percent   int64  `json:"percent"`
	Reported  day    `json:"reported"`
	Completed day    `json:"completed,omitempty"`
	Milestone string `json:"milestone,omitempty"`
	Note      string `json:"note,omitempty"`
}

// meeting is a joint meeting (联席会议).
type meeting struct {
	Reg       reg      `json:"reg"`
	Quarter   string   `json:"quarter"`
	Held      day      `json:"held"`
	Chair     string   `json:"chair"`
	Attendees []string `json:"attendees"`
	Issues    int64    `json:"issues"`
	Decisions int64    `json:"decisions"`
	Minutes   string   `json:"minutes,omitempty"`
	Items     []string `json:"items,omitempty"` // task ids of the issues it assigned
}

// scheme is a county's assessment scheme for a year (plan.assessment).
type scheme struct {
	Reg       reg          `json:"reg"`
	ID        string       `json:"id"`
	County    string       `json:"county"`
	Year      int          `json:"year"`
	Published day          `json:"published"`
	Document  string       `json:"document,omitempty"`
	Items     []schemeItem `json:"items"`
}

// schemeItem is an item of an assessment scheme and its weight.
type schemeItem struct {
	Item     string  `json:"item"`
	Weight   float64 `json:"weight"`
	Followup bool    `json:"followup,omitempty"`
}

// followup is the weight of the follow-up work in the scheme.
func (s *scheme) followup() float64 {
	w := 0.0
	for _, it := range s.Items {
		if it.Followup {
			w += it.Weight
		}
	}
	return w
}

// newPlan returns the plan as the annex has it: every task of the
// responsibility list, not yet in force.
func newPlan(cat *schemas.Catalog) *plan {
	p := &plan{Tasks: map[string]*task{}, Meetings: map[string]*meeting{}, Schemes: map[string]*scheme{}, cat: cat}
	p.index()
	for _, row := range cat.Responsibilities() {
		for _, rt := range row.Tasks {
			t := &task{ID: rt.TaskID, Row: row.Row, No: rt.TaskNo, Owner: row.Department, Title: rt.Text, Text: row.DeadlineText}
			// The annex's milestones, as the catalog checked them against
			// the deadline phrases (schemas/milestones.go).
			for _, m := range rt.Milestones() {
				t.Milestones = append(t.Milestones, milestone{Due: parseDay(m.Date), Target: m.Target})
			}
			if len(t.Milestones) == 0 {
				t.Milestones = append(t.Milestones, milestone{Target: targetLongTerm})
			}
			p.Tasks[t.ID] = t
			p.addUnits(t)
		}
	}
	return p
}

// index rebuilds the plan's derived indexes (after a snapshot is read).
func (p *plan) index() {
	p.unitIdx, p.byUnit, p.meetsOf = map[unitRef]uint32{}, map[string][]uint32{}, map[string][]string{}
	for i, u := range p.Units {
		p.unitIdx[u] = uint32(i)
		p.byUnit[u.Unit] = append(p.byUnit[u.Unit], uint32(i))
	}
	for id, m := range p.Meetings {
		p.meetsOf[m.Quarter] = append(p.meetsOf[m.Quarter], id)
	}
	p.counties = p.counties[:0]
	for _, c := range p.cat.Counties() {
		p.counties = append(p.counties, c.Code)
	}
}

// units returns the units that answer for a task: its owner and co-owners,
// every county government for the annex's row 25.
func (p *plan) units(t *task) []string {
	var out []string
	for _, u := range append([]string{t.Owner}, t.CoOwners...) {
		if u == "county" {
			for _, c := range p.cat.Counties() {
				out = append(out, "county/"+c.Code)
			}
			continue
		}
		if u != "" && !containsString(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// addUnits gives every unit of a task its row of the board.
func (p *plan) addUnits(t *task) {
	for _, u := range p.units(t) {
		r := unitRef{Task: t.ID, Unit: u}
		if _, ok := p.unitIdx[r]; !ok {
			p.unitIdx[r] = uint32(len(p.Units))
			p.byUnit[u] = append(p.byUnit[u], uint32(len(p.Units)))
			p.Units = append(p.Units, r)
		}
	}
}

// answers reports whether a unit answers for a task now.
func (p *plan) answers(t *task, unit string) bool {
	return containsString(p.units(t), unit)
}

// taskOf returns the task of an id, adding an undefined one (progress
// reported before the task is defined).
func (p *plan) taskOf(id string) *task {
	t := p.Tasks[id]
	if t == nil {
		t = &task{ID: id}
		p.Tasks[id] = t
	}
	return t
}

// foldPlanTask folds plan.task: the lead office defines or amends a task
// of the responsibility list, its owners and milestones, and so puts the
// list in force.
func (v *View) foldPlanTask(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	id := f.str("task_id")
	if id == "" {
		return
	}
	v.linkTask(id, e.Seq)
	p := v.plan
	p.InForce = true
	t := p.taskOf(id)
	if !t.Reg.set(e) {
		return
	}
	t.Row, t.No = int(f.int("annex_row")), int(f.int("task_no"))
	t.Owner, t.Title, t.Text = f.str("owner"), f.str("title"), f.str("milestone_text")
	t.CoOwners = stringList(f.raw("co_owners"))
	t.Withdrawn = f.is("status", "withdrawn")
	t.Milestones = t.Milestones[:0]
	if d := f.day("deadline"); d != 0 && !f.is("target", targetLongTerm) {
		t.Milestones = append(t.Milestones, milestone{Due: d, Target: f.str("target")})
	} else {
		t.Milestones = append(t.Milestones, milestone{Target: targetLongTerm})
	}
	if d := f.day("final_deadline"); d != 0 {
		t.Milestones = append(t.Milestones, milestone{Due: d, Target: f.str("final_target")})
	}
	p.addUnits(t)
}

// foldTaskProgress folds task.progress: a unit's latest report on a task.
func (v *View) foldTaskProgress(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	id, unit := f.str("task_id"), f.str("department")
	if id == "" || unit == "" {
		return
	}
	v.linkTask(id, e.Seq)
	t := v.plan.taskOf(id)
	if t.Progress == nil {
		t.Progress = map[string]*progress{}
	}
	pr := t.Progress[unit]
	if pr == nil {
		pr = &progress{}
		t.Progress[unit] = pr
	}
	if !pr.Reg.set(e) {
		return
	}
	pr.State, pr.Percent, pr.Reported, pr.Completed = f.str("status"), f.int("percent"), f.day("reported_on"), f.day("completed_on")
	pr.Milestone, pr.Note = f.str("milestone"), f.str("note")
	if pr.State == "done" && pr.Percent == 0 {
		pr.Percent = 100
	}
}

// meetingFact is plan.meeting's data as the plan reads it.
type meetingFact struct {
	ID        string   `json:"meeting_id"`
	Quarter   string   `json:"quarter"`
	Held      string   `json:"held_on"`
	Chair     string   `json:"chaired_by"`
	Attendees []string `json:"attendees"`
	Issues    int64    `json:"issues_discussed"`
	Decisions int64    `json:"decisions"`
	Minutes   string   `json:"minutes_no"`
	Assigned  []struct {
		No    int    `json:"item_no"`
		Title string `json:"title"`
		Owner string `json:"owner"`
		Due   string `json:"due_on"`
	} `json:"issues_assigned"`
}

// foldMeeting folds plan.meeting: a joint meeting held, and the issues it
// assigned, each a task of the board owned by one unit and due on a date.
func (v *View) foldMeeting(e *fact.Entry) {
	var mf meetingFact
	if json.Unmarshal(e.Data, &mf) != nil || mf.ID == "" || mf.Quarter == "" {
		return
	}
	p := v.plan
	m := p.Meetings[mf.ID]
	if m == nil {
		m = &meeting{}
		p.Meetings[mf.ID] = m
		p.meetsOf[mf.Quarter] = append(p.meetsOf[mf.Quarter], mf.ID)
	}
	if !m.Reg.set(e) {
		return
	}
	if m.Quarter != "" && m.Quarter != mf.Quarter {
		p.meetsOf[m.Quarter] = deleteString(p.meetsOf[m.Quarter], mf.ID)
		p.meetsOf[mf.Quarter] = append(p.meetsOf[mf.Quarter], mf.ID)
	}
	m.Quarter, m.Held, m.Chair, m.Attendees = mf.Quarter, parseDay(mf.Held), mf.Chair, mf.Attendees
	m.Issues, m.Decisions, m.Minutes = mf.Issues, mf.Decisions, mf.Minutes
	// Items the meeting no longer lists are withdrawn.
	old := m.Items
	m.Items = nil
	for _, a := range mf.Assigned {
		id := mf.ID + "-I" + strconv.Itoa(a.No)
		if containsString(m.Items, id) {
			continue // an item number given twice: the first stands
		}
		v.linkTask(id, e.Seq)
		t := p.taskOf(id)
		t.Reg, t.Meeting, t.No, t.Owner, t.CoOwners, t.Title, t.Withdrawn = m.Reg, mf.ID, a.No, a.Owner, nil, a.Title, false
		t.Milestones = []milestone{{Due: parseDay(a.Due), Target: targetComplete}}
		p.addUnits(t)
		m.Items = append(m.Items, id)
	}
	for _, id := range old {
		if !containsString(m.Items, id) {
			p.taskOf(id).Withdrawn = true
		}
	}
}

// assessmentFact is plan.assessment's data as the plan reads it.
type assessmentFact struct {
	ID        string       `json:"assessment_id"`
	Area      string       `json:"area"`
	Year      int          `json:"year"`
	Published string       `json:"published_on"`
	Document  string       `json:"document_no"`
	Items     []schemeItem `json:"items"`
}

// foldAssessment folds plan.assessment: a county's assessment scheme for a
// year; a newer one for the same year replaces it.
func (v *View) foldAssessment(e *fact.Entry) {
	var af assessmentFact
	if json.Unmarshal(e.Data, &af) != nil || af.Area == "" || af.Year == 0 {
		return
	}
	key := af.Area + "/" + strconv.Itoa(af.Year)
	s := v.plan.Schemes[key]
	if s == nil {
		s = &scheme{}
		v.plan.Schemes[key] = s
	}
	if !s.Reg.set(e) {
		return
	}
	s.ID, s.County, s.Year, s.Published, s.Document, s.Items = af.ID, af.Area, af.Year, parseDay(af.Published), af.Document, af.Items
}

func stringList(raw []byte) []string {
	var out []string
	if len(raw) < 2 || raw[0] != '[' {
		return nil
	}
	i := 1
	for i < len(raw) {
		for i < len(raw) && raw[i] != '"' && raw[i] != ']' {
			i++
		}
		if i >= len(raw) || raw[i] == ']' {
			break
		}
		j := i + 1
		for j < len(raw) && raw[j] != '"' {
			if raw[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(raw) {
			break
		}
		out = append(out, fact.UnquoteString(raw[i:j+1]))
		i = j + 1
	}
	return out
}

func deleteString(xs []string, s string) []string {
	out := xs[:0]
	for _, x := range xs {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// restore reads the plan a snapshot kept (as json.Marshal wrote it).
func (p *plan) restore(doc string) error {
	fresh := &plan{cat: p.cat}
	if err := json.Unmarshal([]byte(doc), fresh); err != nil {
		return fmt.Errorf("view: the plan in the snapshot: %w", err)
	}
	if fresh.Tasks == nil || fresh.Meetings == nil || fresh.Schemes == nil {
		return fmt.Errorf("view: the plan in the snapshot lacks tasks, meetings or schemes")
	}
	for _, u := range fresh.Units {
		if fresh.Tasks[u.Task] == nil {
			return fmt.Errorf("view: the plan in the snapshot lists unit %s of task %s, which it does not have", u.Unit, u.Task)
		}
	}
	for id, t := range fresh.Tasks {
		if t == nil {
			return fmt.Errorf("view: the plan in the snapshot has no task %s", id)
		}
	}
	for id, m := range fresh.Meetings {
		if m == nil {
			return fmt.Errorf("view: the plan in the snapshot has no meeting %s", id)
		}
		for _, it := range m.Items {
			if fresh.Tasks[it] == nil {
				return fmt.Errorf("view: the plan in the snapshot lists issue %s of meeting %s, which it does not have", it, id)
			}
		}
	}
	for id, s := range fresh.Schemes {
		if s == nil {
			return fmt.Errorf("view: the plan in the snapshot has no scheme %s", id)
		}
	}
	*p = *fresh
	p.index()
	return nil
}
