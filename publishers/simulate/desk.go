package simulate

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/xianyang/anzhi/view"
)

// desk is where the simulated departments follow the warnings the hub
// raises against them (预警督办). They learn of each from the hub's view of
// the open warnings after a tick (what GET /api/v1/warnings shows), then,
// after days to weeks of simulated time, answer through issue.report —
// acknowledge it, report the action taken, report it rectified — and put
// right the facts behind many, so that the hub resolves them. Some they
// leave unanswered or let go past due, and those escalate to the lead
// office. Every decision comes from the simulation's seed and the
// warning's id, never from the order warnings are learned in.
type desk struct {
	s    *Sim
	reg  *registers
	cal  calendar
	open map[string]*view.Warning // open warnings by id, as last read
	// raised are the warnings first seen open since the last plan.
	raised []string
	// answers are the reports and corrections planned, by calendar slot.
	answers map[int][]answer
}

// answer is a report or correction a department will publish about a
// warning, unless the warning is resolved by then.
type answer struct {
	warning string
	ord     int // order among the warning's answers
	ev      Event
}

func newDesk(s *Sim, reg *registers, cal calendar) *desk {
	return &desk{s: s, reg: reg, cal: cal, open: map[string]*view.Warning{}, answers: map[int][]answer{}}
}

// learn takes in the warnings open after a tick: one not open before has
// been raised, and one open before and not now has been resolved.
func (d *desk) learn(open []view.Warning) {
	now := make(map[string]*view.Warning, len(open))
	for i := range open {
		w := &open[i]
		if d.open[w.ID] == nil && now[w.ID] == nil {
			d.raised = append(d.raised, w.ID)
		}
		now[w.ID] = w
	}
	d.open = now
}

// due returns the answers of a calendar slot whose warnings are still
// open, in time order.
func (d *desk) due(slot int) []Event {
	as := d.answers[slot]
	delete(d.answers, slot)
	slices.SortFunc(as, func(a, b answer) int {
		if c := a.ev.Reported.Compare(b.ev.Reported); c != 0 {
			return c
		}
		if c := strings.Compare(a.warning, b.warning); c != 0 {
			return c
		}
		return a.ord - b.ord
	})
	out := make([]Event, 0, len(as))
	for _, a := range as {
		if d.open[a.warning] != nil {
			out = append(out, a.ev)
		}
	}
	return out
}

// plan decides how the warnings raised since the last plan are answered.
func (d *desk) plan() {
	slices.Sort(d.raised)
	for _, id := range slices.Compact(d.raised) {
		if w := d.open[id]; w != nil {
			d.decide(w)
		}
	}
	d.raised = d.raised[:0]
}

// Shares of the ways warnings are answered.
const (
	shareSilent  = 0.10 // never answered: escalated when not acknowledged in time
	shareLateAck = 0.12 // acknowledged after the deadline: escalated first
	shareAction  = 0.75 // of acknowledged warnings, an action reported
	shareOnTime  = 0.60 // of correctable ones, put right before due
	shareLate    = 0.20 // … or after due (escalated, then resolved)
	shareClaim   = 0.30 // of those not put right, rectification reported anyway
)

// decide plans the answers to one warning.
func (d *desk) decide(w *view.Warning) {
	if len(w.Responsible) == 0 || w.Rule == "R18" {
		return // a department gone silent does not answer either
	}
	dept := w.Responsible[0]
	rng := d.rngFor(w.ID)
	raised := w.RaisedAt.In(cst)
	due := w.Due
	if due.Before(raised) {
		due = raised
	}
	days := func(t time.Time, n int) time.Time { return day(t, n) }
	var ack time.Time
	switch r := rng.Float64(); {
	case r < shareSilent:
		return
	case r < shareSilent+shareLateAck:
		ack = days(raised, 8+rng.IntN(23))
	default:
		ack = days(raised, 1+rng.IntN(5))
	}
	ord := 0
	add := func(ev Event) {
		if !d.cal.within(ev.Reported) {
			return
		}
		d.answers[d.cal.slot(ev.Reported)] = append(d.answers[d.cal.slot(ev.Reported)], answer{warning: w.ID, ord: ord, ev: ev})
		ord++
	}
	add(d.report(w, dept, "acknowledgement", ack, time.Time{}))
	span := max(1, int(due.Sub(ack).Hours()/24))
	var fixOn time.Time
	correct := corrections[w.Rule]
	switch r := rng.Float64(); {
	case correct == nil:
	case r < shareOnTime && ack.Before(due):
		fixOn = days(ack, 1+rng.IntN(span))
	case r < shareOnTime+shareLate:
		fixOn = days(later(due, ack), 7+rng.IntN(84))
	}
	if rng.Float64() < shareAction {
		actOn := days(ack, rng.IntN(max(1, span/2)))
		plannedBy := later(later(fixOn, due), actOn)
		add(d.report(w, dept, "action", actOn, plannedBy))
	}
	switch {
	case !fixOn.IsZero():
		var evs []Event
		if correct != nil {
			evs = correct(d.reg, w.EntityID, fixOn)
		}
		for _, ev := range evs {
			add(ev)
		}
		if len(evs) > 0 {
			add(d.report(w, dept, "rectified", fixOn, time.Time{}))
		}
	case rng.Float64() < shareClaim:
		add(d.report(w, dept, "rectified", days(ack, 1+rng.IntN(span+30)), time.Time{}))
	}
}

// rngFor is the generator of a warning's decisions.
func (d *desk) rngFor(warning string) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(warning))
	return d.s.rng(3, h.Sum64())
}

// reportNotes are the descriptions of the departments' reports by kind.
var reportNotes = map[string]string{
	"acknowledgement": "已签收预警, 正在逐一核实",
	"action":          "已制定整改措施, 明确责任人和完成时限",
	"rectified":       "已整改到位",
}

// reportCodes shorten a report's kind in its id.
var reportCodes = map[string]string{"acknowledgement": "QS", "action": "ZG", "rectified": "WC"}

// report is a department's issue.report on a warning.
func (d *desk) report(w *view.Warning, dept, kind string, on, plannedBy time.Time) Event {
	id := "YJ" + strings.TrimPrefix(w.ID, "W") + "-" + w.RaisedAt.In(cst).Format("20060102") + "-" + reportCodes[kind]
	area := w.Area
	if area == "" {
		area = d.s.cat.City.Code
	}
	o := newObj().str("report_id", id).str("department", dept).str("kind", kind).str("warning_id", w.ID).str("area", area).
		date("reported_on", on)
	if !plannedBy.IsZero() {
		o.date("due_on", plannedBy)
	}
	ev := newEvent(dept, "issue.report", area, id, on, o.str("description", reportNotes[kind]).done())
	ev.Reported = on.Add(10 * time.Hour) // in office hours
	return ev
}
