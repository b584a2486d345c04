package simulate

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// deskWorld is a small world's registers and some warnings on its
// households and persons, one per correctable rule and entity.
func deskWorld(t *testing.T) (*Sim, *registers, []view.Warning) {
	t.Helper()
	s, err := New(Config{Persons: 600, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegisters()
	for ev := range s.Events {
		reg.note(ev)
	}
	raised := time.Date(2021, 3, 2, 0, 0, 0, 0, cst)
	var ws []view.Warning
	n := 0
	add := func(rule, kind, entity, area, dept string, dueDays int) {
		n++
		ws = append(ws, view.Warning{RaisedAt: raised, ID: fmt.Sprintf("W-%s-%016x", rule, n), Rule: rule, EntityKind: kind,
			EntityID: entity, Area: area, Responsible: []string{dept}, Due: raised.AddDate(0, 0, dueDays), Level: "warning",
			Supervision: "open"})
	}
	hids := make([]string, 0, len(reg.households))
	for id := range reg.households {
		hids = append(hids, id)
	}
	slices.Sort(hids)
	for _, id := range hids[:40] {
		h := reg.households[id]
		add("R4", "household", id, h.county, "hrss", 30)
		add("R9", "household", id, h.county, "resources", 90)
		add("R10", "household", id, h.county, "police", 60)
		add("R11", "household", id, h.county, "resources", 180)
		for _, p := range h.members {
			add("R6", "person", p.key, h.county, "edu", 30)
			add("R7", "person", p.key, h.county, "medins", 30)
			add("R8", "person", p.key, h.county, "hrss", 60)
		}
	}
	add("R12", "site", "S610424-0001/water", "610424", "water", 90)
	add("R18", "department", "civil", "610400", "civil", 7)
	return s, reg, ws
}

// answersOf plans the answers to warnings read in the given order and
// returns them in the order they would go out.
func answersOf(s *Sim, reg *registers, ws []view.Warning) []Event {
	cal := newCalendar(s.cfg.From, s.end)
	d := newDesk(s, reg, cal)
	d.learn(ws)
	d.plan()
	var out []Event
	for i := range cal.ticks {
		out = append(out, d.due(i)...)
	}
	return out
}

// TestDeskAnswersValid: every report and correction the departments plan is
// a fact the hub accepts from its department, and the answers cover the
// ways a warning goes: acknowledged, acted on, rectified, put right, or
// left alone.
func TestDeskAnswersValid(t *testing.T) {
	s, reg, ws := deskWorld(t)
	v := fact.NewValidator(s.cat, 0)
	kinds := map[string]int{}
	answered := map[string]bool{}
	for _, ev := range answersOf(s, reg, ws) {
		body := s.Encode(nil, ev)
		vd := v.Check(fact.Message{Subject: ev.Subject, Header: map[string][]string{"Content-Type": {fact.ContentType}}, Data: body})
		if !vd.OK() {
			t.Fatalf("answer refused: %v\n%s", vd.Err(ev.Subject), body)
		}
		kind := ev.Fact.Family
		if kind == "issue.report" {
			var f struct {
				Kind      string `json:"kind"`
				WarningID string `json:"warning_id"`
			}
			if err := json.Unmarshal(ev.Fact.Data.(json.RawMessage), &f); err != nil {
				t.Fatal(err)
			}
			kind = f.Kind
			answered[f.WarningID] = true
		}
		kinds[kind]++
	}
	for _, k := range []string{"acknowledgement", "action", "rectified", "hr.employment", "edu.enrolment", "health.coverage",
		"hr.pension", "resources.deeds", "police.hukou", "resources.reclamation"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the answers %v", k, kinds)
		}
	}
	if answered[ws[len(ws)-1].ID] {
		t.Error("the silent department answered its freshness warning")
	}
	if silent := len(ws) - len(answered); silent < len(ws)/20 || silent > len(ws)/4 {
		t.Errorf("%d of %d warnings left unanswered, want about a tenth", silent, len(ws))
	}
}

// TestDeskDeterministic: the reports and corrections depend on the seed
// and the warnings, not on the order the departments read them in; the
// same seed answers the same, another seed otherwise.
func TestDeskDeterministic(t *testing.T) {
	s, reg, ws := deskWorld(t)
	a := answersOf(s, reg, ws)
	rev := slices.Clone(ws)
	slices.Reverse(rev)
	again, err := New(Config{Persons: 600, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Config{Persons: 600, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []Event
		same bool
	}{
		{"the same seed, warnings in another order", answersOf(s, reg, rev), true},
		{"the same seed again", answersOf(again, reg, ws), true},
		{"another seed", answersOf(other, reg, ws), false},
	} {
		if same := slices.EqualFunc(a, c.got, sameAnswer); same != c.same {
			t.Errorf("%s: %d answers, first %s; want same=%v as %d answers, first %s", c.name, len(c.got), firstID(c.got), c.same,
				len(a), firstID(a))
		}
	}
}

// sameAnswer compares two answers by what goes out: department, subject,
// fact id and when it is reported.
func sameAnswer(a, b Event) bool {
	return a.Dept == b.Dept && a.Subject == b.Subject && a.Fact.ID == b.Fact.ID && a.Reported.Equal(b.Reported)
}

func firstID(evs []Event) string {
	if len(evs) == 0 {
		return "none"
	}
	return evs[0].Fact.ID
}

// TestDeskDropsAnswersOfResolved: a warning resolved before its answers
// are due gets none of them.
func TestDeskDropsAnswersOfResolved(t *testing.T) {
	s, reg, ws := deskWorld(t)
	cal := newCalendar(s.cfg.From, s.end)
	d := newDesk(s, reg, cal)
	d.learn(ws)
	d.plan()
	d.learn(nil) // a week later, every one is resolved
	for i := range cal.ticks {
		if evs := d.due(i); len(evs) > 0 {
			t.Fatalf("slot %d: %d answers to resolved warnings", i, len(evs))
		}
	}
}

// TestDeskLearnsOnce: a warning still open at the next tick is not planned
// again, and one raised later is.
func TestDeskLearnsOnce(t *testing.T) {
	s, reg, ws := deskWorld(t)
	d := newDesk(s, reg, newCalendar(s.cfg.From, s.end))
	d.learn(ws[:10])
	d.plan()
	d.learn(ws[:11])
	if len(d.raised) != 1 || d.raised[0] != ws[10].ID {
		t.Fatalf("raised since the last plan: %v, want only %s", d.raised, ws[10].ID)
	}
	d.plan()
	d.learn(ws[5:11])
	if len(d.raised) != 0 || len(d.open) != 6 {
		t.Fatalf("after five resolved: %d raised, %d open; want 0 and 6", len(d.raised), len(d.open))
	}
}

// TestCalendar: a tick at the start, one a week, the last on the period's
// last evening; what takes effect goes out before the first tick at or
// after it.
func TestCalendar(t *testing.T) {
	from := time.Date(2019, 1, 1, 0, 0, 0, 0, cst)
	cal := newCalendar(from, time.Date(2026, 1, 1, 0, 0, 0, 0, cst))
	if n := len(cal.ticks); n != 367 {
		t.Errorf("%d ticks, want 367", n)
	}
	if last := cal.ticks[len(cal.ticks)-1]; !last.Equal(time.Date(2025, 12, 31, 20, 0, 0, 0, cst)) {
		t.Errorf("last tick %s", last)
	}
	for _, c := range []struct {
		t    time.Time
		slot int
	}{
		{from.AddDate(-2, 0, 0), 0}, {from, 0}, {from.Add(time.Second), 1}, {from.Add(week), 1},
		{from.Add(week + time.Second), 2}, {time.Date(2025, 12, 31, 22, 0, 0, 0, cst), 366}, {time.Date(2027, 1, 1, 0, 0, 0, 0, cst), 366},
	} {
		if got := cal.slot(c.t); got != c.slot {
			t.Errorf("slot(%s) = %d, want %d", c.t, got, c.slot)
		}
	}
	for i, at := range cal.ticks {
		if got := cal.slot(at); got != i {
			t.Errorf("what takes effect at tick %d goes out before tick %d", i, got)
		}
	}
}
