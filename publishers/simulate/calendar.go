package simulate

import "time"

// week is the simulated time between two of the hub's clock ticks in a
// history.
const week = 7 * 24 * time.Hour

// calendar is when a history records the hub's clock: at the start of the
// period, a week after it, and every week until the last evening of the
// period. Slot i holds what is published before tick i.
type calendar struct {
	from  time.Time
	ticks []time.Time
}

// newCalendar lays out the ticks of the period [from, end).
func newCalendar(from, end time.Time) calendar {
	last := end.Add(-4 * time.Hour) // 20:00 China time on the last day
	c := calendar{from: from, ticks: []time.Time{from}}
	for t := from.Add(week); t.Before(last); t = t.Add(week) {
		c.ticks = append(c.ticks, t)
	}
	c.ticks = append(c.ticks, last)
	return c
}

// slot returns the tick before which what happens at t is published: the
// first tick at or after t, and the last tick for what happens after it.
func (c calendar) slot(t time.Time) int {
	d := t.Sub(c.from)
	if d <= 0 {
		return 0
	}
	return min(int((d+week-1)/week), len(c.ticks)-1)
}

// within reports whether t comes before the last tick.
func (c calendar) within(t time.Time) bool { return t.Before(c.ticks[len(c.ticks)-1]) }
