package dashboard

import (
	"fmt"
	"net/http"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// The lead office's plan: the task board (责任清单), one task, the joint
// meetings and the counties' assessment.

// unitCounts is one unit's line of the board's summary: its rows by status.
type unitCounts struct {
	Code, Name string
	Counts     map[string]int
	Total      int
}

type tasksData struct {
	Query    view.TaskQuery
	Rows     []view.TaskView
	Units    []unitCounts
	Statuses []string
	Depts    []view.DepartmentSummary
	Counties []schemas.County
	Now      time.Time
}

func (s *Server) tasks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tq := view.TaskQuery{Dept: q.Get("dept"), County: q.Get("county"), Status: q.Get("status")}
	if qe := tq.Check(s.cat); qe != nil {
		return fmt.Errorf("%w: %v", errBadParam, qe)
	}
	v := s.src.View()
	d := tasksData{Query: tq, Rows: v.Tasks(tq), Statuses: view.TaskStatuses(), Depts: v.Departments(), Counties: s.cat.Counties(), Now: v.Clock()}
	// The summary: every unit of the (narrowed) board by status, units in
	// the registry's order.
	byUnit := map[string]*unitCounts{}
	var order []string
	for _, row := range v.Tasks(view.TaskQuery{Dept: tq.Dept, County: tq.County}) {
		u := byUnit[row.Owner]
		if u == nil {
			u = &unitCounts{Code: row.Owner, Counts: map[string]int{}}
			byUnit[row.Owner] = u
			order = append(order, row.Owner)
		}
		u.Counts[row.Board]++
		u.Total++
	}
	for _, ds := range d.Depts {
		if u := byUnit[ds.Code]; u != nil {
			u.Name = ds.Name
			d.Units = append(d.Units, *u)
			delete(byUnit, ds.Code)
		}
	}
	for _, code := range order {
		if u := byUnit[code]; u != nil {
			u.Name = code
			d.Units = append(d.Units, *u)
		}
	}
	return s.render(w, r, "tasks", page{TitleKey: "nav.tasks", Nav: "tasks", Live: "/live", Data: d})
}

func (s *Server) task(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	t, err := s.src.View().Task(id)
	if err != nil {
		return fmt.Errorf("task %q: %w", id, errNotFound)
	}
	if t.Units = view.OwnRows(t.Units, r.URL.Query().Get("unit")); len(t.Units) == 0 {
		return fmt.Errorf("task %q has no row of %s: %w", id, r.URL.Query().Get("unit"), errNotFound)
	}
	return s.render(w, r, "task", page{Title: t.TaskID, Nav: "tasks", Live: "/live", Data: t})
}

type meetingsData struct {
	Held   []view.MeetingView
	Missed []string
}

func (s *Server) meetings(w http.ResponseWriter, r *http.Request) error {
	held, missed := s.src.View().Meetings()
	if unit := r.URL.Query().Get("unit"); unit != "" {
		for i := range held {
			held[i].Assigned = view.OwnRows(held[i].Assigned, unit)
		}
	}
	// Newest first: the lead office reads the latest meeting.
	for i, j := 0, len(held)-1; i < j; i, j = i+1, j-1 {
		held[i], held[j] = held[j], held[i]
	}
	return s.render(w, r, "meetings", page{TitleKey: "nav.meetings", Nav: "tasks", Live: "/live", Data: meetingsData{Held: held, Missed: missed}})
}

type assessmentData struct {
	Quarter  string
	Counties []view.AssessmentView
}

func (s *Server) assessment(w http.ResponseWriter, r *http.Request) error {
	county := r.URL.Query().Get("county")
	if _, ok := s.cat.County(county); county != "" && !ok {
		return fmt.Errorf("%w: county %q is not a county of %s", errBadParam, county, s.cat.City.Name)
	}
	v := s.src.View()
	d := assessmentData{Quarter: view.QuarterOf(v.Clock().In(view.ChinaTime()))}
	for _, a := range v.Assessments() {
		if county == "" || a.County == county {
			d.Counties = append(d.Counties, a)
		}
	}
	return s.render(w, r, "assessment", page{TitleKey: "nav.assessment", Nav: "assessment", Live: "/live", Data: d})
}
