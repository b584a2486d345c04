package hub_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// noticesOf returns the notices stored for a unit, in order.
func noticesOf(t *testing.T, js jetstream.JetStream, dept string) []subscribers.NoticeEvent {
	t.Helper()
	var out []subscribers.NoticeEvent
	for _, m := range hubtest.Read(t, js, fact.NoticeStream, fact.NoticeSubject(dept)) {
		ev, err := subscribers.DecodeNotice(m.Data)
		if err != nil {
			t.Fatalf("notice %d on %s: %v", m.Seq, m.Subject, err)
		}
		out = append(out, ev)
	}
	return out
}

// noticesAbout are a unit's notices of one warning.
func noticesAbout(t *testing.T, js jetstream.JetStream, dept, warning string) []subscribers.NoticeEvent {
	t.Helper()
	var out []subscribers.NoticeEvent
	for _, n := range noticesOf(t, js, dept) {
		if n.Subject == warning {
			out = append(out, n)
		}
	}
	return out
}

func kindsOf(ns []subscribers.NoticeEvent) []subscribers.NoticeKind {
	var out []subscribers.NoticeKind
	for _, n := range ns {
		out = append(out, n.Data.Kind)
	}
	return out
}

// r4World is the village with R4 broken at t0+1h: a household with labour
// and nobody employed, hrss's to fix, in 乾县 (610424).
func r4World(t *testing.T, h *hub.Hub, nc *nats.Conn, t0 time.Time) view.Warning {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	var r4 scenario.RuleCase
	for _, c := range scenario.RuleCases(t0.Year()) {
		if c.Rule == "R4" {
			r4 = c
		}
	}
	base := append(append(scenario.Village(t0.Year()), scenario.Alive(registryDepts(), t0)...), r4.Setup...)
	if err := scenario.Publish(ctx, nc, base); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := scenario.Publish(ctx, nc, r4.Breaks); err != nil {
		t.Fatal(err)
	}
	tick(t, h, t0.Add(time.Hour))
	ws := h.View().Warnings(view.WarningQuery{Rule: "R4"})
	if len(ws) != 1 {
		t.Fatalf("R4 warnings: %+v", ws)
	}
	return ws[0]
}

// tick advances the hub's clock and waits for the notices it makes.
func tick(t *testing.T, h *hub.Hub, at time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := h.Tick(ctx, at); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitNotices(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestNoticesReachTheUnitsResponsible: a warning raised, escalated and
// coming due is announced on the notice subject of each responsible unit
// and of its county's government, each once, also across a restart; the
// notice carries the warning as the log records it, its due date and the
// dashboard path of its entity.
func TestNoticesReachTheUnitsResponsible(t *testing.T) {
	dir := t.TempDir()
	h, nc, js := ingestHub(t, dir, nil)
	t0 := scenario.RuleClock(2021)
	w := r4World(t, h, nc, t0)
	if err := h.WaitNotices(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The village's household breaks R23 as well (two adults, nobody
	// employed, no assistance): the tests look at R4's notices.
	hrss := noticesAbout(t, js, "hrss", w.ID)
	if len(hrss) != 1 {
		t.Fatalf("hrss has %d notices, want 1 (raised): %+v", len(hrss), kindsOf(hrss))
	}
	n := hrss[0]
	if got, want := n.ID, w.ID+".warning_raised.hrss"; got != want {
		t.Errorf("id %q, want %q", got, want)
	}
	if n.Type != fact.NoticeType || n.Source != fact.SourceFor("hub") || n.Subject != w.ID {
		t.Errorf("type %q source %q subject %q", n.Type, n.Source, n.Subject)
	}
	d := n.Data
	if d.Kind != subscribers.NoticeWarningRaised || d.Dept != "hrss" || d.Warning == nil {
		t.Fatalf("notice data %+v", d)
	}
	if got, want := d.DueOn, w.Due.Format(time.DateOnly); got != want {
		t.Errorf("due_on %s, want %s", got, want)
	}
	if got, want := d.Path, "/household/"+scenario.VillageHousehold; got != want {
		t.Errorf("path %s, want %s", got, want)
	}
	if got, want := d.Responsible, []string{"hrss", "county/610424"}; !slices.Equal(got, want) {
		t.Errorf("responsible %v, want %v", got, want)
	}
	if d.Warning.ID != w.ID || d.Warning.Rule != "R4" || d.Warning.EntityID != scenario.VillageHousehold || d.Warning.Clause == "" ||
		len(d.Warning.Evidence) == 0 || d.Warning.Evidence[0].Seq == 0 || d.LogSeq == 0 || d.Warning.Seq != d.LogSeq {
		t.Errorf("warning %+v", d.Warning)
	}
	if county := noticesAbout(t, js, "county/610424", w.ID); len(county) != 1 || county[0].Data.Dept != "county/610424" {
		t.Errorf("乾县's government has %+v, want the raised notice", kindsOf(county))
	}
	if edu := noticesOf(t, js, "edu"); len(edu) != 0 { // neither R4 nor R23 is edu's
		t.Errorf("edu has notices of a warning not its own: %+v", kindsOf(edu))
	}

	// Unacknowledged for 7 days, it escalates: drc is told too.
	tick(t, h, t0.AddDate(0, 0, 8))
	if got := kindsOf(noticesAbout(t, js, "hrss", w.ID)); !slices.Equal(got, []subscribers.NoticeKind{"warning_raised", "warning_escalated"}) {
		t.Errorf("hrss after the escalation: %v", got)
	}
	if got := kindsOf(noticesAbout(t, js, "drc", w.ID)); !slices.Equal(got, []subscribers.NoticeKind{"warning_escalated"}) {
		t.Errorf("drc after the escalation: %v", got)
	}

	// Due on raised+30 days: the clock passing due_on-7 days announces it
	// once, however many ticks follow, and not before.
	soon, _ := time.Parse(time.DateOnly, w.Due.Format(time.DateOnly))
	soon = soon.AddDate(0, 0, -7)
	tick(t, h, soon.Add(-time.Hour))
	if got := kindsOf(noticesAbout(t, js, "hrss", w.ID)); len(got) != 2 {
		t.Errorf("hrss an hour before due-7d: %v", got)
	}
	tick(t, h, soon)
	tick(t, h, soon.Add(time.Hour))
	want := []subscribers.NoticeKind{"warning_raised", "warning_escalated", "warning_due_soon"}
	for _, u := range []string{"hrss", "county/610424"} {
		if got := kindsOf(noticesAbout(t, js, u, w.ID)); !slices.Equal(got, want) {
			t.Errorf("%s after due-7d: %v, want %v", u, got, want)
		}
	}
	if got := kindsOf(noticesAbout(t, js, "drc", w.ID)); !slices.Equal(got, want[1:]) {
		t.Errorf("drc after due-7d: %v, want %v", got, want[1:])
	}

	// A restart folds the log again: nothing is announced twice.
	before := hubtest.Read(t, js, fact.NoticeStream, fact.NoticeSubjectPrefix+">")
	_ = h.Close()
	h, _, js = ingestHub(t, dir, nil)
	tick(t, h, soon.Add(2*time.Hour))
	after := hubtest.Read(t, js, fact.NoticeStream, fact.NoticeSubjectPrefix+">")
	if len(after) != len(before) {
		var ids []string
		for _, m := range after[len(before):] {
			ev, _ := subscribers.DecodeNotice(m.Data)
			ids = append(ids, ev.ID)
		}
		t.Errorf("after a restart %d notices, before %d: %s", len(after), len(before), strings.Join(ids, " "))
	}
}
