package view_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// ruleWorld folds scenario items into a view in log order, with the hub's
// clock ticking when told, and remembers every fact's key by family.
type ruleWorld struct {
	t    *testing.T
	cat  *schemas.Catalog
	v    *view.View
	seq  uint64
	keys map[uint64]string // fact key → family
}

func (w *ruleWorld) fold(items ...scenario.Item) {
	w.t.Helper()
	es, err := scenario.Entries(w.cat, items)
	if err != nil {
		w.t.Fatal(err)
	}
	for i := range es {
		w.seq++
		es[i].Seq = w.seq
		w.keys[es[i].Key()] = es[i].Family
		w.v.Apply(&es[i])
	}
}

func (w *ruleWorld) tick(at time.Time) []view.Change {
	w.seq++
	b, _ := json.Marshal(map[string]any{"clock": "clock", "at": at.Format(time.RFC3339), "period": "minute"})
	return w.v.Apply(&fact.Entry{Seq: w.seq, Family: "hub.tick", Area: "610400", Source: "/xianyang/hub",
		ID: "tick-" + at.Format(time.RFC3339), Time: at, Recorded: at, Data: b})
}

// TestRulesBreakAndHold makes each rule break and hold again on the
// village, folded straight into a view: the warning raised names the rule,
// the entity and the units responsible, is due after the rule's days, rests
// on evidence that are facts of the families expected, and resolves once the
// rule holds. (hub's TestRulesBreakAndHold runs one case through a server.)
func TestRulesBreakAndHold(t *testing.T) {
	const year = 2021
	cat := schemas.MustLoad()
	t0 := scenario.RuleClock(year)
	var depts []string
	for _, d := range cat.Departments() {
		depts = append(depts, d.Code)
	}
	tested := map[string]bool{"R18": true} // R18 needs time to pass: TestFreshnessBreaksAndHolds
	for _, c := range scenario.RuleCases(year) {
		tested[c.Rule] = true
		t.Run(c.Rule, func(t *testing.T) {
			t0 := t0
			if !c.Clock.IsZero() {
				t0 = c.Clock
			}
			v, err := view.New(cat)
			if err != nil {
				t.Fatal(err)
			}
			w := &ruleWorld{t: t, cat: cat, v: v, keys: map[uint64]string{}}
			w.fold(scenario.Village(year)...)
			w.fold(scenario.Alive(depts, t0)...)
			w.fold(c.Setup...)
			w.tick(t0)
			if ws := v.Warnings(view.WarningQuery{}); len(ws) != 0 {
				for _, x := range ws {
					t.Errorf("baseline: %s on %s: %s", x.Rule, x.EntityID, x.Message)
				}
				t.FailNow()
			}
			// Break the rule.
			w.fold(c.Breaks...)
			var raised *view.Change
			for _, ch := range w.tick(t0.Add(time.Hour)) {
				if ch.Kind == view.Raised && ch.Warning.Rule == c.Rule && ch.Warning.EntityID == c.Entity {
					raised = &ch
				}
			}
			if raised == nil {
				t.Fatalf("no %s warning raised on %s; open: %+v", c.Rule, c.Entity, v.Warnings(view.WarningQuery{}))
			}
			wr := raised.Warning
			rule, _ := cat.Rules().Rule(c.Rule)
			if !slices.Contains(wr.Responsible, c.Responsible) {
				t.Errorf("responsible %v, want %s", wr.Responsible, c.Responsible)
			}
			if got, want := wr.Due, t0.Add(time.Hour).AddDate(0, 0, rule.DueDays); !got.Equal(want) {
				t.Errorf("due %s, want %s", got, want)
			}
			if wr.Message == "" {
				t.Error("no message")
			}
			got := map[string]bool{}
			for _, e := range wr.Evidence {
				got[e.Family] = true
				// The evidence is a fact of that family folded into the view.
				if fam, ok := w.keys[e.Key]; !ok || fam != e.Family {
					t.Errorf("evidence %+v is not a folded %s fact (key is of %q)", e, e.Family, fam)
				}
			}
			for _, fam := range c.Evidence {
				if !got[fam] {
					t.Errorf("evidence %+v lacks %s", wr.Evidence, fam)
				}
			}
			// Make it hold again.
			w.fold(c.Holds...)
			resolved := false
			for _, ch := range w.tick(t0.Add(2 * time.Hour)) {
				if ch.Kind == view.Resolved && ch.Warning.ID == wr.ID {
					resolved = true
				}
			}
			if !resolved {
				t.Errorf("%s not resolved on %s after the fix", c.Rule, c.Entity)
			}
			for _, x := range v.Warnings(view.WarningQuery{Rule: c.Rule}) {
				if x.EntityID == c.Entity {
					t.Fatalf("%s still open on %s after the fix: %s", c.Rule, c.Entity, x.Message)
				}
			}
		})
	}
	// Every evaluated rule has its case.
	for _, s := range view.RuleStates(cat) {
		if s.State == view.RuleEvaluated && !tested[s.ID] {
			t.Errorf("%s is evaluated but has no break-and-hold case in scenario.RuleCases", s.ID)
		}
	}
}

// TestPrimaryGraduateBetweenStages: a child who graduated from primary
// school in June is on holiday, not out of school, until the school year
// starts on 1 September; still not enrolled then, R6 breaks.
func TestPrimaryGraduateBetweenStages(t *testing.T) {
	const year = 2021
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	var depts []string
	for _, d := range cat.Departments() {
		depts = append(depts, d.Code)
	}
	w := &ruleWorld{t: t, cat: cat, v: v, keys: map[uint64]string{}}
	w.fold(scenario.Village(year)...)
	w.fold(scenario.Alive(depts, scenario.RuleClock(year))...)
	child := scenario.Person(2)
	w.fold(scenario.Enrolment(child, scenario.VillageHousehold, "graduated", scenario.Day("2021-06-30")))
	r6 := func(at string) []view.Warning {
		w.tick(scenario.Day(at))
		return v.Warnings(view.WarningQuery{Rule: "R6"})
	}
	if ws := r6("2021-07-15"); len(ws) != 0 {
		t.Fatalf("R6 in the summer after primary school: %+v", ws)
	}
	if ws := r6("2021-08-31"); len(ws) != 0 {
		t.Fatalf("R6 on the last day of the summer: %+v", ws)
	}
	if ws := r6("2021-09-02"); len(ws) != 1 || ws[0].EntityID != child {
		t.Fatalf("R6 once the school year started = %+v, want the child's", ws)
	}
}
