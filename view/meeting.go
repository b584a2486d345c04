package view

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Joint meetings (联席会议): R16, one every quarter, and the city's list of
// meetings held.

// quarter is a calendar quarter as an ordinal: year*4 + (quarter - 1).
type quarter uint32

// parseQuarter reads 2021Q3.
func parseQuarter(s string) (quarter, bool) {
	if len(s) != 6 || s[4] != 'Q' || s[5] < '1' || s[5] > '4' {
		return 0, false
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 2000 || y > 2179 {
		return 0, false
	}
	return quarter(y*4 + int(s[5]-'1')), true
}

// ParseQuarter reads a quarter spelt 2021Q3 and returns its first instant
// and the first instant after it (dates are the view's, in UTC like every
// deadline it judges).
func ParseQuarter(s string) (start, end time.Time, ok bool) {
	q, ok := parseQuarter(s)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	return q.start(), q.next().start(), true
}

// QuarterOf returns the quarter a time falls in, in its own location, e.g.
// 2025Q4.
func QuarterOf(t time.Time) string { return quarterOf(t).String() }

func quarterOf(t time.Time) quarter {
	return quarter(t.Year()*4 + (int(t.Month())-1)/3)
}

func (q quarter) String() string { return fmt.Sprintf("%dQ%d", q/4, q%4+1) }
func (q quarter) next() quarter  { return q + 1 }

// start is the quarter's first instant.
func (q quarter) start() time.Time {
	return time.Date(int(q/4), time.Month(3*(q%4)+1), 1, 0, 0, 0, 0, time.UTC)
}

// quartersJudged are the quarters R16 judges: from its params' first to
// the last that has ended on the recorded clock.
func (v *View) quartersJudged() (from, to quarter, ok bool) {
	// Judged once the lead office runs the plan in the system: it has put
	// the list in force (a plan.task) or recorded a joint meeting.
	if !(v.plan.InForce || len(v.plan.Meetings) > 0) || v.clock.IsZero() || v.p.meetingsFrom == 0 {
		return 0, 0, false
	}
	last := quarterOf(v.clock) - 1
	if last < v.p.meetingsFrom {
		return 0, 0, false
	}
	return v.p.meetingsFrom, last, true
}

// evalMeeting is R16: a joint meeting, chaired by the lead office, is held
// for every quarter; a quarter that ends without one raises a warning.
func (v *View) evalMeeting(k wkey, detail bool) finding {
	from, to, ok := v.quartersJudged()
	q := quarter(k.idx)
	if !ok || q < from || q > to {
		return finding{}
	}
	for _, id := range v.plan.meetsOf[q.String()] {
		if m := v.plan.Meetings[id]; m != nil && m.Chair == v.rules.Lead {
			return finding{}
		}
	}
	f := finding{broken: true, since: q.next().start()}
	if detail {
		f.message = fmt.Sprintf("%s未召开易地扶贫搬迁后续扶持工作联席会议", q)
	}
	return f
}

// MeetingView is a joint meeting held.
type MeetingView struct {
	MeetingID string   `json:"meeting_id"`
	Quarter   string   `json:"quarter"`
	HeldOn    string   `json:"held_on"`
	ChairedBy string   `json:"chaired_by"`
	Attendees []string `json:"attendees"`
	Issues    int64    `json:"issues_discussed"`
	Decisions int64    `json:"decisions"`
	Minutes   string   `json:"minutes_no,omitempty"`
	// Assigned are the issues it assigned, as the board shows them.
	Assigned []TaskView `json:"issues_assigned"`
}

// Meetings returns the joint meetings held, by quarter and id, with the
// issues each assigned; and the quarters R16 found without one.
func (v *View) Meetings() (held []MeetingView, missed []string) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	held = []MeetingView{}
	for id, m := range v.plan.Meetings {
		mv := MeetingView{MeetingID: id, Quarter: m.Quarter, HeldOn: m.Held.String(), ChairedBy: m.Chair, Attendees: m.Attendees,
			Issues: m.Issues, Decisions: m.Decisions, Minutes: m.Minutes, Assigned: []TaskView{}}
		for _, tid := range m.Items {
			t := v.plan.Tasks[tid]
			for _, u := range v.plan.units(t) {
				if i, ok := v.plan.unitIdx[unitRef{Task: tid, Unit: u}]; ok {
					mv.Assigned = append(mv.Assigned, v.taskView(i))
				}
			}
		}
		held = append(held, mv)
	}
	sort.Slice(held, func(i, j int) bool {
		if held[i].Quarter != held[j].Quarter {
			return held[i].Quarter < held[j].Quarter
		}
		return held[i].MeetingID < held[j].MeetingID
	})
	missed = []string{}
	if from, to, ok := v.quartersJudged(); ok {
		for q := from; q <= to; q++ {
			if _, open := v.warnings[wkey{rule: 16, kind: entCity, idx: uint32(q)}]; open {
				missed = append(missed, q.String())
			}
		}
	}
	return held, missed
}
