package view

import (
	"fmt"
	"time"
)

// Departments' freshness: R18.

// evalFreshness is R18: every department publishes at least every N days
// (measured on the recorded clock from the hub's first tick).
func (v *View) evalFreshness(k wkey, detail bool) finding {
	code := v.deptCodes[k.idx]
	last := v.firstClock
	if x := v.depts[code]; x != nil && x.lastClock.After(last) {
		last = x.lastClock
	}
	n := time.Duration(v.p.freshnessDays) * 24 * time.Hour
	if last.IsZero() || v.clock.Sub(last) <= n {
		return finding{}
	}
	f := finding{broken: true, since: last.Add(n)}
	if detail {
		d, _ := v.cat.Department(code)
		f.message = fmt.Sprintf("%s已%d天未更新共享信息", d.Name, int(v.clock.Sub(last).Hours()/24))
	}
	return f
}
