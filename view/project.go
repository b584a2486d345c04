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

// projectFact is a fact about a project as its family's fold sees it.
type projectFact struct {
	v *View
	p *project
	f *fields
	e *fact.Entry
}

// projectFold folds one family's fact into a project and reports whether
// the project changed (and needs judging).
type projectFold func(x *projectFact) bool

// foldProjectFamily makes an entry fold of a project family's fold: it
// finds (or adds) the project in the area the fact names.
func foldProjectFamily(fold projectFold) func(*View, *fact.Entry) {
	return func(v *View, e *fact.Entry) {
		var f fields
		f.parse(e.Data)
		id := f.str("project_id")
		if id == "" {
			return
		}
		if p := v.projectOf(id, f.str("area")); fold(&projectFact{v: v, p: p, f: &f, e: e}) {
			v.dirtyProjects[id] = struct{}{}
			v.markCounty(p.area)
		}
	}
}

// report is an issue.report: a problem fed back, or a department's
// acknowledgement of, action on, or rectification of a warning. What it is
// about (area, task, site, household) is kept for every report, so that a
// problem fed back can be matched with the answers that followed it
// (feedback.go); the severity, due date and description only for problems.
type report struct {
	id        string
	dept      string
	kind      string
	warning   string
	reported  day
	key       uint64
	area      string
	task      string
	site      string
	household string
	severity  string
	due       day
	note      string
}

func (v *View) foldReport(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	r := &report{id: f.str("report_id"), dept: f.str("department"), kind: f.str("kind"),
		warning: f.str("warning_id"), reported: f.day("reported_on"), key: e.Key(),
		area: e.Area, task: f.str("task_id"), site: f.str("site_id"), household: f.str("household_id")}
	if r.kind == "problem" {
		r.severity, r.due, r.note = f.str("severity"), f.day("due_on"), f.str("description")
	}
	v.historyOfReport(e, r, v.reports[r.id])
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
