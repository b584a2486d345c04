package hub

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestWarningsSurviveClose: a tick folded just before Close raises warnings
// the gate has not written yet; the view checkpointed at Close shows them, so
// the checkpoint must carry them and the restarted hub write them.
func TestWarningsSurviveClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, NATSListen: "127.0.0.1:0", TickEvery: -1}
	h, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var depts []string
	for _, d := range schemas.MustLoad().Departments() {
		depts = append(depts, d.Code)
	}
	t0 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	nc, _ := nats.Connect(h.ClientURL())
	if err := scenario.Publish(ctx, nc, append(scenario.Village(2021), scenario.Alive(depts, t0)...)); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	t.Logf("after first tick: %d open warnings", len(h.view.Warnings(view.WarningQuery{})))
	at := t0.AddDate(0, 3, 0)
	if err := h.submitTick(at); err != nil {
		t.Fatal(err)
	}
	for h.view.Clock().Before(at) {
		time.Sleep(100 * time.Microsecond)
	}
	t.Logf("before close: %d open warnings, seq %d", len(h.view.Warnings(view.WarningQuery{})), h.view.Seq())
	h.Close() // an operator stops the hub right after a tick

	h, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	open := h.view.Warnings(view.WarningQuery{})
	nc, _ = nats.Connect(h.ClientURL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, _ := js.Stream(ctx, fact.LogStream)
	info, _ := s.Info(ctx)
	logged := map[string]bool{}
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || m.Subject[:len(fact.FactSubjectPrefix)+8] != fact.FactSubjectPrefix+"warning." {
			continue
		}
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(m.Data, &ev)
		logged[ev.ID] = true
	}
	if len(open) == 0 {
		t.Fatal("no open warnings after three silent months: the scenario did not break a rule")
	}
	missing := 0
	for _, w := range open {
		if !logged[w.ID+".raised"] {
			missing++
		}
	}
	t.Logf("after restart: %d open warnings in the view, %d warning events in the log", len(open), len(logged))
	if missing > 0 {
		t.Errorf("%d open warnings have no warning.raised event in the log, and never will", missing)
	}
}
