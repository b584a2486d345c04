package view_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// describeTouched renders what a fold touched, each list sorted.
func describeTouched(t view.Touched) string {
	var parts []string
	if t.City {
		parts = append(parts, "city")
	}
	if t.AllCounties {
		parts = append(parts, "all-counties")
	}
	list := func(name string, xs []string) {
		if len(xs) > 0 {
			xs = slices.Clone(xs)
			slices.Sort(xs)
			parts = append(parts, name+"="+strings.Join(xs, ","))
		}
	}
	list("counties", t.Counties)
	list("sites", t.Sites)
	list("households", t.Households)
	return strings.Join(parts, " ")
}

func logEntries(es ...fact.Entry) []view.LogEntry {
	out := make([]view.LogEntry, len(es))
	for i := range es {
		out[i] = view.LogEntry{Entry: es[i]}
	}
	return out
}

// TestFoldReportsWhatItTouched checks what the view says a folded batch
// changed: the keys the lead office's bucket must write again.
func TestFoldReportsWhatItTouched(t *testing.T) {
	const (
		hh1, hh2 = "H610424-000001", "H610424-000002"
		other    = "S610424-0002"
	)
	registerSites := func(w *world) []fact.Entry {
		var es []fact.Entry
		for _, id := range []string{siteID, other} {
			es = append(es, w.entry("drc", "registry.site", day("2019-01-10"), map[string]any{
				"site_id": id, "county": "610424", "site_name": "小区", "kind": "centralized", "setting": "urban",
				"planned_households": 1, "planned_persons": 3, "status": "occupied"}))
		}
		return es
	}
	household := func(w *world, id, site string, on string) fact.Entry {
		return w.entry("poverty", "registry.household", day(on), map[string]any{
			"household_id": id, "site_id": site, "size": 3, "labour_count": 2, "registered_poor": true, "relocated_on": "2019-05-01"})
	}
	member := func(w *world, i int, hh, on string) fact.Entry {
		return w.entry("poverty", "registry.person", day(on), map[string]any{
			"person_key": pk(i), "household_id": hh, "birth_year": 1980, "sex": "female", "labour_capacity": "full"})
	}
	for _, tt := range []struct {
		name   string
		before func(w *world) []fact.Entry // folded first, not asked about
		batch  func(w *world) []view.LogEntry
		want   string
	}{
		{"a person's fact touches the household it names", nil, func(w *world) []view.LogEntry {
			return logEntries(w.entry("medins", "health.coverage", day("2021-01-01"), map[string]any{
				"person_key": pk(0), "household_id": hh1, "year": 2021, "scheme": "basic_medical", "status": "enrolled"}))
		}, "city counties=610424 households=" + hh1},
		{"a household's fact touches its site", func(w *world) []fact.Entry {
			return append(registerSites(w), household(w, hh1, siteID, "2019-05-01"))
		}, func(w *world) []view.LogEntry {
			return logEntries(w.entry("resources", "resources.deeds", day("2019-10-01"), map[string]any{
				"household_id": hh1, "site_id": siteID, "status": "certificate_issued",
				"certificate_no": "陕(2019)乾县不动产权第0000001号", "registered_on": "2019-10-01"}))
		}, "city counties=610424 sites=" + siteID + " households=" + hh1},
		{"a person moving touches both households", func(w *world) []fact.Entry {
			return []fact.Entry{member(w, 0, hh1, "2019-05-01")}
		}, func(w *world) []view.LogEntry {
			return logEntries(member(w, 0, hh2, "2020-05-01"))
		}, "city counties=610424 households=" + hh1 + "," + hh2},
		{"a household moving touches both sites", func(w *world) []fact.Entry {
			return append(registerSites(w), household(w, hh1, siteID, "2019-05-01"))
		}, func(w *world) []view.LogEntry {
			return logEntries(household(w, hh1, other, "2020-05-01"))
		}, "city counties=610424 sites=" + siteID + "," + other + " households=" + hh1},
		{"a project in a county touches the county", nil, func(w *world) []view.LogEntry {
			return logEntries(w.entry("finance", "finance.funds", day("2020-01-01"), map[string]any{
				"project_id": "P610424-F1", "area": "610424", "fund_type": "central", "year": 2020,
				"allocated_yuan": 1000, "disbursed_yuan": 500, "purpose": "infrastructure"}))
		}, "city counties=610424"},
		{"a rejection touches nothing", nil, func(w *world) []view.LogEntry {
			return []view.LogEntry{{Entry: fact.Entry{Seq: 0}, RejectedBy: "edu"}}
		}, ""},
		{"the clock touches every county", nil, func(w *world) []view.LogEntry {
			return logEntries(w.tick(day("2021-06-01")))
		}, "city all-counties"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{t: t}
			v := newView(t)
			if tt.before != nil {
				apply(v, tt.before(w)...)
			}
			var got view.Touched
			v.Fold(tt.batch(w), &got)
			if s := describeTouched(got); s != tt.want {
				t.Errorf("touched %q, want %q", s, tt.want)
			}
		})
	}
}

// TestWarningTouchesItsHousehold: a person's warning, raised at a tick long
// after the person's facts, touches the person's household; the warning
// event folded later does too, and so does reading it again (Touches) after
// a restart.
func TestWarningTouchesItsHousehold(t *testing.T) {
	const hh = "H610424-000001"
	w := &world{t: t}
	v := newView(t)
	now := day("2021-06-01")
	apply(v, village(w)...)
	apply(v, freshDepts(w, now)...)
	apply(v, w.tick(now))
	// The child drops out of school: R3 (enrolment) breaks for the person
	// at the next tick.
	apply(v, w.entry("edu", "edu.enrolment", day("2021-06-02"), map[string]any{
		"person_key": pk(2), "household_id": hh, "action": "dropped_out", "school_id": "SC610424-001",
		"level": "primary", "effective_on": "2021-06-02"}))
	var touched view.Touched
	changes := v.Fold(logEntries(w.tick(day("2021-06-03"))), &touched)
	var raised *view.Warning
	for i := range changes {
		if c := changes[i]; c.Kind == view.Raised && c.Warning.EntityKind == "person" {
			raised = &changes[i].Warning
		}
	}
	if raised == nil {
		t.Fatalf("no person warning raised; changes %+v", changes)
	}
	if !slices.Contains(touched.Households, hh) {
		t.Errorf("the tick raising %s on a person touched %q, want its household %s", raised.Rule, describeTouched(touched), hh)
	}
	event := w.entry("hub", "warning.raised", day("2021-06-03"), map[string]any{
		"warning_id": raised.ID, "rule": raised.Rule, "entity_kind": "person", "entity_id": raised.EntityID,
		"area": raised.Area, "level": "warning"})
	touched = view.Touched{}
	v.Fold(logEntries(event), &touched)
	if !slices.Contains(touched.Households, hh) {
		t.Errorf("the warning event touched %q, want household %s", describeTouched(touched), hh)
	}
	touched = view.Touched{}
	v.Touches(logEntries(event), &touched)
	if got, want := describeTouched(touched), "city counties=610424 sites="+siteID+" households="+hh; got != want {
		t.Errorf("read again, the warning event touches %q, want %q", got, want)
	}
}
