package view

import (
	"sort"
)

// Problems fed back (问题反馈): the issue.report facts of kind problem, and
// how each was handled — the acknowledgements, actions and rectifications
// units reported after it on what it is about, or nothing.

// Handling of a problem fed back: the furthest answer reported on it.
const (
	HandlingNone         = "none"
	HandlingAcknowledged = "acknowledged"
	HandlingAction       = "action"
	HandlingRectified    = "rectified"
)

// HandlingStages are the handling stages, from nothing to rectified.
func HandlingStages() []string {
	return []string{HandlingNone, HandlingAcknowledged, HandlingAction, HandlingRectified}
}

// handlingRank orders the kinds of answer: a rectification goes further
// than an action, an action than an acknowledgement.
var handlingRank = map[string]int{"acknowledgement": 1, "action": 2, "rectified": 3}

// ProblemView is a problem fed back and how it was handled.
type ProblemView struct {
	ReportID string `json:"report_id"`
	Dept     string `json:"department"`
	DeptName string `json:"department_name"`
	// Area is the county the problem is about, or the city's code.
	Area        string `json:"area"`
	Warning     string `json:"warning_id,omitempty"`
	Task        string `json:"task_id,omitempty"`
	Site        string `json:"site_id,omitempty"`
	Household   string `json:"household_id,omitempty"`
	Severity    string `json:"severity,omitempty"`
	ReportedOn  string `json:"reported_on"`
	DueOn       string `json:"due_on,omitempty"`
	Description string `json:"description"`
	// About says what the answers were matched on: warning, task,
	// household, site, or "" when the problem names none of them (then
	// nothing can answer it but the lead office's own follow-up).
	About string `json:"about,omitempty"`
	// Handling is the furthest answer: rectified, action, acknowledged or
	// none; Answers are the answers, in the order they were reported.
	Handling string         `json:"handling"`
	Answers  []ProblemReply `json:"answers"`
}

// ProblemReply is a unit's answer to a problem fed back.
type ProblemReply struct {
	ReportID   string `json:"report_id"`
	Dept       string `json:"department"`
	Kind       string `json:"kind"`
	ReportedOn string `json:"reported_on"`
}

// aboutOf is what a report is about, most specific first: its warning,
// its task, its household, its site.
func (r *report) aboutOf() (kind, id string) {
	switch {
	case r.warning != "":
		return "warning", r.warning
	case r.task != "":
		return "task", r.task
	case r.household != "":
		return "household", r.household
	case r.site != "":
		return "site", r.site
	}
	return "", ""
}

// Problems returns the problems fed back about an area (a county's code;
// the city's for the city's own; "" for all), ordered by the day reported
// and then id, each with the answers reported on or after that day on the
// same warning, task, household or site (the most specific the problem
// names).
func (v *View) Problems(area string) []ProblemView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	// The answers by what they are about: each answer under every field it
	// names, so that a problem about a site finds an action that names the
	// site and a warning.
	type subject struct{ kind, id string }
	answers := map[subject][]*report{}
	for _, r := range v.reports {
		if handlingRank[r.kind] == 0 {
			continue
		}
		for _, s := range []subject{{"warning", r.warning}, {"task", r.task}, {"household", r.household}, {"site", r.site}} {
			if s.id != "" {
				answers[s] = append(answers[s], r)
			}
		}
	}
	out := []ProblemView{}
	for _, r := range v.reports {
		if r.kind != "problem" || (area != "" && r.area != area) {
			continue
		}
		p := ProblemView{ReportID: r.id, Dept: r.dept, DeptName: v.departmentName(r.dept), Area: r.area, Warning: r.warning,
			Task: r.task, Site: r.site, Household: r.household, Severity: r.severity, ReportedOn: r.reported.String(),
			DueOn: r.due.String(), Description: r.note, Handling: HandlingNone, Answers: []ProblemReply{}}
		kind, id := r.aboutOf()
		p.About = kind
		var list []*report
		for _, a := range answers[subject{kind, id}] {
			if kind != "" && a.reported >= r.reported {
				list = append(list, a)
			}
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].reported != list[j].reported {
				return list[i].reported < list[j].reported
			}
			return list[i].id < list[j].id
		})
		best := 0
		for _, a := range list {
			p.Answers = append(p.Answers, ProblemReply{ReportID: a.id, Dept: a.dept, Kind: a.kind, ReportedOn: a.reported.String()})
			best = max(best, handlingRank[a.kind])
		}
		p.Handling = HandlingStages()[best]
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ReportedOn != out[j].ReportedOn {
			return out[i].ReportedOn < out[j].ReportedOn
		}
		return out[i].ReportID < out[j].ReportID
	})
	return out
}
