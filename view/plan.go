package view

import "github.com/xianyang/anzhi/fact"

// The lead office's plan (plan.*, task.progress): the responsibility list's
// tasks and their progress, and the joint meetings held.

// task is a responsibility-list task (plan.task) and its latest progress.
type task struct {
	id       string
	reg      reg
	owner    string
	coOwners []string
	title    string
	deadline day
	target   string
	final    day
	status   string // active, withdrawn
	progress reg
	state    string // not_started, in_progress, done, blocked
	percent  int64
	reported day
}

// taskFold folds one family's fact into a task.
type taskFold func(t *task, f *fields, e *fact.Entry)

// foldTaskFamily makes an entry fold of a task family's fold: it finds (or
// adds) the task the fact names.
func foldTaskFamily(fold taskFold) func(*View, *fact.Entry) {
	return func(v *View, e *fact.Entry) {
		var f fields
		f.parse(e.Data)
		id := f.str("task_id")
		if id == "" {
			return
		}
		t := v.tasks[id]
		if t == nil {
			t = &task{id: id}
			v.tasks[id] = t
		}
		v.linkTask(id, e.Seq)
		fold(t, &f, e)
	}
}

// foldPlanTask folds plan.task: a task of the responsibility list, its
// owners and deadlines.
func foldPlanTask(t *task, f *fields, e *fact.Entry) {
	if !t.reg.set(e) {
		return
	}
	t.owner, t.title, t.target, t.status = f.str("owner"), f.str("title"), f.str("target"), f.str("status")
	t.deadline, t.final = f.day("deadline"), f.day("final_deadline")
	t.coOwners = stringList(f.raw("co_owners"))
}

// foldTaskProgress folds task.progress: a department's latest report on a
// task.
func foldTaskProgress(t *task, f *fields, e *fact.Entry) {
	if !t.progress.set(e) {
		return
	}
	t.state, t.percent, t.reported = f.str("status"), f.int("percent"), f.day("reported_on")
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

func (v *View) foldMeeting(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	if q := f.str("quarter"); q != "" {
		v.meetings[q] = true
	}
}
