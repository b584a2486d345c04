package hub_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// hubEvent is a warning event of the log, decoded.
type hubEvent struct {
	seq  uint64
	typ  string
	data struct {
		WarningID   string   `json:"warning_id"`
		Rule        string   `json:"rule"`
		EntityKind  string   `json:"entity_kind"`
		EntityID    string   `json:"entity_id"`
		Area        string   `json:"area"`
		Clause      string   `json:"clause"`
		Responsible []string `json:"responsible"`
		DueOn       string   `json:"due_on"`
		Level       string   `json:"level"`
		Evidence    []struct {
			Type   string `json:"type"`
			Source string `json:"source"`
			Seq    uint64 `json:"seq"`
		} `json:"evidence"`
	}
}

func warningEvents(t *testing.T, js jetstream.JetStream) []hubEvent {
	t.Helper()
	var out []hubEvent
	for _, m := range logged(t, js, fact.FactSubjectPrefix+"warning.>") {
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		he := hubEvent{seq: m.Seq, typ: ev.Type}
		if err := json.Unmarshal(ev.Data, &he.data); err != nil {
			t.Fatal(err)
		}
		out = append(out, he)
	}
	return out
}

func without(items []scenario.Item, family string) (rest, removed []scenario.Item) {
	for _, it := range items {
		if it.Fact.Family == family {
			removed = append(removed, it)
		} else {
			rest = append(rest, it)
		}
	}
	return rest, removed
}

// TestRulesBreakAndHold is the hub's smoke test of the rules: R12 (whose
// responsible unit is decided per infrastructure item) and the plan's rules
// (R15, R16, R19: broken by the recorded clock passing a deadline, or by a
// scheme) break and hold again through real events published to an
// embedded server, and
// the warning events in the log carry the rule, entity, the clause quoted
// from the guidance, evidence that points at real facts, responsible units
// and due date. Every rule's break-and-hold case runs without a server in
// view's TestRulesBreakAndHold.
func TestRulesBreakAndHold(t *testing.T) {
	const year = 2021
	village := scenario.Village(year)
	var cases []scenario.RuleCase
	for _, c := range scenario.RuleCases(year) {
		if slices.Contains([]string{"R12", "R15", "R16", "R19"}, c.Rule) {
			cases = append(cases, c)
		}
	}
	if len(cases) < 4 {
		t.Fatalf("scenario has %d cases of R12, R15, R16 and R19", len(cases))
	}
	depts := registryDepts()
	guidance := schemas.Guidance()
	for _, c := range cases {
		t.Run(c.Rule, func(t *testing.T) {
			t0 := scenario.RuleClock(year)
			if !c.Clock.IsZero() {
				t0 = c.Clock
			}
			h, nc, js := ingestHub(t, t.TempDir(), nil)
			ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
			defer cancel()
			base := append(append(append([]scenario.Item(nil), village...), scenario.Alive(depts, t0)...), c.Setup...)
			if err := scenario.Publish(ctx, nc, base); err != nil {
				t.Fatal(err)
			}
			if err := h.Tick(ctx, t0); err != nil {
				t.Fatal(err)
			}
			if ws := h.View().Warnings(view.WarningQuery{}); len(ws) != 0 {
				for _, w := range ws {
					t.Errorf("baseline: %s on %s: %s", w.Rule, w.EntityID, w.Message)
				}
				t.FailNow()
			}
			// Break the rule.
			if err := scenario.Publish(ctx, nc, c.Breaks); err != nil {
				t.Fatal(err)
			}
			if err := h.Tick(ctx, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			ws := h.View().Warnings(view.WarningQuery{Rule: c.Rule})
			var w *view.Warning
			for i := range ws {
				if ws[i].EntityID == c.Entity {
					w = &ws[i]
				}
			}
			if w == nil {
				t.Fatalf("no %s warning on %s; open: %+v", c.Rule, c.Entity, h.View().Warnings(view.WarningQuery{}))
			}
			events := warningEvents(t, js)
			var raised *hubEvent
			for i := range events {
				if events[i].data.WarningID == w.ID && events[i].typ == "anzhi.warning.raised.v1" {
					raised = &events[i]
				}
			}
			if raised == nil {
				t.Fatalf("no warning.raised event for %s in the log", w.ID)
			}
			rule, _ := schemas.MustLoad().Rules().Rule(c.Rule)
			if raised.data.Clause != rule.Clause {
				t.Errorf("clause %q is not the rule's clause %q", raised.data.Clause, rule.Clause)
			}
			for _, part := range strings.FieldsFunc(strings.ReplaceAll(raised.data.Clause, "……", ";"), func(r rune) bool { return r == ';' }) {
				if !strings.Contains(guidance, strings.TrimSuffix(part, "。")) {
					t.Errorf("clause part %q is not in the guidance", part)
				}
			}
			if !slices.Contains(raised.data.Responsible, c.Responsible) {
				t.Errorf("responsible %v, want %s", raised.data.Responsible, c.Responsible)
			}
			if got, want := raised.data.DueOn, t0.Add(time.Hour).AddDate(0, 0, rule.DueDays).Format(time.DateOnly); got != want {
				t.Errorf("due on %s, want %s", got, want)
			}
			got := map[string]bool{}
			for _, e := range raised.data.Evidence {
				got[e.Type] = true
				// The evidence points at a real fact of that type in the log.
				s, _ := js.Stream(ctx, fact.LogStream)
				m, err := s.GetMsg(ctx, e.Seq)
				if err != nil {
					t.Errorf("evidence seq %d: %v", e.Seq, err)
					continue
				}
				fam := strings.TrimSuffix(strings.TrimPrefix(e.Type, "anzhi."), ".v1")
				if !strings.HasPrefix(m.Subject, fact.FactSubjectPrefix+fam+".") {
					t.Errorf("evidence seq %d is %s, not a %s fact", e.Seq, m.Subject, fam)
				}
			}
			for _, fam := range c.Evidence {
				if !got["anzhi."+fam+".v1"] {
					t.Errorf("evidence %v lacks %s", raised.data.Evidence, fam)
				}
			}
			// Make it hold again.
			if err := scenario.Publish(ctx, nc, c.Holds); err != nil {
				t.Fatal(err)
			}
			if err := h.Tick(ctx, t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for _, x := range h.View().Warnings(view.WarningQuery{Rule: c.Rule}) {
				if x.EntityID == c.Entity {
					t.Fatalf("%s still open on %s after the fix: %s", c.Rule, c.Entity, x.Message)
				}
			}
			resolved := false
			for _, e := range warningEvents(t, js) {
				if e.data.WarningID == w.ID && e.typ == "anzhi.warning.resolved.v1" {
					resolved = true
				}
			}
			if !resolved {
				t.Errorf("no warning.resolved event for %s", w.ID)
			}
		})
	}
}

func registryDepts() []string {
	var out []string
	for _, d := range schemas.MustLoad().Departments() {
		out = append(out, d.Code)
	}
	return out
}

// TestFreshness is R18: a department silent for more than 30 days (on the
// recorded clock) is warned, and the warning resolves when it publishes.
func TestFreshness(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	t0 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := scenario.Publish(ctx, nc, scenario.Alive(registryDepts(), t0)); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if n := len(h.View().Warnings(view.WarningQuery{Rule: "R18"})); n != 0 {
		t.Fatalf("%d R18 warnings at start", n)
	}
	later := t0.AddDate(0, 0, 31)
	if err := h.Tick(ctx, later); err != nil {
		t.Fatal(err)
	}
	ws := h.View().Warnings(view.WarningQuery{Rule: "R18", Dept: "justice"})
	if len(ws) != 1 || ws[0].EntityID != "justice" {
		t.Fatalf("R18 on justice: %+v", ws)
	}
	if err := scenario.Publish(ctx, nc, scenario.Alive([]string{"justice"}, later)); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ws := h.View().Warnings(view.WarningQuery{Rule: "R18", Dept: "justice"}); len(ws) != 0 {
		t.Fatalf("justice still warned after publishing: %+v", ws)
	}
	if n := len(h.View().Warnings(view.WarningQuery{Rule: "R18"})); n != len(registryDepts())-1 {
		t.Errorf("%d R18 warnings open, want %d (every other department is still silent)", n, len(registryDepts())-1)
	}
	_ = js
}

func publisherFact(family string, t time.Time, data map[string]any) publishers.Fact {
	return publishers.Fact{Family: family, Time: t, Data: data}
}

// TestSupervision: a warning acknowledged by its department escalates to the
// lead office only once past due; one nobody acknowledges escalates after
// the acknowledgement window. Escalations are written to the log.
func TestSupervision(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	t0 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	hh := scenario.VillageHousehold
	base := append(scenario.Village(2021), scenario.Alive(registryDepts(), t0)...)
	if err := scenario.Publish(ctx, nc, base); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	// R4 (hrss) and R9 (resources) break at t1.
	noDeed, _ := without(scenario.Household("H610424-000009", scenario.VillageSite, 2021,
		[]scenario.Member{{Key: scenario.Person(900), Born: 1985, Labour: "full"}}), "resources.deeds")
	breaks := append([]scenario.Item{scenario.Employed(scenario.Person(0), hh, "unemployed", scenario.Day("2021-05-01"))}, noDeed...)
	if err := scenario.Publish(ctx, nc, breaks); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Hour)
	if err := h.Tick(ctx, t1); err != nil {
		t.Fatal(err)
	}
	find := func(rule, entity string) view.Warning {
		t.Helper()
		for _, w := range h.View().Warnings(view.WarningQuery{Rule: rule}) {
			if w.EntityID == entity {
				return w
			}
		}
		t.Fatalf("no %s warning on %s", rule, entity)
		return view.Warning{}
	}
	r4 := find("R4", hh)
	// hrss acknowledges R4 two days later and reports an action.
	ack := func(kind, id string, on time.Time) scenario.Item {
		return scenario.Item{Dept: "hrss", Fact: publisherFact("issue.report", on, map[string]any{
			"report_id": "ack-" + kind + "-" + id[len(id)-6:], "department": "hrss", "kind": kind, "warning_id": id, "area": "610424",
			"reported_on": on.Format(time.DateOnly), "description": "已签收, 安排公益岗位"})}
	}
	if err := scenario.Publish(ctx, nc, []scenario.Item{ack("acknowledgement", r4.ID, t1.AddDate(0, 0, 2)), ack("action", r4.ID, t1.AddDate(0, 0, 3))}); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t1.AddDate(0, 0, 8)); err != nil {
		t.Fatal(err)
	}
	r4 = find("R4", hh)
	if r4.Supervision != "acknowledged" || r4.Level != "warning" || r4.Actions != 1 || !r4.Acknowledged.Equal(scenario.Day("2021-06-03")) {
		t.Errorf("acknowledged R4 after 8 days: %s/%s actions %d acknowledged %v", r4.Level, r4.Supervision, r4.Actions, r4.Acknowledged)
	}
	r9 := find("R9", "H610424-000009")
	if r9.Level != "escalated" || !slices.Contains(r9.Responsible, "drc") {
		t.Errorf("unacknowledged R9 after 8 days: level %s, responsible %v; want escalated to drc", r9.Level, r9.Responsible)
	}
	// Past due (30 days), the acknowledged R4 escalates too.
	if err := h.Tick(ctx, t1.AddDate(0, 0, 31)); err != nil {
		t.Fatal(err)
	}
	r4 = find("R4", hh)
	if r4.Level != "escalated" || r4.Supervision != "escalated" {
		t.Errorf("R4 past due: %s/%s, want escalated", r4.Level, r4.Supervision)
	}
	escalated := map[string]bool{}
	for _, e := range warningEvents(t, js) {
		if e.data.Level == "escalated" {
			escalated[e.data.WarningID] = true
			if !slices.Contains(e.data.Responsible, "drc") {
				t.Errorf("escalation of %s does not go to the lead office: %v", e.data.WarningID, e.data.Responsible)
			}
		}
	}
	if !escalated[r4.ID] || !escalated[r9.ID] {
		t.Errorf("escalation events in the log: %v, want %s and %s", escalated, r4.ID, r9.ID)
	}
}
