package hub

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/view"
)

// TestMaterializerNotes checks which keys the materializer keeps waiting for
// what the view says a batch touched (view's TestFoldReportsWhatItTouched
// checks what it says).
func TestMaterializerNotes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		touched view.Touched
		want    string // city, counties, sites, households
	}{
		{"a household, its site and county",
			view.Touched{City: true, Counties: []string{"610424"}, Sites: []string{"S610424-0001"}, Households: []string{"H610424-000002"}},
			"city counties=610424 sites=S610424-0001 households=H610424-000002"},
		{"the clock: every county", view.Touched{City: true, AllCounties: true}, "city counties=610402,610424"},
		{"codes that are no county of the bucket", view.Touched{City: true, Counties: []string{"610400", "999999"}}, "city"},
		{"ids that cannot be keys", view.Touched{City: true, Counties: []string{"610424"}, Sites: []string{"S.."}, Households: []string{"H 1"}},
			"city counties=610424"},
		{"nothing", view.Touched{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &materializer{counties: map[string]bool{"610402": true, "610424": true}, pending: newDirtySet(),
				wake: make(chan struct{}, 1)}
			m.folded(100, &tt.touched)
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
