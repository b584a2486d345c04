package hub

import (
	"context"
	"net/http"
	"time"

	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/view"
)

// The lead office's plan over HTTP: the task board, the joint meetings and
// the counties' assessment by quarter.

// tasks lists the board's rows (?dept=&county=&status=).
func (a *api) tasks(r *http.Request) (any, error) {
	q := r.URL.Query()
	tq := view.TaskQuery{Dept: q.Get("dept"), County: q.Get("county"), Status: q.Get("status")}
	if qe := tq.Check(a.cat); qe != nil {
		return nil, badParam(qe.Field, qe.Value, "%s", qe.Why)
	}
	v := a.viewOf(r)
	return apiTasks{AsOf: v.Clock(), Items: v.Tasks(tq)}, nil
}

// apiTasks is the board's rows and the clock they were judged on.
type apiTasks struct {
	AsOf  time.Time       `json:"as_of"`
	Items []view.TaskView `json:"items"`
}

// task is one task of the board with every unit's row.
func (a *api) task(r *http.Request) (any, error) {
	id := r.PathValue("id")
	t, err := a.viewOf(r).Task(id)
	if err != nil {
		return nil, &notFoundError{kind: "task", id: id, why: "not a task of the responsibility list nor an issue a joint meeting assigned"}
	}
	t.Units = view.OwnRows(t.Units, r.URL.Query().Get("unit"))
	return t, nil
}

// apiFindings is the audit and inspection findings and their
// rectification, overdue first.
type apiFindings struct {
	Items []view.FindingView `json:"items"`
}

// findings lists the findings (?county=&dept=): a county government reads
// its county's, a department those it must rectify.
func (a *api) findings(r *http.Request) (any, error) {
	q := r.URL.Query()
	county, dept := q.Get("county"), q.Get("dept")
	if _, ok := a.cat.County(county); county != "" && !ok {
		return nil, badParam("county", county, "not a county of %s (six-digit code such as 610424)", a.cat.City.Name)
	}
	if dept != "" && !a.cat.ValidDepartment(dept) {
		return nil, badParam("dept", dept, "not a department of the registry or a county government (county/610424)")
	}
	return apiFindings{Items: a.viewOf(r).FindingsOf(county, dept)}, nil
}

// apiMeetings is the joint meetings held and the quarters found without one.
type apiMeetings struct {
	Held   []view.MeetingView `json:"held"`
	Missed []string           `json:"quarters_missed"`
}

func (a *api) meetings(r *http.Request) (any, error) {
	held, missed := a.viewOf(r).Meetings()
	if unit := r.URL.Query().Get("unit"); unit != "" {
		for i := range held {
			held[i].Assigned = view.OwnRows(held[i].Assigned, unit)
		}
	}
	return apiMeetings{Held: held, Missed: missed}, nil
}

// apiAssessment is every county's score (or one county's) for a quarter.
type apiAssessment struct {
	Quarter string `json:"quarter"`
	// AsOf is the recorded time the scores stand at: the quarter's end for
	// a quarter that has ended, now for the current one.
	AsOf time.Time `json:"as_of"`
	// Closed is false for the current quarter (scored on the live view).
	Closed   bool                  `json:"closed"`
	Counties []view.AssessmentView `json:"counties"`
}

// assessment scores the counties for a quarter (?quarter=2025Q4, default
// the current one; &county= for one).
func (a *api) assessment(r *http.Request) (any, error) {
	q := r.URL.Query()
	county := q.Get("county")
	if county != "" {
		if _, ok := a.cat.County(county); !ok {
			return nil, badParam("county", county, "not a county of %s", a.cat.City.Name)
		}
	}
	qv, err := a.quarterView(r.Context(), q.Get("quarter"))
	if err != nil {
		return nil, err
	}
	out := apiAssessment{Quarter: qv.quarter, AsOf: qv.asOf, Closed: qv.closed, Counties: []view.AssessmentView{}}
	for _, c := range qv.v.Assessments() {
		if county == "" || c.County == county {
			c.Quarter = qv.quarter
			out.Counties = append(out.Counties, c)
		}
	}
	return out, nil
}

// quarterView is the view a quarter is reported on.
type quarterView struct {
	v       *view.View
	quarter string
	asOf    time.Time
	closed  bool // the quarter has ended: v is the recorded cut at its end
}

// quarterView returns the view a quarter is reported on: for a quarter that
// has ended, the recorded cut at its last instant (China Standard Time, as
// every cut by date) — what the hub knew then, the same however many facts
// arrived since; for the current quarter, the live view. An empty quarter
// is the current one.
func (a *api) quarterView(ctx context.Context, quarter string) (quarterView, error) {
	now := time.Now()
	if quarter == "" {
		quarter = view.QuarterOf(now.In(view.ChinaTime()))
	}
	start, end, ok := view.ParseQuarter(quarter)
	if !ok {
		return quarterView{}, badParam("quarter", quarter, "not a quarter (e.g. 2025Q4)")
	}
	lastDay := end.AddDate(0, 0, -1).Format(time.DateOnly)
	cutAt, _ := view.ParseCutTime(lastDay)
	cutAt = a.quarterCutAt(quarter, cutAt)
	switch {
	case start.After(now.In(view.ChinaTime())) && view.QuarterOf(now.In(view.ChinaTime())) != quarter:
		return quarterView{}, badParam("quarter", quarter, "has not begun")
	case !cutAt.Before(now):
		return quarterView{v: a.h.view, quarter: quarter, asOf: now.UTC()}, nil
	}
	seq, err := a.h.cutAtTime(ctx, cutAt)
	if err != nil {
		return quarterView{}, err
	}
	cv, err := a.h.asOf.get(ctx, Cut{Seq: seq})
	if err != nil {
		return quarterView{}, err
	}
	return quarterView{v: cv.v, quarter: quarter, asOf: cutAt, closed: true}, nil
}

// ownRows narrows a task's or the meetings' rows to a department's or a
// county government's own (unit=); the lead office and auditors read every
// unit's. A county government's row carries its county's rates, which
// another county may not read.
func ownRows(id identities.Identity, r *http.Request) error {
	switch id.Role {
	case identities.RoleCounty, identities.RoleDepartment:
		return narrowTo(r, "unit", id.Dept, id)
	}
	return nil
}

// ownCounty narrows a county government to its own county; others read
// every county.
func ownCounty(id identities.Identity, r *http.Request) error {
	if id.Role == identities.RoleCounty {
		return narrowTo(r, "county", countyOf(id), id)
	}
	return nil
}
