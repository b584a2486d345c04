package simulate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/view"
)

// HistoryOptions tune PublishHistory.
type HistoryOptions struct {
	PublishOptions
	// Tick records the hub's clock at a time once the hub has taken in
	// everything published so far, and returns when the rules are swept
	// and the warning changes written to the log (hub.Hub.Tick). Required.
	Tick func(ctx context.Context, at time.Time) error
	// Warnings returns the warnings open in the hub's view, as the
	// responsible departments read them after a tick (hub.Hub.View's
	// Warnings). Required.
	Warnings func(ctx context.Context) ([]view.Warning, error)
}

// HistorySummary counts what PublishHistory sent and how often the clock
// ticked.
type HistorySummary struct {
	PublishSummary
	Ticks int `json:"ticks"`
	// Reports are the departments' issue.report answers to warnings, and
	// Corrections the facts they published to put warnings right (both
	// counted in Events too).
	Reports     int `json:"reports"`
	Corrections int `json:"corrections"`
}

// PublishHistory publishes the simulation into a hub in time order and
// drives the hub's recorded clock along with it: the world's history before
// the period, a tick at its start, then week by week the facts that took
// effect in the week and a tick at its end, so that warnings are raised when
// their facts happen (the departments report within the week, so the clock
// never judges a week whose facts are still on their way). After each tick
// the departments read the open warnings (o.Warnings) and plan their answers
// to those raised against them (see desk): their reports and corrections go
// out in the weeks they fall in, unless the warning is resolved by then. The
// last tick is on the period's last evening. What is published, reported
// and corrected depends only on the seed and on what the hub judged.
//
// Every fact of the world is held in memory, bucketed by week, until its
// week comes: ≈600 MB for Xianyang's 50,000 persons.
func PublishHistory(ctx context.Context, nc *nats.Conn, s *Sim, o HistoryOptions) (HistorySummary, error) {
	var sum HistorySummary
	if s.cfg.Scale != ScaleXianyang {
		return sum, errNotXianyang(s)
	}
	if o.Tick == nil || o.Warnings == nil {
		return sum, errors.New("simulate: a history needs the hub's Tick and Warnings")
	}
	var err error
	cal := newCalendar(s.cfg.From, s.end)
	reg := newRegisters()
	ds := newDepartments(ctx, nc, s, o.PublishOptions)
	defer ds.close()
	started := time.Now()
	// The history before the period goes out as it is generated (the hub
	// judges it all at the first tick); the rest waits for its week.
	slots := make([][]Event, len(cal.ticks))
	for ev := range s.Events {
		reg.note(ev)
		if i := cal.slot(ev.Fact.Time); i > 0 {
			slots[i] = append(slots[i], ev)
		} else if err = ds.send(ev); err != nil {
			break
		}
	}
	desk := newDesk(s, reg, cal)
	var publishing, ticking, reading time.Duration
	for i, at := range cal.ticks {
		if err != nil {
			break
		}
		t0 := time.Now()
		evs := slots[i]
		slots[i] = nil
		slices.SortStableFunc(evs, func(a, b Event) int { return a.Fact.Time.Compare(b.Fact.Time) })
		for _, ev := range evs {
			if err = ds.send(ev); err != nil {
				break
			}
		}
		for _, ev := range desk.due(i) {
			if err != nil {
				break
			}
			if ev.Fact.Family == "issue.report" {
				sum.Reports++
			} else {
				sum.Corrections++
			}
			err = ds.send(ev)
		}
		if err == nil {
			err = ds.flush(ctx)
		}
		t1 := time.Now()
		publishing += t1.Sub(t0)
		if err == nil {
			err = o.Tick(ctx, at)
		}
		ticking += time.Since(t1)
		if err != nil {
			break
		}
		sum.Ticks++
		t2 := time.Now()
		var open []view.Warning
		if open, err = o.Warnings(ctx); err != nil {
			err = fmt.Errorf("simulate: warnings of %s: %w", at.In(cst).Format(time.DateOnly), err)
			break
		}
		desk.learn(open)
		desk.plan()
		reading += time.Since(t2)
		if at.Month() != at.Add(-week).Month() && at.Month()%3 == 1 || i == len(cal.ticks)-1 {
			ds.log.Info("simulated history", "on", at.In(cst).Format(time.DateOnly), "events", ds.sum.Events,
				"open_warnings", len(desk.open), "elapsed", time.Since(started).Round(time.Second),
				"publishing", publishing.Round(time.Second), "ticking", ticking.Round(time.Second), "reading_warnings", reading.Round(time.Second))
		}
	}
	sum.PublishSummary, err = ds.wait(err)
	return sum, err
}
