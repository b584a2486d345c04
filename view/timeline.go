package view

import (
	"errors"
	"math"
	"sort"
	"strings"
)

// timeline is the index from entities to the log entries about them, for
// auditors' entity timelines: for every log entry folded, the previous
// entry about the same entity (a chain by log sequence, 4 bytes an entry of
// the log), and for every entity its latest entry (4 bytes each). A
// warning's events are also chained by warning. It is kept with the view
// and in its snapshots, and counted in its memory: ≈11 bytes a log entry
// and person at a million persons (2.6 entries a person).
type timeline struct {
	prev      chunks[uint32] // by log sequence: the previous entry about the same entity (0: none)
	person    chunks[uint32] // latest entry about each person, by person index
	household chunks[uint32] // latest entry about each household, by household index
	site      []uint32       // by site index
	task      map[string]uint32
	warning   map[uint64]uint32 // latest event of each warning, by the id's hash
	warnPrev  map[uint32]uint32 // a warning event's previous event of the same warning
}

func newTimeline() timeline {
	return timeline{task: map[string]uint32{}, warning: map[uint64]uint32{}, warnPrev: map[uint32]uint32{}}
}

// link records the entry seq as the newest about the entity whose latest
// entry head holds. Sequences beyond 32 bits are not indexed.
func (t *timeline) link(head *uint32, seq uint64) {
	if seq == 0 || seq > math.MaxUint32 || uint64(*head) >= seq {
		return
	}
	for t.prev.len() <= int(seq) {
		t.prev.push(0)
	}
	*t.prev.at(uint32(seq)) = *head
	*head = uint32(seq)
}

func headAt(c *chunks[uint32], i uint32) *uint32 {
	for c.len() <= int(i) {
		c.push(0)
	}
	return c.at(i)
}

func (v *View) linkPerson(pi uint32, seq uint64) { v.tl.link(headAt(&v.tl.person, pi), seq) }

func (v *View) linkHousehold(hi uint32, seq uint64) { v.tl.link(headAt(&v.tl.household, hi), seq) }

func (v *View) linkSite(si uint32, seq uint64) {
	for len(v.tl.site) <= int(si) {
		v.tl.site = append(v.tl.site, 0)
	}
	v.tl.link(&v.tl.site[si], seq)
}

func (v *View) linkTask(id string, seq uint64) {
	h := v.tl.task[id]
	v.tl.link(&h, seq)
	v.tl.task[id] = h
}

// linkWarningEvent chains a warning.raised or warning.resolved entry to its
// warning and to the entity it is about.
func (v *View) linkWarningEvent(f *fields, seq uint64) {
	if seq == 0 || seq > math.MaxUint32 {
		return
	}
	if id, ok := parseWarningID(f.str("warning_id")); ok {
		if prev := v.tl.warning[id]; prev < uint32(seq) {
			if prev != 0 {
				v.tl.warnPrev[uint32(seq)] = prev
			}
			v.tl.warning[id] = uint32(seq)
		}
	}
	entity := f.str("entity_id")
	switch f.str("entity_kind") {
	case "household":
		if k, ok := householdKey(entity); ok {
			if hi, ok := v.hhIdx[k]; ok {
				v.linkHousehold(hi, seq)
			}
		}
	case "person":
		if k, ok := personKey(entity); ok {
			if pi, ok := v.personIdx.get(&k, &v.personKeys); ok {
				v.linkPerson(pi, seq)
			}
		}
	case "site":
		if si, ok := v.siteIdx[entity]; ok {
			v.linkSite(si, seq)
		}
	case "task":
		id, _, _ := strings.Cut(entity, "/") // RL09-4/hrss
		if _, ok := v.plan.Tasks[id]; ok {
			v.linkTask(id, seq)
		}
	}
}

// chain appends the entries of the chain that starts at head.
func (t *timeline) chain(out []uint64, head uint32) []uint64 {
	for s := head; s != 0; s = *t.prev.at(s) {
		out = append(out, uint64(s))
	}
	return out
}

// Timeline kinds.
const (
	TimelineHousehold = "household"
	TimelinePerson    = "person"
	TimelineSite      = "site"
	TimelineTask      = "task"
	TimelineWarning   = "warning"
)

// TimelineKinds are the kinds of entity a timeline can be asked of.
var TimelineKinds = []string{TimelineHousehold, TimelinePerson, TimelineSite, TimelineTask, TimelineWarning}

// ErrTimelineKind means a timeline was asked of a kind of entity there is
// none of.
var ErrTimelineKind = errors.New("not a kind of timeline (household, person, site, task or warning)")

// Timeline returns the log sequences of every entry about an entity, in
// log order: a household's own facts and those about its members (persons)
// and the warnings raised or resolved on any of them; a person's; a site's;
// a task's (its definition and progress); a warning's events. The hub reads
// the entries from the log.
func (v *View) Timeline(kind, id string) ([]uint64, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []uint64
	switch kind {
	case TimelineHousehold:
		k, ok := householdKey(id)
		if !ok {
			return nil, ErrNotFound
		}
		hi, ok := v.hhIdx[k]
		if !ok {
			return nil, ErrNotFound
		}
		if int(hi) < v.tl.household.len() {
			out = v.tl.chain(out, *v.tl.household.at(hi))
		}
		for q := v.households.at(hi).first; q != 0; q = v.persons.at(q - 1).next {
			if pi := q - 1; int(pi) < v.tl.person.len() {
				out = v.tl.chain(out, *v.tl.person.at(pi))
			}
		}
	case TimelinePerson:
		k, ok := personKey(id)
		if !ok {
			return nil, ErrNotFound
		}
		pi, ok := v.personIdx.get(&k, &v.personKeys)
		if !ok {
			return nil, ErrNotFound
		}
		if int(pi) < v.tl.person.len() {
			out = v.tl.chain(out, *v.tl.person.at(pi))
		}
	case TimelineSite:
		si, ok := v.siteIdx[id]
		if !ok {
			return nil, ErrNotFound
		}
		if int(si) < len(v.tl.site) {
			out = v.tl.chain(out, v.tl.site[si])
		}
	case TimelineTask:
		h, ok := v.tl.task[id]
		if !ok {
			return nil, ErrNotFound
		}
		out = v.tl.chain(out, h)
	case TimelineWarning:
		wid, ok := parseWarningID(id)
		if !ok {
			return nil, ErrNotFound
		}
		s, ok := v.tl.warning[wid]
		if !ok {
			return nil, ErrNotFound
		}
		for ; s != 0; s = v.tl.warnPrev[s] {
			out = append(out, uint64(s))
		}
	default:
		return nil, ErrTimelineKind
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// PersonHousehold returns the household a person belongs to, as the view
// knows it.
func (v *View) PersonHousehold(key string) (string, bool) {
	k, ok := personKey(key)
	if !ok {
		return "", false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	pi, ok := v.personIdx.get(&k, &v.personKeys)
	if !ok {
		return "", false
	}
	if hk := v.householdKeyOf(v.persons.at(pi)); hk != 0 {
		return householdID(hk), true
	}
	return "", false
}

// encode writes the index into a snapshot: each entry's link as the
// distance back to the previous entry about its entity (small: an entity's
// facts come close together), then the latest entry of every entity.
func (t *timeline) encode(e *encoder) {
	e.u64(uint64(t.prev.len()))
	for s := range uint32(t.prev.len()) {
		if p := *t.prev.at(s); p != 0 {
			e.u32(s - p)
		} else {
			e.u32(0)
		}
	}
	for _, c := range []*chunks[uint32]{&t.person, &t.household} {
		e.u64(uint64(c.len()))
		for i := range uint32(c.len()) {
			e.u32(*c.at(i))
		}
	}
	e.u64(uint64(len(t.site)))
	for _, s := range t.site {
		e.u32(s)
	}
	e.sorted(len(t.task), func(yield func(string)) {
		for k := range t.task {
			yield(k)
		}
	}, func(id string) { e.u32(t.task[id]) })
	ids := make([]uint64, 0, len(t.warning))
	for id := range t.warning {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	e.u64(uint64(len(ids)))
	for _, id := range ids {
		e.u64(id)
		e.u32(t.warning[id])
	}
	evs := make([]uint32, 0, len(t.warnPrev))
	for s := range t.warnPrev {
		evs = append(evs, s)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i] < evs[j] })
	e.u64(uint64(len(evs)))
	for _, s := range evs {
		e.u32(s)
		e.u32(s - t.warnPrev[s])
	}
}

// decode reads what encode wrote.
func (t *timeline) decode(d *decoder) {
	n := d.count(1 << 32)
	t.prev.resize(n)
	for s := range uint32(n) {
		if back := d.u32(); back != 0 && back <= s {
			*t.prev.at(s) = s - back
		}
	}
	for _, c := range []*chunks[uint32]{&t.person, &t.household} {
		m := d.count(1 << 32)
		c.resize(m)
		for i := range uint32(m) {
			*c.at(i) = d.u32()
		}
	}
	t.site = make([]uint32, d.count(1<<32))
	for i := range t.site {
		t.site[i] = d.u32()
	}
	d.each(func(id string) { t.task[id] = d.u32() })
	for k := d.count(1 << 32); k > 0 && d.err == nil; k-- {
		id := d.u64()
		t.warning[id] = d.u32()
	}
	for k := d.count(1 << 32); k > 0 && d.err == nil; k-- {
		s := d.u32()
		if back := d.u32(); back != 0 && back <= s { // an entry is never its own previous one
			t.warnPrev[s] = s - back
		}
	}
}

// TimelineBytes estimates the memory the timeline index holds: its chunks
// exactly, its maps at a typical Go map's cost per entry.
func (v *View) TimelineBytes() int64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t := &v.tl
	n := int64(len(t.prev.c)+len(t.person.c)+len(t.household.c))*chunkSize*4 + int64(cap(t.site))*4
	n += int64(len(t.task))*48 + int64(len(t.warning))*24 + int64(len(t.warnPrev))*16
	return n
}
