package view

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/xianyang/anzhi/fact"
)

// Findings of audits (audit.finding, 市审计局) and inspections
// (inspect.finding, 市委市政府督查室) and their rectification (整改): R22
// warns the unit that must rectify when a finding is not rectified by its
// deadline (or within the rule's default days when it names none).

// auditFinding is an audit or inspection finding as the view keeps it. The
// findings are few (hundreds a year), so snapshots keep them as one JSON
// document.
type auditFinding struct {
	Reg         reg    `json:"reg"`
	Family      string `json:"family"`
	ID          string `json:"id"`
	Area        string `json:"area"`
	Site        string `json:"site,omitempty"`
	Project     string `json:"project,omitempty"`
	Responsible string `json:"responsible"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	Status      string `json:"status"` // open, rectifying, rectified
	Found       day    `json:"found"`
	Due         day    `json:"due,omitempty"`
	Rectified   day    `json:"rectified,omitempty"`
	Report      string `json:"report,omitempty"`
}

// findings are the findings folded, by index (R22 warnings refer to them by
// index) and by family and id.
type findings struct {
	List []*auditFinding `json:"list"`
	idx  map[string]uint32
}

func findingKey(family, id string) string { return family + "\x00" + id }

func (fs *findings) index() {
	fs.idx = make(map[string]uint32, len(fs.List))
	for i, f := range fs.List {
		fs.idx[findingKey(f.Family, f.ID)] = uint32(i)
	}
}

// findingFact is the data of audit.finding and inspect.finding.
type findingFact struct {
	ID          string `json:"finding_id"`
	Area        string `json:"area"`
	Site        string `json:"site_id"`
	Project     string `json:"project_id"`
	Responsible string `json:"responsible"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	Status      string `json:"status"`
	Found       string `json:"found_on"`
	Due         string `json:"due_on"`
	Rectified   string `json:"rectified_on"`
	Report      string `json:"report_no"`
}

// foldFinding folds audit.finding or inspect.finding: a finding, or news of
// its rectification (the same finding published again).
func (v *View) foldFinding(e *fact.Entry) {
	var ff findingFact
	if json.Unmarshal(e.Data, &ff) != nil || ff.ID == "" {
		return
	}
	fs := &v.findings
	k := findingKey(e.Family, ff.ID)
	i, ok := fs.idx[k]
	if !ok {
		i = uint32(len(fs.List))
		fs.List = append(fs.List, &auditFinding{Family: e.Family, ID: ff.ID})
		fs.idx[k] = i
	}
	f := fs.List[i]
	if !f.Reg.set(e) {
		return
	}
	f.Area, f.Site, f.Project, f.Responsible = ff.Area, ff.Site, ff.Project, ff.Responsible
	f.Category, f.Severity, f.Status, f.Report = ff.Category, ff.Severity, ff.Status, ff.Report
	f.Found, f.Due, f.Rectified = parseDay(ff.Found), parseDay(ff.Due), parseDay(ff.Rectified)
	v.dirtyFindings = true
}

// dueOfFinding is when a finding must be rectified: its own deadline, or
// the rule's default days after it was found.
func (v *View) dueOfFinding(f *auditFinding) day {
	if f.Due != 0 {
		return f.Due
	}
	if f.Found == 0 {
		return 0
	}
	return f.Found + day(v.p.findingDays)
}

// evalFinding is R22: every finding of an audit or inspection is rectified
// by its deadline.
func (v *View) evalFinding(k wkey, detail bool) finding {
	if int(k.idx) >= len(v.findings.List) {
		return finding{}
	}
	f := v.findings.List[k.idx]
	due := v.dueOfFinding(f)
	if f.Status == "rectified" || due == 0 || toDay(v.clock) <= due {
		return finding{}
	}
	out := finding{broken: true, since: due.Time().AddDate(0, 0, 1)}
	if detail {
		what := "审计"
		if f.Family == "inspect.finding" {
			what = "督查"
		}
		out.message = fmt.Sprintf("%s发现问题%s(%s, %s)应于%s前整改, 未整改完成(%s)", what, f.ID, f.Category, f.Severity, due, f.Status)
		out.evidence = []Evidence{{Family: f.Family, Key: f.Reg.key, Subject: f.ID, Time: f.Reg.eff.Time()}}
	}
	return out
}

// findingArea is the county of a finding, else the city.
func (v *View) findingArea(f *auditFinding) string {
	for _, c := range []string{f.Area, strings.TrimPrefix(f.Site, "S"), strings.TrimPrefix(f.Project, "P")} {
		if len(c) >= 6 && v.cat.ValidArea(c[:6]) {
			return c[:6]
		}
	}
	return v.cat.City.Code
}

// FindingView is a finding as read.
type FindingView struct {
	Family      string `json:"family"`
	FindingID   string `json:"finding_id"`
	Area        string `json:"area"`
	SiteID      string `json:"site_id,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	Responsible string `json:"responsible"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	Status      string `json:"status"`
	FoundOn     string `json:"found_on"`
	DueOn       string `json:"due_on"`
	Rectified   string `json:"rectified_on,omitempty"`
	ReportNo    string `json:"report_no,omitempty"`
	Overdue     bool   `json:"overdue"`
	Warning     string `json:"warning_id,omitempty"`
}

// Findings returns the audit and inspection findings of an area (a county,
// or "" for all), overdue first, then by when found.
func (v *View) Findings(county string) []FindingView { return v.FindingsOf(county, "") }

// FindingsOf is Findings narrowed to the findings a unit must rectify (""
// for every unit).
func (v *View) FindingsOf(county, unit string) []FindingView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := []FindingView{}
	for i, f := range v.findings.List {
		area := v.findingArea(f)
		if (county != "" && area != county) || (unit != "" && f.Responsible != unit) {
			continue
		}
		fv := FindingView{Family: f.Family, FindingID: f.ID, Area: area, SiteID: f.Site, ProjectID: f.Project, Responsible: f.Responsible,
			Category: f.Category, Severity: f.Severity, Status: f.Status, FoundOn: f.Found.String(), DueOn: v.dueOfFinding(f).String(),
			Rectified: f.Rectified.String(), ReportNo: f.Report}
		if w := v.warnings[wkey{rule: 22, kind: entFinding, idx: uint32(i)}]; w != nil {
			fv.Overdue, fv.Warning = true, warningID(22, w.id)
		}
		out = append(out, fv)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Overdue != out[j].Overdue {
			return out[i].Overdue
		}
		if out[i].FoundOn != out[j].FoundOn {
			return out[i].FoundOn < out[j].FoundOn
		}
		return out[i].FindingID < out[j].FindingID
	})
	return out
}

// restore reads the findings a snapshot kept (as json.Marshal wrote them).
func (fs *findings) restore(doc string) error {
	var fresh findings
	if err := json.Unmarshal([]byte(doc), &fresh); err != nil {
		return fmt.Errorf("view: the findings in the snapshot: %w", err)
	}
	for _, f := range fresh.List {
		if f == nil {
			return fmt.Errorf("view: the findings in the snapshot list a null finding")
		}
	}
	*fs = fresh
	fs.index()
	return nil
}
