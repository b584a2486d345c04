package view

import (
	"errors"
	"fmt"
	"time"
)

// A cut of the view answers an auditor's two questions about the past. The
// recorded cut — "what the hub knew then" — is a prefix of the log: the
// hub folds the log up to a sequence, exactly as the live view folded it
// (from a snapshot at or before the cut, then the tail). The effective cut —
// "what was true then, as we know it now" — folds the log leaving out every
// entry whose own time (the CloudEvent's time: when the fact took effect) is
// after a date, then sweeps the rules at that date. Both use Fold, the one
// fold the live view uses; only the choice of entries differs.

// ErrCutTime means an as_of or effective value is not a date or a time.
var ErrCutTime = errors.New("not a date (2021-10-01) or an RFC 3339 time (2021-10-01T08:00:00+08:00)")

// ParseCutTime reads an as_of or effective value: an RFC 3339 time is that
// instant; a date (2021-10-01) means the end of that day in China Standard
// Time, so that everything recorded or effective on the day is inside the
// cut.
func ParseCutTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, chinaTime)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, ErrCutTime)
	}
	return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
}

// KeepEffective keeps, in place, the entries inside the effective cut at
// until and returns them: every fact (the hub's clock and warnings
// included) whose own time is not after until, and every rejection (a
// department's refused message states nothing about the world, and has no
// effective time). The caller folds what it returns with Fold or ApplyLog.
func KeepEffective(es []LogEntry, until time.Time) []LogEntry {
	out := es[:0]
	for i := range es {
		if es[i].RejectedBy != "" || !es[i].Time.After(until) {
			out = append(out, es[i])
		}
	}
	return out
}

// SettleAt sweeps the rules at the time at, as a hub.tick at that time
// would, so that an effective cut's warnings reflect every fact it kept
// (a fact that arrived late lands after the last tick the cut keeps). The
// clock moves to at when at is after it, and stays otherwise. The hub
// calls it on effective cuts only: the live view's clock is the log's.
// It returns the warning changes, which nothing writes.
func (v *View) SettleAt(at time.Time) []Change {
	v.mu.Lock()
	defer v.mu.Unlock()
	at = at.UTC().Truncate(time.Second)
	v.version++
	if at.After(v.clock) {
		return v.tickAt(at)
	}
	var out []Change
	v.sweep(&out)
	v.escalate(&out)
	return out
}
