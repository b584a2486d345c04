package view

import (
	"sort"
	"time"

	"github.com/xianyang/anzhi/fact"
)

// The supervision history (督办台账): how many warnings were raised,
// escalated to the lead office, acknowledged, answered with an action,
// reported rectified and resolved in each month, for the city and each
// county. It is folded from the log's own entries (warning.raised,
// warning.resolved and issue.report), so a trend chart reads it without
// scanning the log, and a rebuild or a snapshot gives the same numbers.

// Steps of a warning's history, in the order a warning goes through them.
const (
	hRaised = iota
	hEscalated
	hAcknowledged
	hAction
	hRectified
	hResolved
	nHistory
)

// HistoryMonth is one month of the supervision history of an area.
type HistoryMonth struct {
	Month        string `json:"month"` // 2021-06 (China Standard Time)
	Raised       int64  `json:"raised"`
	Escalated    int64  `json:"escalated"`
	Acknowledged int64  `json:"acknowledged"`
	Actions      int64  `json:"actions"`
	Rectified    int64  `json:"rectified"`
	Resolved     int64  `json:"resolved"`
}

// historyKey is an area and a month (months since January 2000).
type historyKey struct {
	area  string
	month uint16
}

func monthOf(t time.Time) uint16 {
	t = t.In(chinaTime)
	m := (t.Year()-2000)*12 + int(t.Month()) - 1
	return uint16(min(max(m, 0), 1<<16-1))
}

func monthName(m uint16) string {
	return time.Date(2000+int(m)/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// tallyHistory counts one step of a warning's history in its area and the
// city, in the month of t.
func (v *View) tallyHistory(area string, t time.Time, step int) {
	if t.IsZero() {
		return
	}
	m := monthOf(t)
	v.tallyMonth(historyKey{v.cat.City.Code, m}, step)
	if area != "" && area != v.cat.City.Code && v.cat.ValidArea(area) {
		v.tallyMonth(historyKey{area, m}, step)
	}
}

func (v *View) tallyMonth(k historyKey, step int) {
	c := v.history[k]
	if c == nil {
		c = new([nHistory]int64)
		v.history[k] = c
	}
	c[step]++
}

// reportSteps are the history steps of the kinds of issue.report that
// answer a warning.
var reportSteps = map[string]int{"acknowledgement": hAcknowledged, "action": hAction, "rectified": hRectified}

// historyOfWarningEvent counts a warning.raised (raised, or escalated when
// its level says so) or a warning.resolved.
func (v *View) historyOfWarningEvent(e *fact.Entry, f *fields) {
	step := hResolved
	if e.Family == "warning.raised" {
		step = hRaised
		if f.is("level", "escalated") {
			step = hEscalated
		}
	}
	v.tallyHistory(f.str("area"), e.Time, step)
}

// historyOfReport counts a department's answer to a warning, once per
// report: a report published again (an update) is not counted twice.
func (v *View) historyOfReport(e *fact.Entry, r *report, before *report) {
	if r.warning == "" || (before != nil && before.kind == r.kind) {
		return
	}
	s, ok := reportSteps[r.kind]
	if !ok {
		return
	}
	at := r.reported.Time()
	if r.reported == 0 {
		at = e.Time
	}
	v.tallyHistory(e.Area, at, s)
}

// History returns the supervision history of an area (a county code, or the
// city's), month by month in order; months with nothing are left out.
func (v *View) History(area string) ([]HistoryMonth, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if !v.cat.ValidArea(area) {
		return nil, ErrNotFound
	}
	out := []HistoryMonth{}
	for k, c := range v.history {
		if k.area != area {
			continue
		}
		out = append(out, HistoryMonth{Month: monthName(k.month), Raised: c[hRaised], Escalated: c[hEscalated],
			Acknowledged: c[hAcknowledged], Actions: c[hAction], Rectified: c[hRectified], Resolved: c[hResolved]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Month < out[j].Month })
	return out, nil
}
