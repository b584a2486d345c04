package hub

import (
	"context"
	"fmt"
	"time"
)

// runClock records the hub's clock in the log: a hub.tick every TickEvery
// while facts arrive (each tick sweeps the rules over what changed), and at
// least hourly otherwise (time-driven rules: freshness, escalation).
func (h *Hub) runClock(ctx context.Context) {
	if h.cfg.TickEvery < 0 {
		return
	}
	t := time.NewTicker(h.cfg.TickEvery)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !h.view.Pending() && now.Sub(last) < time.Hour && !last.IsZero() && sameDay(now, last) {
				continue
			}
			if err := h.submitTick(now); err != nil {
				h.cfg.Logger.Error("clock tick", "err", err)
				continue
			}
			last = now
		}
	}
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

func (h *Hub) submitTick(at time.Time) error {
	msg, err := h.gate.tickMsg(at)
	if err != nil {
		return err
	}
	h.gate.submit.push(submission{msg: msg})
	return nil
}

// Tick waits until everything published so far is judged and folded,
// records the clock at the given time (truncated to the second), and waits
// until the view has folded it and written the warning changes it caused.
// It is how tests and tools drive time-dependent rules; a tick not after the
// view's clock changes nothing.
func (h *Hub) Tick(ctx context.Context, at time.Time) error {
	if err := h.WaitIdle(ctx); err != nil {
		return err
	}
	if err := h.submitTick(at); err != nil {
		return err
	}
	at = at.UTC().Truncate(time.Second)
	for h.view.Clock().Before(at) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("tick %s not folded: %w", at, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	return h.WaitIdle(ctx)
}
