package simulate_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers/simulate"
	"github.com/xianyang/anzhi/view"
)

// TestPublishHistory drives a hub through a small world's history week by
// week: the departments answer some warnings, put the facts behind others
// right and let others go past due, so the view's supervision history ends
// with warnings in every step, and some still open are escalated,
// acknowledged, acted on or reported rectified.
func TestPublishHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, nc, _ := hubtest.Start(t, hub.Config{Logger: quiet, TickEvery: -1})
	s := newSim(t, simulate.Config{Scale: simulate.ScaleXianyang, Persons: 400, Seed: 11})
	open := func(context.Context) ([]view.Warning, error) { return h.View().Warnings(view.WarningQuery{}), nil }
	sum, err := simulate.PublishHistory(ctx, nc, s, simulate.HistoryOptions{PublishOptions: simulate.PublishOptions{Logger: quiet},
		Tick: h.Tick, Warnings: open})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 || sum.Invalid != 0 || sum.Ticks < 300 || sum.Reports == 0 || sum.Corrections == 0 {
		t.Fatalf("history summary %+v", sum)
	}
	if clock := h.View().Stats().Clock; clock.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly) != "2025-12-31" {
		t.Errorf("the hub's clock ends at %s, want the period's last evening", clock)
	}
	months, err := h.View().History(h.Catalog().City.Code)
	if err != nil {
		t.Fatal(err)
	}
	var total view.HistoryMonth
	years := map[string]bool{}
	for _, m := range months {
		total.Raised += m.Raised
		total.Escalated += m.Escalated
		total.Acknowledged += m.Acknowledged
		total.Actions += m.Actions
		total.Rectified += m.Rectified
		total.Resolved += m.Resolved
		if m.Raised > 0 {
			years[m.Month[:4]] = true
		}
	}
	for step, n := range map[string]int64{"raised": total.Raised, "escalated": total.Escalated, "acknowledged": total.Acknowledged,
		"actions": total.Actions, "rectified": total.Rectified, "resolved": total.Resolved} {
		if n == 0 {
			t.Errorf("no warning %s over the period: %+v", step, total)
		}
	}
	// Many warnings resolve within days, as the facts behind them come in,
	// before anyone acknowledges them.
	if total.Resolved < total.Raised/3 || total.Acknowledged < total.Raised/4 {
		t.Errorf("of %d raised, %d acknowledged and %d resolved: want many answered and put right", total.Raised,
			total.Acknowledged, total.Resolved)
	}
	if len(years) < 5 {
		t.Errorf("warnings raised in %d years of the period, want them spread over it: %v", len(years), years)
	}
	var escalated, acknowledged, acted, rectified int
	for _, w := range h.View().Warnings(view.WarningQuery{}) {
		if w.Supervision == "escalated" {
			escalated++
		}
		if !w.Acknowledged.IsZero() {
			acknowledged++
		}
		if w.Actions > 0 {
			acted++
		}
		if w.Rectified {
			rectified++
		}
	}
	if escalated == 0 || acknowledged == 0 || acted == 0 || rectified == 0 {
		t.Errorf("open at the end: %d escalated, %d acknowledged, %d with actions, %d reported rectified; want some of each",
			escalated, acknowledged, acted, rectified)
	}
	t.Logf("%+v; history %+v; open: %d escalated, %d acknowledged, %d acted on, %d reported rectified", sum, total, escalated,
		acknowledged, acted, rectified)
}
