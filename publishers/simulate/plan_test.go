package simulate_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers/simulate"
	"github.com/xianyang/anzhi/schemas"
)

// TestMeetingIssues: most joint meetings assign one to three issues to
// their attendees, due 60-120 days later; each issue's owner reports on it
// as itself (a county government on its county), most done before the due
// date, some late or still open. Every such event passes the hub's checks.
func TestMeetingIssues(t *testing.T) {
	cat := schemas.MustLoad()
	v := fact.NewValidator(cat, 0)
	s := newSim(t, simulate.Config{Persons: 1200, Seed: 3})
	type issue struct {
		owner     string
		held, due string
		last      map[string]any // the latest progress
		reports   int
	}
	issues := map[string]*issue{}
	meetings, assigning := 0, 0
	for ev := range s.Events {
		if ev.Bad {
			continue
		}
		var d map[string]any
		switch {
		case ev.Fact.Family == "plan.meeting":
			_ = json.Unmarshal(ev.Fact.Data.(json.RawMessage), &d)
			meetings++
			items, _ := d["issues_assigned"].([]any)
			if len(items) > 0 {
				assigning++
			}
			if len(items) > 3 {
				t.Errorf("%s assigns %d issues, want 1-3", ev.Fact.Subject, len(items))
			}
			attendees := d["attendees"].([]any)
			held, _ := time.Parse(time.DateOnly, d["held_on"].(string))
			for _, x := range items {
				it := x.(map[string]any)
				id := fmt.Sprintf("%s-I%v", ev.Fact.Subject, it["item_no"])
				owner := it["owner"].(string)
				if !slices.Contains(attendees, any(owner)) || owner == d["chaired_by"] {
					t.Errorf("%s: owner %s is not an attendee other than the chair", id, owner)
				}
				due, _ := time.Parse(time.DateOnly, it["due_on"].(string))
				if days := due.Sub(held).Hours() / 24; days < 60 || days > 120 {
					t.Errorf("%s: due %.0f days after the meeting, want 60-120", id, days)
				}
				issues[id] = &issue{owner: owner, held: d["held_on"].(string), due: it["due_on"].(string)}
			}
		case ev.Fact.Family == "task.progress" && strings.HasPrefix(ev.Fact.Subject, "JM-"):
			_ = json.Unmarshal(ev.Fact.Data.(json.RawMessage), &d)
			is := issues[ev.Fact.Subject]
			if is == nil {
				t.Fatalf("progress on %s, which no meeting assigned before", ev.Fact.Subject)
			}
			wantCounty := cat.City.Code
			if code, ok := strings.CutPrefix(is.owner, "county/"); ok {
				wantCounty = code
			}
			if ev.Dept != is.owner || d["department"] != is.owner || ev.Fact.County != wantCounty {
				t.Errorf("%s owned by %s reported by %s as %v on county %s", ev.Fact.Subject, is.owner, ev.Dept, d["department"], ev.Fact.County)
			}
			if r := d["reported_on"].(string); r < is.held || ev.Fact.Time.Format(time.DateOnly) != r {
				t.Errorf("%s reported on %s (event time %s), meeting held on %s", ev.Fact.Subject, r, ev.Fact.Time, is.held)
			}
			if is.last != nil && is.last["status"] == "done" {
				t.Errorf("%s reported after it was done", ev.Fact.Subject)
			}
			is.last = d
			is.reports++
			body := s.Encode(nil, ev)
			if vd := v.Check(fact.Message{Subject: ev.Subject, Header: map[string][]string{"Content-Type": {fact.ContentType}}, Data: body}); !vd.OK() {
				t.Errorf("refused: %v\n%s", vd.Err(ev.Subject), body)
			}
		}
	}
	if assigning < meetings*6/10 {
		t.Errorf("%d of %d meetings assign issues, want most", assigning, meetings)
	}
	onTime, late, open, counties := 0, 0, 0, 0
	for id, is := range issues {
		if strings.HasPrefix(is.owner, "county/") {
			counties++
		}
		switch {
		case is.last == nil && is.held < "2025-11-25":
			t.Errorf("%s: no progress reported", id)
		case is.last == nil: // assigned at the period's last meeting
		case is.last["status"] == "done" && is.last["completed_on"].(string) <= is.due:
			onTime++
		case is.last["status"] == "done":
			late++
		default:
			open++
		}
	}
	if n := len(issues); onTime < n*6/10 || late == 0 || open == 0 || late+open > n*4/10 || counties == 0 {
		t.Errorf("%d issues (%d of county governments): %d done on time, %d late, %d open; want most on time, some late and some open",
			n, counties, onTime, late, open)
	}
}

// TestAssessments: each county government publishes its assessment scheme
// for each year of the period from 2020 on in the year's first quarter,
// weights summing to 1 and the follow-up work weighing 30-40%; the second
// county weighs it below 30% in the last year and the third publishes the
// middle year's late.
func TestAssessments(t *testing.T) {
	cat := schemas.MustLoad()
	v := fact.NewValidator(cat, 0)
	tests := []struct {
		from, to  time.Time
		years     []int
		low, late string // county/year
	}{
		{time.Time{}, time.Time{}, []int{2020, 2021, 2022, 2023, 2024, 2025}, "610403/2025", "610404/2022"},
		{time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), []int{2023, 2024}, "610403/2024", "610404/2023"},
	}
	for _, tt := range tests {
		s := newSim(t, simulate.Config{Persons: 600, Seed: 5, From: tt.from, To: tt.to})
		seen := map[string]bool{}
		var low, late []string
		for ev := range s.Events {
			if ev.Bad || ev.Fact.Family != "plan.assessment" {
				continue
			}
			var d struct {
				ID        string `json:"assessment_id"`
				Area      string `json:"area"`
				Year      int    `json:"year"`
				Published string `json:"published_on"`
				Items     []struct {
					Item     string  `json:"item"`
					Weight   float64 `json:"weight"`
					Followup bool    `json:"followup"`
				} `json:"items"`
			}
			if err := json.Unmarshal(ev.Fact.Data.(json.RawMessage), &d); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%s/%d", d.Area, d.Year)
			if seen[key] {
				t.Errorf("%s: two schemes", key)
			}
			seen[key] = true
			if ev.Dept != "county/"+d.Area || ev.Fact.County != d.Area || ev.Fact.Time.Format(time.DateOnly) != d.Published ||
				d.ID != "AS-"+key[:6]+"-"+key[7:] {
				t.Errorf("%s: %s published by %s on county %s at %s", key, d.ID, ev.Dept, ev.Fact.County, ev.Fact.Time)
			}
			if d.Published < fmt.Sprintf("%d-01-01", d.Year) || d.Published > fmt.Sprintf("%d-03-31", d.Year) {
				late = append(late, key)
			}
			sum, followup, n := 0.0, 0.0, 0
			for _, it := range d.Items {
				sum += it.Weight
				if it.Followup {
					followup += it.Weight
					n++
					if it.Item != "易地扶贫搬迁后续扶持" {
						t.Errorf("%s: follow-up item %q", key, it.Item)
					}
				}
			}
			if math.Abs(sum-1) > 1e-9 || n != 1 || followup > 0.40+1e-9 {
				t.Errorf("%s: weights sum to %v, %d follow-up items weighing %v", key, sum, n, followup)
			}
			if followup < 0.30-1e-9 {
				low = append(low, key)
			}
			body := s.Encode(nil, ev)
			if vd := v.Check(fact.Message{Subject: ev.Subject, Header: map[string][]string{"Content-Type": {fact.ContentType}}, Data: body}); !vd.OK() {
				t.Errorf("refused: %v\n%s", vd.Err(ev.Subject), body)
			}
		}
		for _, c := range s.Counties() {
			for _, y := range tt.years {
				if !seen[fmt.Sprintf("%s/%d", c, y)] {
					t.Errorf("county %s published no scheme for %d", c, y)
				}
			}
		}
		if got := len(seen); got != len(s.Counties())*len(tt.years) {
			t.Errorf("%d schemes, want %d counties × %v", got, len(s.Counties()), tt.years)
		}
		if !slices.Equal(low, []string{tt.low}) || !slices.Equal(late, []string{tt.late}) {
			t.Errorf("from %s: below 30%% %v, want [%s]; late %v, want [%s]", tt.from, low, tt.low, late, tt.late)
		}
	}
}
