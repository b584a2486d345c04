package hub

import (
	"context"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/scenario"
)

// TestGuardReadsTheHubsTailFirst: while the hub stores entries, the guard
// must not take the log's state, read a moment earlier, for entries
// removed from its tail. It reads what the hub stored before the streams;
// here the hub stores an entry just as the guard asks.
func TestGuardReadsTheHubsTailFirst(t *testing.T) {
	h, nc, _ := startInternal(t, Config{TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	g := &guard{js: h.guard.js, expect: h.guard.expect, log: h.guard.log}
	g.confirmedLog = func() uint64 {
		// The hub stores another entry just as the guard asks.
		more := scenario.Employed(scenario.Person(0), scenario.VillageHousehold, "employed", scenario.Day("2021-05-01"))
		if err := scenario.Publish(ctx, nc, []scenario.Item{more}); err != nil {
			t.Fatal(err)
		}
		if err := h.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		return h.gate.confirmedLog.Load()
	}
	if problems := g.check(ctx); len(problems) > 0 {
		t.Errorf("a busy hub is told its log drifted: %v", problems)
	}
}
