package view

import (
	"container/heap"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Entity kinds a warning can be about.
const (
	entPerson uint8 = iota + 1
	entHousehold
	entSite
	entProject
	entDept
	entTask    // a unit's share of a task (idx: plan.Units)
	entCity    // the city in a quarter (idx: the quarter's ordinal)
	entCounty  // a county in a year (idx: countyYear)
	entFinding // an audit or inspection finding (idx: findings.List)
	nEntityKinds
)

var entityKinds = [nEntityKinds]string{"", "person", "household", "site", "project", "department", "task", "city", "county", "finding"}

// Parts of a site a warning can be about (sub of a site wkey).
const (
	subSite    uint8 = 0
	subInfra   uint8 = 1 // 1…8: infraItems[sub-1]
	subClinic  uint8 = 9
	subSchool  uint8 = 10
	subSelfGov uint8 = 11
	subParty   uint8 = 12
	nSiteParts       = 13
)

var siteParts = [nSiteParts]string{"", "water", "power", "road", "gas", "heating", "sewage", "telecom", "sanitation",
	"clinic", "school", "self_governance", "party"}

// wkey identifies what a warning is about: a rule and an entity (kind, part
// of a site, and the entity's index in the view).
type wkey struct {
	rule RuleID
	kind uint8
	sub  uint8
	idx  uint32
}

// warning is an open warning as the view keeps it: ≈56 bytes, since a
// department that stops publishing can leave hundreds of thousands open.
// Everything else (entity id, evidence, message, responsible units) is
// derived from the entity when the warning is read.
type warning struct {
	id      uint64 // the warning id's 8 bytes
	seq     uint64 // log sequence of its warning.raised event, once folded
	key     wkey
	since   etime
	raised  etime
	acked   day
	actions uint16
	level   uint8 // 0 warning, 1 escalated
	sup     uint8 // 0 open, 1 acknowledged, 2 escalated
	rect    bool
	esc     int32 // position in the escalation heap, -1 when not in it
}

var levelNames = [...]string{"warning", "escalated"}
var supervisionNames = [...]string{"open", "acknowledged", "escalated"}

// Evidence is a fact a warning rests on.
type Evidence struct {
	Family  string    `json:"family"`
	Key     uint64    `json:"key"` // fact key (source and id); the hub maps it to the log
	Subject string    `json:"subject,omitempty"`
	Time    time.Time `json:"time"` // when the fact took effect
	// EffectiveOn is the date of Time in China Standard Time, as read.
	EffectiveOn string `json:"effective_on,omitempty"`
}

// Warning is an early warning (预警) and its supervision (督办), as read.
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
	Warning Warning // as it stood at the change
	At      time.Time
	// Evidence of a resolution: the facts that made the rule hold again.
	Evidence []Evidence
}

// finding is what a rule evaluation found for one entity.
type finding struct {
	broken   bool
	since    time.Time
	evidence []Evidence
	message  string
}

func warningHash(rule RuleID, entity string, since time.Time) uint64 {
	h := sha256.Sum256([]byte(rule.String() + "\x00" + entity + "\x00" + since.UTC().Format(time.RFC3339)))
	return binary.BigEndian.Uint64(h[:8])
}

func warningID(rule RuleID, id uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	return "W-" + rule.String() + "-" + hex.EncodeToString(b[:])
}

// parseWarningID returns the hash part of a warning id.
func parseWarningID(s string) (uint64, bool) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 || len(s)-i-1 != 16 {
		return 0, false
	}
	b, err := hex.DecodeString(s[i+1:])
	if err != nil {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// entityID names a warning's entity as the contract does.
func (v *View) entityID(k wkey) string {
	switch k.kind {
	case entPerson:
		return hex.EncodeToString(v.personKeys.at(k.idx)[:])
	case entHousehold:
		return householdID(v.households.at(k.idx).key)
	case entSite:
		id := v.sites[k.idx].id
		if k.sub != subSite {
			id += "/" + siteParts[k.sub]
		}
		return id
	case entProject:
		return v.projectList[k.idx].id
	case entDept:
		return v.deptCodes[k.idx]
	case entTask:
		u := v.plan.Units[k.idx]
		return u.Task + "/" + u.Unit
	case entCity:
		return v.cat.City.Code + "/" + quarter(k.idx).String()
	case entCounty:
		ci, year := k.countyYear()
		return v.plan.counties[ci] + "/" + strconv.Itoa(year)
	case entFinding:
		return v.findings.List[k.idx].ID
	}
	return ""
}

// entityArea is the county (or city) a warning belongs to.
func (v *View) entityArea(k wkey) string {
	switch k.kind {
	case entPerson:
		if p := v.persons.at(k.idx); p.hh != 0 {
			return countyOfHousehold(v.households.at(p.hh - 1).key)
		}
	case entHousehold:
		return countyOfHousehold(v.households.at(k.idx).key)
	case entSite:
		if c := v.sites[k.idx].county; v.cat.ValidArea(c) {
			return c
		}
	case entProject:
		if a := v.projectList[k.idx].area; v.cat.ValidArea(a) {
			return a
		}
	case entTask:
		return v.unitArea(v.plan.Units[k.idx].Unit)
	case entCounty:
		ci, _ := k.countyYear()
		return v.plan.counties[ci]
	case entFinding:
		return v.findingArea(v.findings.List[k.idx])
	}
	return v.cat.City.Code
}

// judge raises or resolves the warning of a rule for an entity.
func (v *View) judge(k wkey, out *[]Change) {
	f := v.eval(k, false)
	w := v.warnings[k]
	switch {
	case f.broken && w == nil:
		w = &warning{key: k, since: toETime(f.since), raised: toETime(v.clock), esc: -1}
		w.id = warningHash(k.rule, v.entityID(k), w.since.Time())
		v.warnings[k] = w
		v.warnByID[w.id] = k
		// Reports may name a warning before this hub raised it (a replay
		// in another order): apply them in a fixed order.
		rs := v.reportsFor[warningID(k.rule, w.id)]
		sort.Slice(rs, func(i, j int) bool { return rs[i].key < rs[j].key })
		for _, r := range rs {
			w.supervise(r)
		}
		v.areaOf(v.entityArea(k)).bumpWarn(k.rule.String(), 1)
		heap.Push(&v.esc, w)
		*out = append(*out, Change{Kind: Raised, Warning: v.describe(w), At: v.clock})
		v.markWarning(k)
	case !f.broken && w != nil:
		c := Change{Kind: Resolved, Warning: v.describe(w), At: v.clock}
		c.Evidence = v.eval(k, true).evidence
		v.markWarning(k)
		v.drop(w)
		*out = append(*out, c)
	}
}

func (v *View) drop(w *warning) {
	delete(v.warnings, w.key)
	delete(v.warnByID, w.id)
	v.areaOf(v.entityArea(w.key)).bumpWarn(w.key.rule.String(), -1)
	if w.esc >= 0 {
		heap.Remove(&v.esc, int(w.esc))
	}
}

func (v *View) dueOf(w *warning) time.Time {
	r, _ := v.rules.Rule(w.key.rule.String())
	return r.Due(w.raised.Time())
}

// responsibleOf names the units a warning goes to, without evaluating it:
// the rule's list in rules.json, or the units its definition decides per
// instance, or the lead office when neither names one.
func (v *View) responsibleOf(k wkey, escalated bool) []string {
	var out []string
	if d := v.defs.byID[k.rule]; d != nil {
		r, _ := v.rules.Rule(k.rule.String())
		switch {
		case d.responsible != nil:
			out = d.responsible(v, k)
		case d.perPart && r != nil:
			if i := slices.Index(d.parts, k.sub); i >= 0 && i < len(r.Responsible) {
				out = r.Responsible[i : i+1]
			}
		case r != nil:
			out = r.Responsible
		}
	}
	if len(out) == 0 {
		out = []string{v.rules.Lead}
	}
	if escalated && !containsString(out, v.rules.EscalateTo) {
		out = append(append([]string(nil), out...), v.rules.EscalateTo)
	}
	return out
}

// describe builds the readable warning: the stored state, and what the
// entity's facts say now (evidence, message, responsible units).
func (v *View) describe(w *warning) Warning {
	f := v.eval(w.key, true)
	out := Warning{
		ID: warningID(w.key.rule, w.id), Rule: w.key.rule.String(), EntityKind: entityKinds[w.key.kind],
		EntityID: v.entityID(w.key), Area: v.entityArea(w.key), Since: w.since.Time(), RaisedAt: w.raised.Time(),
		Due: v.dueOf(w), Responsible: v.responsibleOf(w.key, w.level == 1), Evidence: f.evidence, Message: f.message,
		Level: levelNames[w.level], Supervision: supervisionNames[w.sup], Actions: int(w.actions), Rectified: w.rect, Seq: w.seq,
	}
	if w.acked != 0 {
		out.Acknowledged = w.acked.Time()
	}
	if out.Evidence == nil {
		out.Evidence = []Evidence{}
	}
	presentWarning(&out)
	return out
}

// escalateAt is when a warning escalates: when its acknowledgement is late,
// or when it is past due.
func (v *View) escalateAt(w *warning) time.Time {
	if w.level == 1 {
		return time.Time{}
	}
	t := v.dueOf(w)
	if w.acked == 0 {
		if ack := w.raised.Time().AddDate(0, 0, v.p.ackDays); ack.Before(t) {
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
		if at.IsZero() {
			heap.Pop(&v.esc)
			continue
		}
		if at.After(v.clock) {
			return
		}
		heap.Pop(&v.esc)
		w.level, w.sup = 1, 2
		*out = append(*out, Change{Kind: Escalated, Warning: v.describe(w), At: v.clock})
		v.markWarning(w.key)
	}
}

// supervise applies a department's report on a warning; an acknowledgement
// moves its escalation later.
func (v *View) supervise(w *warning, r *report) {
	w.supervise(r)
	v.markWarning(w.key)
	if w.esc >= 0 {
		heap.Fix(&v.esc, int(w.esc))
	}
}

func (w *warning) supervise(r *report) {
	switch r.kind {
	case "acknowledgement", "action":
		// The earliest acknowledgement counts, whatever order reports come in.
		if r.reported != 0 && (w.acked == 0 || r.reported < w.acked) {
			w.acked = r.reported
		}
		if w.sup == 0 {
			w.sup = 1
		}
		if r.kind == "action" && w.actions < 1<<16-1 {
			w.actions++
		}
	case "rectified":
		w.rect = true
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
	items []*warning
	v     *View
}

func (h *escHeap) Len() int { return len(h.items) }
func (h *escHeap) Less(i, j int) bool {
	a, b := h.v.escalateAt(h.items[i]), h.v.escalateAt(h.items[j])
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h.items[i].id < h.items[j].id
}
func (h *escHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].esc, h.items[j].esc = int32(i), int32(j)
}
func (h *escHeap) Push(x any) {
	w := x.(*warning)
	w.esc = int32(len(h.items))
	h.items = append(h.items, w)
}
func (h *escHeap) Pop() any {
	n := len(h.items)
	w := h.items[n-1]
	h.items = h.items[:n-1]
	w.esc = -1
	return w
}

// validKey reports whether a key names an entity the view has (a damaged
// snapshot must not make reads index out of range).
func (v *View) validKey(k wkey) bool {
	if d := v.defs.byID[k.rule]; d == nil || d.kind != k.kind || !slices.Contains(d.partsOf(), k.sub) {
		return false
	}
	switch k.kind {
	case entPerson:
		return int(k.idx) < v.persons.len()
	case entHousehold:
		return int(k.idx) < v.households.len()
	case entSite:
		return int(k.idx) < len(v.sites) && k.sub < nSiteParts
	case entProject:
		return int(k.idx) < len(v.projectList)
	case entDept:
		return int(k.idx) < len(v.deptCodes)
	case entTask:
		return int(k.idx) < len(v.plan.Units)
	case entCity:
		return k.idx >= 2000*4 && k.idx < 2180*4
	case entCounty:
		ci, _ := k.countyYear()
		return ci < len(v.plan.counties)
	case entFinding:
		return int(k.idx) < len(v.findings.List)
	}
	return false
}
