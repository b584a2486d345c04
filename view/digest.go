package view

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"sort"
	"time"
)

// Digest returns the SHA-256 of a canonical encoding of the whole view:
// entities in key order with every register (fact key and effective time)
// and state, the indicators of every area, the open warnings — which rule
// is broken for which entity since when, on what evidence, and what the
// departments reported on it — and the clock. It leaves out what depends on
// how the log was written rather than on what it says: log sequences, intake
// times, the hub's own event counts, and when the hub happened to observe a
// warning (raised_at, due date, escalation), which depend on when it ticked.
// So the same facts give the same digest whether folded live, rebuilt from
// scratch, restored from a snapshot, or published by departments in another
// interleaving. (Snapshots compare the full state, supervision included.)
func (v *View) Digest() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	d := digester{h: sha256.New()}
	d.str("anzhi-view-v1")
	d.time(v.clock)

	order := make([]uint32, v.persons.len())
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return bytes.Compare(v.personKeys.at(a)[:], v.personKeys.at(b)[:]) })
	d.u64(uint64(len(order)))
	for _, i := range order {
		p := v.persons.at(i)
		d.bytes(v.personKeys.at(i)[:])
		if p.hh != 0 {
			d.u64(v.households.at(p.hh - 1).key)
		} else {
			d.u64(0)
		}
		for g := range p.keys {
			d.u64(p.keys[g])
			d.u64(uint64(p.eff[g]))
		}
		d.u64(uint64(p.birthYear)<<48 | uint64(p.basicYear)<<32 | uint64(p.seriousYear)<<16 | uint64(p.pensionYear))
		d.u64(uint64(p.empStart)<<48 | uint64(p.empEnd)<<32 | uint64(p.trainDone)<<16 | uint64(p.hukouDay))
		d.bytes([]byte{p.sex, p.labour, p.disability, p.status, p.edu, p.eduLevel, p.basic, p.serious,
			p.pension, p.emp, p.empKind, p.trainPassed, p.hukou, p.contract, b2u(p.registered)})
		d.u64(uint64(p.bits))
	}

	hos := make([]uint32, v.households.len())
	for i := range hos {
		hos[i] = uint32(i)
	}
	slices.SortFunc(hos, func(a, b uint32) int { return cmpU64(v.households.at(a).key, v.households.at(b).key) })
	d.u64(uint64(len(hos)))
	for _, i := range hos {
		h := v.households.at(i)
		d.u64(h.key)
		for g := range h.keys {
			d.u64(h.keys[g])
			d.u64(uint64(h.eff[g]))
		}
		if h.site != 0 {
			d.str(v.sites[h.site-1].id)
		} else {
			d.str("")
		}
		for _, m := range h.mem {
			d.u64(uint64(m))
		}
		d.u64(uint64(h.relocated)<<32 | uint64(h.deedDay)<<16 | uint64(h.reclaimDay))
		d.bytes([]byte{h.size, h.labourCount, h.deed, h.reclaim, h.dibao, h.tekun, h.temporary, h.benefit,
			h.land, h.forest, h.status, b2u(h.poor), b2u(h.registered) | b2u(h.linkage)<<1})
		d.u64(uint64(h.bits))
	}

	sites := slices.Clone(v.sites)
	sort.Slice(sites, func(i, j int) bool { return sites[i].id < sites[j].id })
	d.u64(uint64(len(sites)))
	for _, s := range sites {
		d.str(s.id)
		d.reg(s.reg)
		d.str(s.name)
		d.str(s.township)
		d.str(s.setting)
		d.str(s.status)
		d.bytes([]byte{b2u(s.central), b2u(s.known), b2u(s.repairFund)})
		d.u64(uint64(s.planHH))
		d.u64(uint64(s.planPop))
		d.u64(uint64(s.done))
		d.u64(uint64(s.households))
		for i := range s.infra {
			d.u64(uint64(s.infra[i]))
			d.reg(s.infraReg[i])
			d.u64(uint64(s.infraDay[i]))
		}
		for _, m := range s.facilityRegisters() {
			d.facilities(m)
		}
		d.u64(uint64(s.legal))
		d.reg(s.housing)
		d.str(s.inspection)
		d.area(s.area)
	}
	for _, k := range v.cat.Counties() {
		d.area(v.counties[k.Code])
	}
	d.area(v.city)

	keys(&d, v.depts, func(code string) {
		x := v.depts[code]
		if code == "hub" {
			return // the hub's own events depend on when it ticked
		}
		d.u64(uint64(x.published))
		d.u64(uint64(x.rejected))
		keys(&d, x.byFamily, func(f string) { d.u64(uint64(x.byFamily[f])) })
	})
	keys(&d, v.projects, func(id string) {
		p := v.projects[id]
		d.str(p.area)
		d.reg(p.jobs)
		d.str(p.kind)
		d.u64(uint64(p.jobsTotal))
		d.u64(uint64(p.jobsRelocated))
		d.u64(uint64(p.allocated))
		d.u64(uint64(p.disbursed))
		d.reg(p.otherArea)
		d.u64(uint64(p.otherAreaDay))
		d.u64(uint64(p.otherAmount))
	})
	if b, err := json.Marshal(v.plan); err == nil {
		d.str(string(b))
	}
	if b, err := json.Marshal(&v.findings); err == nil {
		d.str(string(b))
	}
	keys(&d, v.reports, func(id string) {
		r := v.reports[id]
		d.str(r.dept)
		d.str(r.kind)
		d.str(r.warning)
		d.u64(uint64(r.reported))
		d.u64(r.key)
		for _, x := range []string{r.area, r.task, r.site, r.household, r.severity, r.note} {
			d.str(x)
		}
		d.u64(uint64(r.due))
	})
	ws := make([]Warning, 0, len(v.warnings))
	for _, w := range v.warnings {
		ws = append(ws, v.describe(w))
	}
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Rule != ws[j].Rule {
			return ws[i].Rule < ws[j].Rule
		}
		return ws[i].EntityID < ws[j].EntityID
	})
	d.u64(uint64(len(ws)))
	for _, w := range ws {
		d.str(w.ID)
		d.str(w.Rule)
		d.str(w.EntityKind)
		d.str(w.EntityID)
		d.str(w.Area)
		d.time(w.Since)
		d.time(w.Acknowledged)
		d.u64(uint64(w.Actions))
		d.u64(uint64(b2u(w.Rectified)))
		for _, e := range w.Evidence {
			d.str(e.Family)
			d.u64(e.Key)
			d.time(e.Time)
		}
		d.str(w.Message)
	}
	return hex.EncodeToString(d.h.Sum(nil))
}

type digester struct {
	h   hash.Hash
	buf [8]byte
}

func (d *digester) u64(x uint64) {
	binary.BigEndian.PutUint64(d.buf[:], x)
	d.h.Write(d.buf[:])
}

func (d *digester) bytes(b []byte) {
	d.u64(uint64(len(b)))
	d.h.Write(b)
}

func (d *digester) str(s string) { d.bytes([]byte(s)) }

func (d *digester) time(t time.Time) {
	if t.IsZero() {
		d.u64(0)
		return
	}
	d.u64(uint64(t.UnixNano()))
}

func (d *digester) reg(r reg) {
	d.u64(r.key)
	d.u64(uint64(r.eff))
}

func (d *digester) facilities(m map[string]*facility) {
	keys(d, m, func(id string) {
		x := m[id]
		d.reg(x.reg)
		d.str(x.kind)
		d.u64(uint64(b2u(x.open) | b2u(x.arranged)<<1))
		d.u64(uint64(x.seats))
		d.u64(uint64(x.jobs))
		d.u64(uint64(x.used))
		d.u64(uint64(x.pupils))
		for _, n := range []int64{x.budget, x.urbanBudget, x.pay, x.urbanPay} {
			d.u64(uint64(n))
		}
	})
}

func (d *digester) area(a *area) {
	d.str(a.code)
	for _, c := range a.c {
		d.u64(uint64(c))
	}
	keys(d, a.warns, func(r string) { d.u64(uint64(a.warns[r])) })
}

// keys walks a map in key order, writing each key before fn writes its value.
func keys[V any](d *digester, m map[string]V, fn func(string)) {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	d.u64(uint64(len(ks)))
	for _, k := range ks {
		d.str(k)
		fn(k)
	}
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
