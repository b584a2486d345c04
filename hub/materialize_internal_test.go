package hub

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// TestMaterializerNotes checks which keys a folded batch marks.
func TestMaterializerNotes(t *testing.T) {
	const person = "00000000000000000000000000000000000000000000000000000000000000a1"
	entry := func(family, area, data string) view.LogEntry {
		return view.LogEntry{Entry: fact.Entry{Family: family, Area: area, Data: []byte(data)}}
	}
	personWarning := view.Change{Kind: view.Raised, Warning: view.Warning{Rule: "R7", EntityKind: "person", EntityID: person, Area: "610424"}}
	for _, tt := range []struct {
		name    string
		before  [][]view.LogEntry // folded first, then the pending keys are cleared
		batch   []view.LogEntry
		changes []view.Change
		want    string // city, counties, sites, households
	}{
		{"person fact", nil,
			[]view.LogEntry{entry("health.coverage", "610424", `{"person_key":"`+person+`","household_id":"H610424-000001","year":2021}`)},
			nil, "city counties=610424 households=H610424-000001"},
		{"household fact naming its site", nil,
			[]view.LogEntry{entry("resources.deeds", "610424", `{"household_id":"H610424-000002","site_id":"S610424-0001"}`)},
			nil, "city counties=610424 sites=S610424-0001 households=H610424-000002"},
		{"project in a county", nil,
			[]view.LogEntry{entry("finance.funds", "610400", `{"project_id":"P610424-F1","area":"610424"}`)},
			nil, "city counties=610424"},
		{"rejection", nil, []view.LogEntry{{Entry: fact.Entry{Seq: 9}, RejectedBy: "edu"}}, nil, ""},
		{"tick", nil, []view.LogEntry{entry("hub.tick", "610400", `{"at":"2021-06-01T00:00:00Z"}`)}, nil,
			"city counties=610402,610424"},
		{"person warning at the tick after the person's fact",
			[][]view.LogEntry{{entry("hr.pension", "610424", `{"person_key":"`+person+`","household_id":"H610424-000003"}`)}},
			[]view.LogEntry{entry("hub.tick", "610400", `{"at":"2021-06-01T00:00:00Z"}`)},
			[]view.Change{personWarning}, "city counties=610402,610424 households=H610424-000003"},
		{"person warning event folded after the tick",
			[][]view.LogEntry{
				{entry("hr.pension", "610424", `{"person_key":"`+person+`","household_id":"H610424-000003"}`)},
				{entry("hub.tick", "610400", `{"at":"2021-06-01T00:00:00Z"}`)}},
			[]view.LogEntry{entry("warning.raised", "610424", `{"warning_id":"w1","rule":"R7","entity_kind":"person","entity_id":"`+person+`","area":"610424"}`)},
			nil, "city counties=610424 households=H610424-000003"},
		{"person forgotten two ticks later",
			[][]view.LogEntry{
				{entry("hr.pension", "610424", `{"person_key":"`+person+`","household_id":"H610424-000003"}`)},
				{entry("hub.tick", "610400", `{"at":"2021-06-01T00:00:00Z"}`)},
				{entry("hub.tick", "610400", `{"at":"2021-06-02T00:00:00Z"}`)}},
			nil, []view.Change{personWarning}, "city counties=610424"},
		{"site warning on an item", nil, nil,
			[]view.Change{{Kind: view.Raised, Warning: view.Warning{Rule: "R12", EntityKind: "site", EntityID: "S610424-0001/water", Area: "610424"}}},
			"city counties=610424 sites=S610424-0001"},
		{"household warning", nil, nil,
			[]view.Change{{Kind: view.Resolved, Warning: view.Warning{Rule: "R9", EntityKind: "household", EntityID: "H610424-000004", Area: "610424"}}},
			"city counties=610424 households=H610424-000004"},
		{"ids that cannot be keys", nil,
			[]view.LogEntry{entry("issue.report", "610424", `{"household_id":"H 1","site_id":"S.."}`)},
			nil, "city counties=610424"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &materializer{counties: map[string]bool{"610402": true, "610424": true}, pending: newDirtySet(),
				people: [2]map[string]string{{}, {}}, wake: make(chan struct{}, 1)}
			for i, b := range tt.before {
				m.folded(uint64(i+1), b, nil)
			}
			m.pending = newDirtySet()
			m.folded(100, tt.batch, tt.changes)
			if got := describe(&m.pending); got != tt.want {
				t.Errorf("marked %q, want %q", got, tt.want)
			}
			if got, want := m.seq, uint64(100); got != want {
				t.Errorf("seq %d, want %d", got, want)
			}
		})
	}
}

func describe(d *dirtySet) string {
	var parts []string
	if d.city {
		parts = append(parts, "city")
	}
	set := func(name string, m map[string]struct{}) {
		if len(m) > 0 {
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			parts = append(parts, name+"="+strings.Join(ks, ","))
		}
	}
	set("counties", d.counties)
	set("sites", d.sites)
	if len(d.hh) > 0 {
		parts = append(parts, "households="+strings.Join(d.hh, ","))
	}
	return strings.Join(parts, " ")
}

func TestMaterializerRequeue(t *testing.T) {
	m := &materializer{pending: newDirtySet()}
	m.pending.household("H610424-000003")
	m.requeue([]string{"H610424-000001", "H610424-000002", "H610424-000003"})
	if got, want := m.pending.hh, []string{"H610424-000001", "H610424-000002", "H610424-000003"}; !slices.Equal(got, want) {
		t.Errorf("queue %v, want %v (the older first, none twice)", got, want)
	}
}
