package view

import (
	"time"

	"github.com/xianyang/anzhi/fact"
)

// project is a government-investment project or fund line (project_id):
// its jobs (hr.projectjobs, R3) and its funds (finance.funds, R17).
type project struct {
	id   string
	idx  uint32 // position in the view's project list
	area string // county or city code

	jobs          reg
	kind          string
	jobsTotal     int64
	jobsRelocated int64

	allocated int64 // fen
	disbursed int64
	// otherArea is the register of the latest allocation to another area
	// than a resettlement site (R17); zero when none stands.
	otherArea    reg
	otherAreaDay day
	otherAmount  int64
}

func (v *View) projectOf(id, areaCode string) *project {
	p := v.projects[id]
	if p == nil {
		p = &project{id: id, area: areaCode, idx: uint32(len(v.projectList))}
		v.projects[id] = p
		v.projectList = append(v.projectList, p)
	}
	if areaCode != "" {
		p.area = areaCode
	}
	return p
}

// areaOf returns the area of a county or city code.
func (v *View) areaOf(code string) *area {
	if a, ok := v.counties[code]; ok {
		return a
	}
	return v.city
}

func (v *View) foldProject(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	id := f.str("project_id")
	if id == "" {
		return
	}
	p := v.projectOf(id, f.str("area"))
	switch e.Family {
	case "hr.projectjobs":
		if !p.jobs.set(e) {
			return
		}
		a := v.areaOf(p.area)
		a.bumpOne(cProjectJobs, f.int("jobs_total")-p.jobsTotal)
		a.bumpOne(cProjectJobsRelocated, f.int("jobs_relocated")-p.jobsRelocated)
		p.kind, p.jobsTotal, p.jobsRelocated = f.str("kind"), f.int("jobs_total"), f.int("jobs_relocated")
	case "finance.funds":
		// Each allocation, disbursement or return is its own fact: they add up.
		amount := f.fen("amount_yuan")
		a := v.areaOf(p.area)
		if sid := f.str("site_id"); sid != "" {
			a = v.sites[v.siteIndex(sid)].area
		}
		switch {
		case f.is("action", "allocated"):
			p.allocated += amount
			a.bumpOne(cFundsAllocated, amount)
			if f.is("target", "other_area") && p.otherArea.set(e) {
				p.otherAreaDay, p.otherAmount = f.day("dated_on"), amount
			}
		case f.is("action", "disbursed"):
			p.disbursed += amount
			a.bumpOne(cFundsDisbursed, amount)
		case f.is("action", "returned"):
			p.allocated -= amount
			a.bumpOne(cFundsAllocated, -amount)
			if p.otherArea.key != 0 && p.otherArea.set(e) {
				p.otherArea = reg{key: 0, eff: toETime(e.Time)} // the money came back
			}
		}
	}
	v.dirtyProjects[id] = struct{}{}
}

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

func (v *View) foldTask(e *fact.Entry) {
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
	switch e.Family {
	case "plan.task":
		if !t.reg.set(e) {
			return
		}
		t.owner, t.title, t.target, t.status = f.str("owner"), f.str("title"), f.str("target"), f.str("status")
		t.deadline, t.final = f.day("deadline"), f.day("final_deadline")
		t.coOwners = stringList(f.raw("co_owners"))
	case "task.progress":
		if !t.progress.set(e) {
			return
		}
		t.state, t.percent, t.reported = f.str("status"), f.int("percent"), f.day("reported_on")
	}
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

// report is an issue.report: a problem fed back, or a department's
// acknowledgement of, action on, or rectification of a warning.
type report struct {
	id       string
	dept     string
	kind     string
	warning  string
	reported day
	key      uint64
}

func (v *View) foldReport(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	r := &report{id: f.str("report_id"), dept: f.str("department"), kind: f.str("kind"),
		warning: f.str("warning_id"), reported: f.day("reported_on"), key: e.Key()}
	v.reports[r.id] = r
	if r.warning == "" {
		return
	}
	v.reportsFor[r.warning] = append(v.reportsFor[r.warning], r)
	if id, ok := parseWarningID(r.warning); ok {
		if k, ok := v.warnByID[id]; ok && warningID(k.rule, id) == r.warning {
			v.supervise(v.warnings[k], r)
		}
	}
}

// dept holds what the view knows of a publishing department.
type dept struct {
	code      string
	published int64
	rejected  int64
	byFamily  map[string]int64
	last      time.Time // recorded time of the last fact (not part of the digest)
	// lastClock is the view's clock when its last fact was folded: freshness
	// (R18) is judged on the recorded clock, like every rule.
	lastClock time.Time
}

func (v *View) dept(code string) *dept {
	d := v.depts[code]
	if d == nil {
		d = &dept{code: code, byFamily: map[string]int64{}}
		v.depts[code] = d
	}
	return d
}
