package view

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"time"
)

// wkey identifies what a warning is about: a rule and an entity.
type wkey struct {
	rule   string
	entity string
}

// Evidence is a fact a warning rests on.
type Evidence struct {
	Family  string    `json:"family"`
	Key     uint64    `json:"key"` // fact key (source and id); the hub maps it to the log
	Subject string    `json:"subject,omitempty"`
	Time    time.Time `json:"time"` // when the fact took effect
}

// Warning is an open early warning (预警) and its supervision (督办).
type Warning struct {
	ID          string     `json:"warning_id"`
	Rule        string     `json:"rule"`
	EntityKind  string     `json:"entity_kind"`
	EntityID    string     `json:"entity_id"`
	Area        string     `json:"area"`
	Since       time.Time  `json:"since"` // when the rule broke, as the facts tell
	RaisedAt    time.Time  `json:"raised_at"`
	Due         time.Time  `json:"due_on"`
	Responsible []string   `json:"responsible"`
	Evidence    []Evidence `json:"evidence"`
	Message     string     `json:"message"`
	// Level is warning, or escalated once past due or unacknowledged.
	Level string `json:"level"`
	// Supervision is open, acknowledged or escalated.
	Supervision  string    `json:"supervision"`
	Acknowledged time.Time `json:"acknowledged_on,omitzero"`
	Actions      int       `json:"actions"`
	Rectified    bool      `json:"rectification_reported"`
	// Seq is the log sequence of the warning.raised event once folded.
	Seq uint64 `json:"seq,omitempty"`

	key      wkey
	escIndex int // position in the escalation heap, -1 when not in it
}

// ChangeKind says what happened to a warning.
type ChangeKind string

// Kinds of warning changes.
const (
	Raised    ChangeKind = "raised"
	Escalated ChangeKind = "escalated"
	Resolved  ChangeKind = "resolved"
)

// Change is a warning change the hub publishes into the log.
type Change struct {
	Kind    ChangeKind
	Warning Warning // a copy at the time of the change
	At      time.Time
	// Evidence of a resolution: the facts that made the rule hold again.
	Evidence []Evidence
}

// finding is what a rule evaluation found for one entity.
type finding struct {
	broken      bool
	since       time.Time
	kind        string // entity kind
	entity      string
	area        string
	responsible []string
	evidence    []Evidence
	message     string
}

func warningID(rule, entity string, since time.Time) string {
	h := sha256.Sum256([]byte(rule + "\x00" + entity + "\x00" + since.UTC().Format(time.RFC3339)))
	return "W-" + rule + "-" + hex.EncodeToString(h[:8])
}

// judge raises, updates or resolves the warning of a rule for an entity.
func (v *View) judge(rule string, f finding, out *[]Change) {
	k := wkey{rule, f.entity}
	w := v.warnings[k]
	switch {
	case f.broken && w == nil:
		r, _ := v.rules.Rule(rule)
		w = &Warning{
			ID: warningID(rule, f.entity, f.since), Rule: rule, EntityKind: f.kind, EntityID: f.entity, Area: f.area,
			Since: f.since, RaisedAt: v.clock, Due: r.Due(v.clock), Responsible: f.responsible,
			Evidence: f.evidence, Message: f.message, Level: "warning", Supervision: "open", key: k, escIndex: -1,
		}
		v.warnings[k] = w
		v.warnByID[w.ID] = k
		// Reports may name a warning before this hub raised it (a replay
		// in another order): apply them in a fixed order.
		rs := v.reportsFor[w.ID]
		sort.Slice(rs, func(i, j int) bool { return rs[i].key < rs[j].key })
		for _, r := range rs {
			w.supervise(r)
		}
		v.areaOf(f.area).bumpWarn(rule, 1)
		heap.Push(&v.esc, w)
		*out = append(*out, Change{Kind: Raised, Warning: *w, At: v.clock})
	case f.broken && w != nil:
		// Still broken: keep the evidence current.
		w.Evidence, w.Message = f.evidence, f.message
	case !f.broken && w != nil:
		v.resolve(w, f.evidence, out)
	}
}

func (v *View) resolve(w *Warning, evidence []Evidence, out *[]Change) {
	delete(v.warnings, w.key)
	delete(v.warnByID, w.ID)
	v.areaOf(w.Area).bumpWarn(w.Rule, -1)
	if w.escIndex >= 0 {
		heap.Remove(&v.esc, w.escIndex)
	}
	*out = append(*out, Change{Kind: Resolved, Warning: *w, At: v.clock, Evidence: evidence})
}

// escalateAt is when a warning escalates: when its acknowledgement is late,
// or when it is past due.
func (v *View) escalateAt(w *Warning) time.Time {
	if w.Level == "escalated" {
		return time.Time{}
	}
	t := w.Due
	if w.Acknowledged.IsZero() {
		if ack := w.RaisedAt.AddDate(0, 0, v.p.ackDays); ack.Before(t) {
			t = ack
		}
	}
	return t
}

// escalate moves every warning whose time has come to the lead office.
func (v *View) escalate(out *[]Change) {
	for v.esc.Len() > 0 {
		w := v.esc.items[0]
		at := v.escalateAt(w)
		if at.IsZero() || at.After(v.clock) {
			if at.IsZero() {
				heap.Pop(&v.esc)
				continue
			}
			return
		}
		heap.Pop(&v.esc)
		w.Level, w.Supervision = "escalated", "escalated"
		if !containsString(w.Responsible, v.rules.EscalateTo) {
			w.Responsible = append(append([]string(nil), w.Responsible...), v.rules.EscalateTo)
		}
		*out = append(*out, Change{Kind: Escalated, Warning: *w, At: v.clock})
	}
}

// supervise applies a department's report on a warning; an acknowledgement
// moves its escalation later.
func (v *View) supervise(w *Warning, r *report) {
	w.supervise(r)
	if w.escIndex >= 0 {
		heap.Fix(&v.esc, w.escIndex)
	}
}

func (w *Warning) supervise(r *report) {
	switch r.kind {
	case "acknowledgement", "action":
		// The earliest acknowledgement counts, whatever order reports come in.
		if t := r.reported.Time(); r.reported != 0 && (w.Acknowledged.IsZero() || t.Before(w.Acknowledged)) {
			w.Acknowledged = t
		}
		if w.Supervision == "open" {
			w.Supervision = "acknowledged"
		}
		if r.kind == "action" {
			w.Actions++
		}
	case "rectified":
		w.Rectified = true
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// escHeap orders warnings by when they escalate.
type escHeap struct {
	items []*Warning
	v     *View
}

func (h *escHeap) Len() int { return len(h.items) }
func (h *escHeap) Less(i, j int) bool {
	a, b := h.v.escalateAt(h.items[i]), h.v.escalateAt(h.items[j])
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h.items[i].ID < h.items[j].ID
}
func (h *escHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].escIndex, h.items[j].escIndex = i, j
}
func (h *escHeap) Push(x any) {
	w := x.(*Warning)
	w.escIndex = len(h.items)
	h.items = append(h.items, w)
}
func (h *escHeap) Pop() any {
	n := len(h.items)
	w := h.items[n-1]
	h.items = h.items[:n-1]
	w.escIndex = -1
	return w
}
