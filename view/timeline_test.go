package view_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestTimeline: every entry about an entity, in log order — a household's
// with its members', a person's, a site's — also after a snapshot.
func TestTimeline(t *testing.T) {
	log, late := lateEnrolment(t)
	v := foldCut(t, log, zeroTime)
	// What each timeline should hold, from the log itself.
	want := map[[2]string][]uint64{}
	for _, e := range log {
		var f struct{ hh, person, site string }
		if e.Family == "hub.tick" || e.Family == "issue.report" {
			continue
		}
		f.hh, f.person, f.site = field(e.Data, "household_id"), field(e.Data, "person_key"), field(e.Data, "site_id")
		switch {
		case f.person != "":
			want[[2]string{"person", f.person}] = append(want[[2]string{"person", f.person}], e.Seq)
			want[[2]string{"household", f.hh}] = append(want[[2]string{"household", f.hh}], e.Seq)
		case f.hh != "":
			want[[2]string{"household", f.hh}] = append(want[[2]string{"household", f.hh}], e.Seq)
		case f.site != "":
			want[[2]string{"site", f.site}] = append(want[[2]string{"site", f.site}], e.Seq)
		}
	}
	if len(want) != 5 { // the site, the household, three persons
		t.Fatalf("%d entities in the log, want 5", len(want))
	}
	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	restored, err := view.Restore(schemas.MustLoad(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, vw := range map[string]*view.View{"folded": v, "restored": restored} {
		for k, seqs := range want {
			got, err := vw.Timeline(k[0], k[1])
			if err != nil || !slices.Equal(got, seqs) {
				t.Errorf("%s: timeline of %s %s = %v, %v; want %v", name, k[0], k[1], got, err, seqs)
			}
		}
	}
	hh, _ := v.Timeline(view.TimelineHousehold, "H610424-000001")
	if !slices.Contains(hh, log[late].Seq) {
		t.Errorf("the household's timeline %v lacks the late enrolment at %d", hh, log[late].Seq)
	}
	for _, c := range []struct {
		kind, id string
		err      error
	}{
		{"household", "H610424-999999", view.ErrNotFound},
		{"person", "nobody", view.ErrNotFound},
		{"site", "S610424-9999", view.ErrNotFound},
		{"task", "T-none", view.ErrNotFound},
		{"warning", "R6-0000000000000000", view.ErrNotFound},
		{"village", "x", view.ErrTimelineKind},
	} {
		if _, err := v.Timeline(c.kind, c.id); !errors.Is(err, c.err) {
			t.Errorf("Timeline(%s, %s): %v, want %v", c.kind, c.id, err, c.err)
		}
	}
}

var zeroTime time.Time

// field is a string member of a fact's data.
func field(data []byte, name string) string {
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	s, _ := m[name].(string)
	return s
}
