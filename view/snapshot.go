package view

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// snapshotMagic starts every snapshot; the digit is the format version.
const snapshotMagic = "ANZHIVIEW8"

// ErrSnapshotFormat means a snapshot is not one this version can read.
var ErrSnapshotFormat = errors.New("view snapshot: unknown or damaged format")

// WriteSnapshot writes the whole view — every entity, register, counter,
// open warning with its supervision, and the entities waiting for the next
// rule sweep — in a compact binary form. Restore reads it back into a view
// that folds the rest of the log exactly as this one would. Maps are written
// in key order, so two equal views give equal bytes.
func (v *View) WriteSnapshot(w io.Writer) error {
	_, err := v.WriteSnapshotAt(w)
	return err
}

// WriteSnapshotAt is WriteSnapshot that also returns the log sequence the
// snapshot holds the view at: read under the same lock as the view, so it
// cannot be a later fold's.
func (v *View) WriteSnapshotAt(w io.Writer) (seq uint64, err error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.seq, v.writeSnapshot(w)
}

func (v *View) writeSnapshot(w io.Writer) error {
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20)}
	e.str(snapshotMagic)
	e.u64(v.seq)
	e.time(v.clock)
	e.time(v.firstClock)
	e.u64(v.facts)
	e.u64(v.version)

	e.u64(uint64(v.persons.len()))
	for i := range uint32(v.persons.len()) {
		p := v.persons.at(i)
		e.raw(v.personKeys.at(i)[:])
		for g := range p.keys {
			e.u64(p.keys[g])
			e.u32(uint32(p.eff[g]))
		}
		e.u32(p.hh)
		e.u32(p.next)
		for _, x := range []uint16{p.birthYear, p.basicYear, p.seriousYear, p.pensionYear, uint16(p.empStart), uint16(p.empEnd), uint16(p.trainDone), uint16(p.hukouDay)} {
			e.u16(x)
		}
		e.raw([]byte{p.sex, p.labour, p.disability, p.status, p.edu, p.eduLevel, p.basic, p.serious, p.pension,
			p.emp, p.empKind, p.trainPassed, p.hukou, p.contract, b2u(p.registered)})
		e.u64(uint64(p.bits))
	}

	e.u64(uint64(v.households.len()))
	for i := range uint32(v.households.len()) {
		h := v.households.at(i)
		e.u64(h.key)
		for g := range h.keys {
			e.u64(h.keys[g])
			e.u32(uint32(h.eff[g]))
		}
		e.u32(h.site)
		e.u32(h.first)
		for _, m := range h.mem {
			e.u16(m)
		}
		for _, d := range []day{h.relocated, h.deedDay, h.reclaimDay} {
			e.u16(uint16(d))
		}
		e.raw([]byte{h.size, h.labourCount, h.deed, h.reclaim, h.dibao, h.tekun, h.temporary, h.benefit, h.land, h.forest,
			h.status, b2u(h.poor), b2u(h.registered) | b2u(h.linkage)<<1})
		e.u64(uint64(h.bits))
	}

	e.u64(uint64(len(v.sites)))
	for _, s := range v.sites {
		e.str(s.id)
		e.reg(s.reg)
		for _, x := range []string{s.name, s.township, s.setting, s.status, s.inspection} {
			e.str(x)
		}
		e.raw([]byte{b2u(s.central), b2u(s.known), b2u(s.repairFund)})
		e.u64(uint64(s.planHH))
		e.u64(uint64(s.planPop))
		e.u16(uint16(s.done))
		e.u64(uint64(s.households))
		for i := range s.infra {
			e.raw([]byte{s.infra[i]})
			e.reg(s.infraReg[i])
			e.u16(uint16(s.infraDay[i]))
		}
		for _, m := range s.facilityRegisters() {
			e.facilities(m)
		}
		e.u64(uint64(s.legal))
		e.reg(s.housing)
		e.counters(&s.contrib)
		e.area(s.area)
	}
	for _, k := range v.cat.Counties() {
		e.area(v.counties[k.Code])
	}
	e.area(v.city)

	e.sorted(len(v.depts), func(yield func(string)) {
		for k := range v.depts {
			yield(k)
		}
	}, func(code string) {
		d := v.depts[code]
		e.u64(uint64(d.published))
		e.u64(uint64(d.rejected))
		e.time(d.last)
		e.time(d.lastClock)
		e.sorted(len(d.byFamily), func(yield func(string)) {
			for k := range d.byFamily {
				yield(k)
			}
		}, func(f string) { e.u64(uint64(d.byFamily[f])) })
	})
	e.sorted(len(v.projects), func(yield func(string)) {
		for k := range v.projects {
			yield(k)
		}
	}, func(id string) {
		p := v.projects[id]
		e.u32(p.idx)
		e.str(p.area)
		e.reg(p.jobs)
		e.str(p.kind)
		for _, x := range []int64{p.jobsTotal, p.jobsRelocated, p.allocated, p.disbursed, p.otherAmount} {
			e.u64(uint64(x))
		}
		e.reg(p.otherArea)
		e.u16(uint16(p.otherAreaDay))
	})
	planJSON, err := json.Marshal(v.plan)
	if err != nil {
		return fmt.Errorf("view: snapshot of the plan: %w", err)
	}
	e.str(string(planJSON))
	findingsJSON, err := json.Marshal(&v.findings)
	if err != nil {
		return fmt.Errorf("view: snapshot of the findings: %w", err)
	}
	e.str(string(findingsJSON))
	e.sorted(len(v.reports), func(yield func(string)) {
		for k := range v.reports {
			yield(k)
		}
	}, func(id string) {
		r := v.reports[id]
		for _, x := range []string{r.dept, r.kind, r.warning} {
			e.str(x)
		}
		e.u16(uint16(r.reported))
		e.u64(r.key)
		for _, x := range []string{r.area, r.task, r.site, r.household, r.severity, r.note} {
			e.str(x)
		}
		e.u16(uint16(r.due))
	})
	hk := make([]historyKey, 0, len(v.history))
	for k := range v.history {
		hk = append(hk, k)
	}
	sort.Slice(hk, func(i, j int) bool {
		if hk[i].area != hk[j].area {
			return hk[i].area < hk[j].area
		}
		return hk[i].month < hk[j].month
	})
	e.u64(uint64(len(hk)))
	for _, k := range hk {
		e.str(k.area)
		e.u16(k.month)
		for _, n := range v.history[k] {
			e.u64(uint64(n))
		}
	}

	ws := make([]*warning, 0, len(v.warnings))
	for _, w := range v.warnings {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool {
		a, b := ws[i].key, ws[j].key
		if a.rule != b.rule {
			return a.rule < b.rule
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.idx != b.idx {
			return a.idx < b.idx
		}
		return a.sub < b.sub
	})
	e.u64(uint64(len(ws)))
	for _, w := range ws {
		e.raw([]byte{byte(w.key.rule), w.key.kind, w.key.sub, w.level, w.sup, b2u(w.rect)})
		e.u32(w.key.idx)
		e.u64(w.id)
		e.u64(w.seq)
		e.u32(uint32(w.since))
		e.u32(uint32(w.raised))
		e.u16(uint16(w.acked))
		e.u16(w.actions)
	}

	for _, set := range []*bitset{&v.dirtyPersons, &v.dirtyHouseholds} {
		e.u64(uint64(set.len()))
		set.each(func(i uint32) { e.u32(i) })
	}
	sites := make([]uint32, 0, len(v.dirtySites))
	for i := range v.dirtySites {
		sites = append(sites, i)
	}
	sort.Slice(sites, func(a, b int) bool { return sites[a] < sites[b] })
	e.u64(uint64(len(sites)))
	for _, i := range sites {
		e.u32(i)
	}
	e.sorted(len(v.dirtyProjects), func(yield func(string)) {
		for k := range v.dirtyProjects {
			yield(k)
		}
	}, func(string) {})
	v.tl.encode(e)
	e.str(snapshotMagic) // trailer: a truncated snapshot fails here
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

// Restore reads a snapshot written by WriteSnapshot.
func Restore(cat *schemas.Catalog, r io.Reader) (*View, error) {
	v, err := New(cat)
	if err != nil {
		return nil, err
	}
	d := &decoder{r: bufio.NewReaderSize(r, 1<<20)}
	if d.str() != snapshotMagic {
		return nil, ErrSnapshotFormat
	}
	v.seq = d.u64()
	v.clock = d.time()
	v.firstClock = d.time()
	v.facts = d.u64()
	v.version = d.u64()

	n := d.count(1 << 32)
	v.persons.resize(n)
	v.personKeys.resize(n)
	for i := range uint32(n) {
		p := v.persons.at(i)
		d.raw(v.personKeys.at(i)[:])
		v.personIdx.put(v.personKeys.at(i), i, &v.personKeys)
		for g := range p.keys {
			p.keys[g] = d.u64()
			p.eff[g] = etime(d.u32())
		}
		p.hh, p.next = d.u32(), d.u32()
		p.birthYear, p.basicYear, p.seriousYear, p.pensionYear = d.u16(), d.u16(), d.u16(), d.u16()
		p.empStart, p.empEnd, p.trainDone, p.hukouDay = day(d.u16()), day(d.u16()), day(d.u16()), day(d.u16())
		var b [15]byte
		d.raw(b[:])
		p.sex, p.labour, p.disability, p.status, p.edu, p.eduLevel, p.basic, p.serious, p.pension = b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]
		p.emp, p.empKind, p.trainPassed, p.hukou, p.contract, p.registered = b[9], b[10], b[11], b[12], b[13], b[14] == 1
		p.bits = bits(d.u64())
	}

	n = d.count(1 << 32)
	v.households.resize(n)
	v.hhIdx = make(map[uint64]uint32, n)
	for i := range uint32(n) {
		h := v.households.at(i)
		h.key = d.u64()
		v.hhIdx[h.key] = i
		for g := range h.keys {
			h.keys[g] = d.u64()
			h.eff[g] = etime(d.u32())
		}
		h.site, h.first = d.u32(), d.u32()
		for m := range h.mem {
			h.mem[m] = d.u16()
		}
		h.relocated, h.deedDay, h.reclaimDay = day(d.u16()), day(d.u16()), day(d.u16())
		var b [13]byte
		d.raw(b[:])
		h.size, h.labourCount, h.deed, h.reclaim, h.dibao, h.tekun, h.temporary, h.benefit, h.land, h.forest, h.status =
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10]
		h.poor, h.registered, h.linkage = b[11] == 1, b[12]&1 == 1, b[12]&2 == 2
		h.bits = bits(d.u64())
	}

	n = d.count(1 << 24)
	for i := 0; i < n && d.err == nil; i++ {
		id := d.str()
		si := v.siteIndex(id)
		s := v.sites[si]
		s.reg = d.reg()
		s.name, s.township, s.setting, s.status, s.inspection = d.str(), d.str(), d.str(), d.str(), d.str()
		s.area.name = s.name
		var b [3]byte
		d.raw(b[:])
		s.central, s.known, s.repairFund = b[0] == 1, b[1] == 1, b[2] == 1
		s.planHH, s.planPop = int64(d.u64()), int64(d.u64())
		s.done = day(d.u16())
		s.households = int(d.u64())
		for j := range s.infra {
			var x [1]byte
			d.raw(x[:])
			s.infra[j] = x[0]
			s.infraReg[j] = d.reg()
			s.infraDay[j] = day(d.u16())
		}
		for _, m := range s.facilityRegisters() {
			d.facilities(m)
		}
		s.legal = int64(d.u64())
		s.housing = d.reg()
		d.counters(&s.contrib)
		d.area(s.area)
	}
	for _, k := range cat.Counties() {
		d.area(v.counties[k.Code])
	}
	d.area(v.city)

	d.each(func(code string) {
		x := v.dept(code)
		x.published, x.rejected = int64(d.u64()), int64(d.u64())
		x.last, x.lastClock = d.time(), d.time()
		d.each(func(f string) { x.byFamily[f] = int64(d.u64()) })
	})
	d.each(func(id string) {
		p := &project{id: id}
		v.projects[id] = p
		p.idx = d.u32()
		for int(p.idx) >= len(v.projectList) && d.err == nil && p.idx < 1<<24 {
			v.projectList = append(v.projectList, nil)
		}
		if int(p.idx) < len(v.projectList) {
			v.projectList[p.idx] = p
		}
		p.area = d.str()
		p.jobs = d.reg()
		p.kind = d.str()
		p.jobsTotal, p.jobsRelocated, p.allocated, p.disbursed, p.otherAmount = int64(d.u64()), int64(d.u64()), int64(d.u64()), int64(d.u64()), int64(d.u64())
		p.otherArea = d.reg()
		p.otherAreaDay = day(d.u16())
	})
	if err := v.plan.restore(d.str()); err != nil && d.err == nil {
		return nil, ErrSnapshotFormat
	}
	if err := v.findings.restore(d.str()); err != nil && d.err == nil {
		return nil, ErrSnapshotFormat
	}
	for _, p := range v.projectList {
		if p == nil {
			return nil, ErrSnapshotFormat
		}
	}
	d.each(func(id string) {
		r := &report{id: id, dept: d.str(), kind: d.str(), warning: d.str()}
		r.reported = day(d.u16())
		r.key = d.u64()
		r.area, r.task, r.site, r.household, r.severity, r.note = d.str(), d.str(), d.str(), d.str(), d.str(), d.str()
		r.due = day(d.u16())
		v.reports[id] = r
		if r.warning != "" {
			v.reportsFor[r.warning] = append(v.reportsFor[r.warning], r)
		}
	})
	for k := d.count(1 << 24); k > 0 && d.err == nil; k-- {
		hk := historyKey{area: d.str(), month: d.u16()}
		c := new([nHistory]int64)
		for i := range c {
			c[i] = int64(d.u64())
		}
		v.history[hk] = c
	}

	n = d.count(1 << 32)
	for i := 0; i < n && d.err == nil; i++ {
		w := &warning{esc: -1}
		var b [6]byte
		d.raw(b[:])
		w.key = wkey{rule: RuleID(b[0]), kind: b[1], sub: b[2]}
		w.level, w.sup, w.rect = b[3], b[4], b[5] == 1
		w.key.idx = d.u32()
		w.id, w.seq = d.u64(), d.u64()
		w.since, w.raised = etime(d.u32()), etime(d.u32())
		w.acked, w.actions = day(d.u16()), d.u16()
		if d.err != nil || !v.validKey(w.key) {
			return nil, ErrSnapshotFormat
		}
		v.warnings[w.key] = w
		v.warnByID[w.id] = w.key
		if !v.escalateAt(w).IsZero() {
			heap.Push(&v.esc, w)
		}
	}
	for _, set := range []*bitset{&v.dirtyPersons, &v.dirtyHouseholds} {
		for k := d.count(1 << 32); k > 0 && d.err == nil; k-- {
			set.add(d.u32())
		}
	}
	for k := d.count(1 << 32); k > 0 && d.err == nil; k-- {
		v.dirtySites[d.u32()] = struct{}{}
	}
	d.each(func(id string) { v.dirtyProjects[id] = struct{}{} })
	v.tl.decode(d)
	if d.str() != snapshotMagic || d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshotFormat, d.err)
	}
	v.recount()
	for hi := range uint32(v.households.len()) {
		if si := v.households.at(hi).site; si != 0 {
			v.siteHH[si-1] = append(v.siteHH[si-1], hi)
		}
	}
	return v, nil
}

type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
func (e *encoder) u64(x uint64) { e.raw(e.buf[:binary.PutUvarint(e.buf[:], x)]) }
func (e *encoder) u32(x uint32) { e.u64(uint64(x)) }
func (e *encoder) u16(x uint16) { e.u64(uint64(x)) }
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.u64(0)
		return
	}
	e.u64(uint64(t.UnixNano()) + 1)
}
func (e *encoder) reg(r reg) {
	e.u64(r.key)
	e.u32(uint32(r.eff))
}
func (e *encoder) counters(c *counters) {
	for _, x := range c {
		e.u64(uint64(x))
	}
}
func (e *encoder) area(a *area) {
	e.counters(&a.c)
	e.u64(uint64(a.sites))
	e.sorted(len(a.warns), func(yield func(string)) {
		for k := range a.warns {
			yield(k)
		}
	}, func(r string) { e.u64(uint64(a.warns[r])) })
}
func (e *encoder) facilities(m map[string]*facility) {
	e.sorted(len(m), func(yield func(string)) {
		for k := range m {
			yield(k)
		}
	}, func(id string) {
		x := m[id]
		e.reg(x.reg)
		e.str(x.kind)
		e.raw([]byte{b2u(x.open) | b2u(x.arranged)<<1})
		e.u64(uint64(x.seats))
		e.u64(uint64(x.jobs))
		e.u64(uint64(x.used))
		e.u64(uint64(x.pupils))
		for _, n := range []int64{x.budget, x.urbanBudget, x.pay, x.urbanPay} {
			e.u64(uint64(n))
		}
	})
}

// sorted writes n keys (from list) in order, each followed by what val writes.
func (e *encoder) sorted(n int, list func(func(string)), val func(string)) {
	keys := make([]string, 0, n)
	list(func(k string) { keys = append(keys, k) })
	sort.Strings(keys)
	e.u64(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		val(k)
	}
}

type decoder struct {
	r   *bufio.Reader
	err error
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.err = err
	}
	return x
}
func (d *decoder) u32() uint32 {
	x := d.u64()
	if x > math.MaxUint32 && d.err == nil {
		d.err = ErrSnapshotFormat
	}
	return uint32(x)
}
func (d *decoder) u16() uint16 {
	x := d.u64()
	if x > math.MaxUint16 && d.err == nil {
		d.err = ErrSnapshotFormat
	}
	return uint16(x)
}
func (d *decoder) count(limit uint64) int {
	n := d.u64()
	if n > limit && d.err == nil {
		d.err = ErrSnapshotFormat
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}
func (d *decoder) raw(b []byte) {
	if d.err == nil {
		_, d.err = io.ReadFull(d.r, b)
	}
}
func (d *decoder) str() string {
	n := d.count(1 << 20)
	if n == 0 {
		return ""
	}
	b := make([]byte, n)
	d.raw(b)
	return string(b)
}
func (d *decoder) time() time.Time {
	x := d.u64()
	if x == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(x-1)).UTC()
}
func (d *decoder) reg() reg { return reg{key: d.u64(), eff: etime(d.u32())} }
func (d *decoder) counters(c *counters) {
	for i := range c {
		c[i] = int64(d.u64())
	}
}
func (d *decoder) area(a *area) {
	d.counters(&a.c)
	a.sites = int(d.u64())
	clear(a.warns)
	d.each(func(r string) { a.warns[r] = int(d.u64()) })
}
func (d *decoder) facilities(m map[string]*facility) {
	d.each(func(id string) {
		x := &facility{}
		x.reg = d.reg()
		x.kind = d.str()
		var b [1]byte
		d.raw(b[:])
		x.open, x.arranged = b[0]&1 == 1, b[0]&2 == 2
		x.seats, x.jobs = int64(d.u64()), int64(d.u64())
		x.used, x.pupils = int64(d.u64()), int64(d.u64())
		x.budget, x.urbanBudget, x.pay, x.urbanPay = int64(d.u64()), int64(d.u64()), int64(d.u64()), int64(d.u64())
		m[id] = x
	})
}

// each reads a sorted key list written by encoder.sorted.
func (d *decoder) each(fn func(string)) {
	for n := d.count(1 << 32); n > 0 && d.err == nil; n-- {
		fn(d.str())
	}
}
