package view_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestSnapshotRoundTrip: a view restored from a snapshot equals the
// original, and folding the same tail into both keeps them equal
// (snapshot + tail == incremental).
func TestSnapshotRoundTrip(t *testing.T) {
	w := &world{t: t}
	es := village(w)
	es = append(es, w.tick(day("2021-06-01")))
	// Break R4 so that the snapshot holds an open warning and dirty state.
	es = append(es, w.entry("hrss", "hr.employment", day("2021-05-01"), map[string]any{
		"person_key": pk(0), "household_id": "H610424-000001", "status": "unemployed", "start_on": "2021-05-01"}))
	tail := []fact.Entry{
		w.tick(day("2021-06-02")),
		w.entry("hrss", "hr.employment", day("2021-06-10"), map[string]any{
			"person_key": pk(1), "household_id": "H610424-000001", "status": "employed", "kind": "local", "start_on": "2021-06-10"}),
		w.tick(day("2021-07-20")),
	}
	for i := range es {
		es[i].Seq = uint64(i + 1)
	}
	for i := range tail {
		tail[i].Seq = uint64(len(es) + i + 1)
	}
	for _, cut := range []int{0, 5, len(es) - 1, len(es)} {
		orig := newView(t)
		apply(orig, es[:cut]...)
		var buf bytes.Buffer
		if err := orig.WriteSnapshot(&buf); err != nil {
			t.Fatal(err)
		}
		restored, err := view.Restore(schemas.MustLoad(), bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if got, want := restored.Digest(), orig.Digest(); got != want {
			t.Fatalf("cut %d: restored digest %s, original %s", cut, got, want)
		}
		var again bytes.Buffer
		if err := restored.WriteSnapshot(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Fatalf("cut %d: a restored view snapshots differently", cut)
		}
		rest := append(append([]fact.Entry(nil), es[cut:]...), tail...)
		a := apply(orig, rest...)
		b := apply(restored, rest...)
		if len(a) != len(b) {
			t.Fatalf("cut %d: %d changes from the original, %d from the restored view", cut, len(a), len(b))
		}
		for i := range a {
			if a[i].Kind != b[i].Kind || a[i].Warning.ID != b[i].Warning.ID || !a[i].Warning.Due.Equal(b[i].Warning.Due) {
				t.Errorf("cut %d: change %d differs: %+v vs %+v", cut, i, a[i], b[i])
			}
		}
		if got, want := restored.Digest(), orig.Digest(); got != want {
			t.Fatalf("cut %d: after the tail, restored %s, original %s", cut, got, want)
		}
		var x, y bytes.Buffer
		_ = orig.WriteSnapshot(&x)
		_ = restored.WriteSnapshot(&y)
		if !bytes.Equal(x.Bytes(), y.Bytes()) {
			t.Errorf("cut %d: after the tail the full states differ (supervision included)", cut)
		}
	}
}

func TestSnapshotDamaged(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, village(w)...)
	apply(v, w.tick(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)))
	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	for _, cut := range []int{0, 5, len(b) / 2, len(b) - 3} {
		if _, err := view.Restore(schemas.MustLoad(), bytes.NewReader(b[:cut])); !errors.Is(err, view.ErrSnapshotFormat) {
			t.Errorf("truncated at %d: err = %v, want ErrSnapshotFormat", cut, err)
		}
	}
}
