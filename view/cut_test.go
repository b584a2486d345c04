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

// lateEnrolment is a village whose child's September 2021 enrolment is
// reported in November: ticks in October find the child not enrolled (R6),
// the November tick after the late fact finds it enrolled. It returns the
// log and the index of the late fact in it.
func lateEnrolment(t *testing.T) ([]view.LogEntry, int) {
	w := &world{t: t}
	var es []fact.Entry
	for _, e := range village(w) {
		if e.Family != "edu.enrolment" {
			es = append(es, e)
		}
	}
	es = append(es, freshDepts(w, day("2021-09-20"))...)
	es = append(es, w.tick(day("2021-10-01")), w.tick(day("2021-10-20")))
	late := w.entry("edu", "edu.enrolment", day("2021-09-01"), map[string]any{
		"person_key": pk(2), "household_id": "H610424-000001", "action": "enrolled", "school_id": "SC610424-001",
		"level": "primary", "effective_on": "2021-09-01"})
	late.Recorded = day("2021-11-05")
	es = append(es, late, w.tick(day("2021-11-10")))
	out := make([]view.LogEntry, len(es))
	for i := range es {
		es[i].Seq = uint64(i + 1)
		out[i] = view.LogEntry{Entry: es[i]}
	}
	return out, len(es) - 2
}

// fold folds entries into a new view, leaving out those after the
// effective cut when it is set, and settles the rules there.
func foldCut(t *testing.T, es []view.LogEntry, effective time.Time) *view.View {
	t.Helper()
	v := newView(t)
	batch := append([]view.LogEntry(nil), es...)
	if !effective.IsZero() {
		batch = view.KeepEffective(batch, effective)
	}
	v.ApplyLog(batch)
	if len(es) > 0 {
		v.Advance(es[len(es)-1].Seq)
	}
	if !effective.IsZero() {
		v.SettleAt(effective)
	}
	return v
}

func childEnrolled(t *testing.T, v *view.View) (met bool, r6 bool) {
	t.Helper()
	hv, err := v.Household("H610424-000001")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range hv.Warnings {
		if w.Rule == "R6" {
			r6 = true
		}
	}
	return hv.Obligations["compulsory_edu"].Met, r6
}

func TestCutsOfALateFact(t *testing.T) {
	log, late := lateEnrolment(t)
	october, err := view.ParseCutTime("2021-10-31")
	if err != nil {
		t.Fatal(err)
	}
	// The recorded cut: the log's prefix recorded by the end of October.
	cut := 0
	for cut < len(log) && !log[cut].Recorded.After(october) {
		cut++
	}
	if cut != late {
		t.Fatalf("the October cut ends at entry %d, want %d (just before the late fact)", cut, late)
	}
	for _, c := range []struct {
		name       string
		entries    []view.LogEntry
		effective  string
		met, r6    bool
		clockAfter string
	}{
		{"live", log, "", true, false, "2021-11-10"},
		{"as of October", log[:cut], "", false, true, "2021-10-20"},
		{"effective September, once known", log, "2021-09-30", true, false, "2021-09-30"},
		{"effective August", log, "2021-08-31", false, true, "2021-08-31"},
		{"as of October about September", log[:cut], "2021-09-30", false, true, "2021-09-30"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var eff time.Time
			if c.effective != "" {
				if eff, err = view.ParseCutTime(c.effective); err != nil {
					t.Fatal(err)
				}
			}
			v := foldCut(t, c.entries, eff)
			met, r6 := childEnrolled(t, v)
			if met != c.met || r6 != c.r6 {
				t.Errorf("enrolled %v, R6 open %v; want %v, %v", met, r6, c.met, c.r6)
			}
			if got := v.Clock().In(view.ChinaTime()).Format(time.DateOnly); got != c.clockAfter {
				t.Errorf("clock %s, want %s", got, c.clockAfter)
			}
		})
	}
}

// TestCutFromSnapshotEqualsRebuild: a recorded cut folded from a snapshot
// at or before it, then the tail, has the digest of a rebuild of the log
// cut at the same point.
func TestCutFromSnapshotEqualsRebuild(t *testing.T) {
	log, late := lateEnrolment(t)
	cat := schemas.MustLoad()
	for _, at := range []int{0, 5, late - 1, late} {
		for _, cut := range []int{late, late + 1, len(log)} {
			if at > cut {
				continue
			}
			base := foldCut(t, log[:at], time.Time{})
			var buf bytes.Buffer
			if err := base.WriteSnapshot(&buf); err != nil {
				t.Fatal(err)
			}
			v, err := view.Restore(cat, &buf)
			if err != nil {
				t.Fatal(err)
			}
			v.ApplyLog(append([]view.LogEntry(nil), log[at:cut]...))
			rebuilt := foldCut(t, log[:cut], time.Time{})
			if got, want := v.Digest(), rebuilt.Digest(); got != want {
				t.Errorf("snapshot at %d + tail to %d: digest %s, rebuild %s", at, cut, got, want)
			}
		}
	}
}

func TestParseCutTime(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      bool
	}{
		{"2021-10-01", "2021-10-01T23:59:59.999999999+08:00", false},
		{"2021-10-01T08:00:00+08:00", "2021-10-01T08:00:00+08:00", false},
		{"2021-10-01T00:00:00.5Z", "2021-10-01T00:00:00.5Z", false},
		{"2021-13-01", "", true},
		{"yesterday", "", true},
		{"", "", true},
	} {
		got, err := view.ParseCutTime(c.in)
		if c.err {
			if !errors.Is(err, view.ErrCutTime) {
				t.Errorf("ParseCutTime(%q) = %v, %v; want ErrCutTime", c.in, got, err)
			}
			continue
		}
		want, _ := time.Parse(time.RFC3339Nano, c.want)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseCutTime(%q) = %v, %v; want %v", c.in, got, err, want)
		}
	}
}
