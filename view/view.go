// Package view is anzhi's shared information view (信息共享): a
// deterministic fold of the canonical log into households, persons, sites,
// counties, the city and departments, with aggregate indicators kept
// incrementally, and the policy rules that turn what the view shows into early
// warnings (预警) under supervision (督办). It imports no NATS code: the hub
// feeds it log entries and hub.tick clock entries, and serves what it reads.
//
// The fold is order-insensitive across departments: every group of facts
// about an entity (a person's enrolment, a household's deed, a site's water
// supply) is a last-writer-wins register ordered by the fact's effective time
// and then its key, so a late fact lands where it belongs and two
// interleavings of the same facts give the same view.
package view

import (
	"sync"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// View is the shared view. Apply and Tick mutate it from one goroutine;
// readers use the Read methods concurrently.
type View struct {
	mu    sync.RWMutex
	cat   *schemas.Catalog
	rules *schemas.RuleBook
	defs  ruleTable            // the rules evaluated
	folds map[string]entryFold // the families folded
	p     params

	seq   uint64    // last log sequence folded
	clock time.Time // last hub.tick
	facts uint64    // facts folded

	persons     chunks[person]
	personKeys  chunks[[32]byte]
	personIdx   personIndex
	households  chunks[household]
	hhIdx       map[uint64]uint32
	sites       []*site
	siteIdx     map[string]uint32
	counties    map[string]*area
	city        *area
	depts       map[string]*dept
	projects    map[string]*project
	plan        *plan    // the responsibility list, meetings and assessment schemes (plan.go)
	findings    findings // audit and inspection findings (findings.go)
	warnings    map[wkey]*warning
	warnByID    map[uint64]wkey // by the warning id's hash
	projectList []*project      // projects by index (warnings refer to them by index)
	deptCodes   []string        // registry departments by index (R18 warnings)
	esc         escHeap
	reports     map[string]*report              // issue.report by report id
	reportsFor  map[string][]*report            // by warning id, also for warnings not raised yet
	firstClock  time.Time                       // first hub.tick: departments are judged fresh from here
	census      census                          // known and registered households and persons by county
	history     map[historyKey]*[nHistory]int64 // warnings' supervision history by area and month
	siteHH      map[uint32][]uint32             // households of each site (by site index), unordered

	dirtyPersons    bitset
	dirtyHouseholds bitset
	dirtySites      map[uint32]struct{}
	dirtyProjects   map[string]struct{}
	dirtyFindings   bool     // a finding changed since the last sweep
	touched         touchSet // what a Fold call touched, while one asks
	tl              timeline // entries about each entity, for timelines (timeline.go)
	version         uint64   // bumped on every change, for caches
}

// New returns an empty view over the catalog's rules.
func New(cat *schemas.Catalog) (*View, error) {
	p, err := loadParams(cat.Rules())
	if err != nil {
		return nil, err
	}
	v := &View{
		cat: cat, rules: cat.Rules(), defs: newRuleTable(), folds: foldTable(), p: p,
		hhIdx: map[uint64]uint32{}, siteIdx: map[string]uint32{},
		counties: map[string]*area{}, depts: map[string]*dept{}, projects: map[string]*project{},
		plan: newPlan(cat), findings: findings{idx: map[string]uint32{}}, warnings: map[wkey]*warning{},
		reports: map[string]*report{}, warnByID: map[uint64]wkey{}, reportsFor: map[string][]*report{},
		dirtySites: map[uint32]struct{}{}, dirtyProjects: map[string]struct{}{},
		history: map[historyKey]*[nHistory]int64{}, siteHH: map[uint32][]uint32{}, tl: newTimeline(),
	}
	v.esc.v = v
	for _, d := range cat.Departments() {
		v.deptCodes = append(v.deptCodes, d.Code)
	}
	v.city = newArea(cat.City.Code, cat.City.Name, nil)
	for _, k := range cat.Counties() {
		v.counties[k.Code] = newArea(k.Code, k.Name, v.city)
	}
	return v, nil
}

// Seq returns the log sequence of the last entry folded.
func (v *View) Seq() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.seq
}

// Clock returns the view's clock: the time of the last hub.tick folded.
func (v *View) Clock() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.clock
}

// Version changes whenever the view changes.
func (v *View) Version() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.version
}

// Apply folds one log entry. Entries must come in log order; an entry at or
// below the current sequence is ignored (a replay overlapping a snapshot).
// It returns the warning changes the entry caused (only hub.tick entries
// cause any: rules are swept on the recorded clock).
func (v *View) Apply(e *fact.Entry) []Change {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.apply(e)
}

// LogEntry is an entry of the canonical log: an accepted fact, or a
// rejection of a department's message (RejectedBy names the department).
type LogEntry struct {
	fact.Entry
	RejectedBy string
}

// ApplyLog folds log entries in order under one lock (Fold without asking
// what they touched).
func (v *View) ApplyLog(es []LogEntry) []Change { return v.Fold(es, nil) }

func (v *View) apply(e *fact.Entry) []Change {
	if e.Seq != 0 && e.Seq <= v.seq {
		return nil
	}
	if e.Seq != 0 {
		v.seq = e.Seq
	}
	if e.Family == accessFamily {
		return nil // the auditors' record of a read: it changes nothing here
	}
	v.version++
	v.facts++
	d := v.dept(e.Dept())
	d.published++
	d.byFamily[e.Family]++
	if e.Recorded.After(d.last) {
		d.last = e.Recorded
	}
	if v.clock.After(d.lastClock) {
		d.lastClock = v.clock
	}
	if v.touched.on {
		v.touched.city = true
		v.markCounty(e.Area)
	}
	if e.Family == clockFamily {
		return v.tick(e)
	}
	if fold := v.folds[e.Family]; fold != nil {
		fold(v, e)
	}
	return nil
}

// NoteRejected counts a rejection against a department.
func (v *View) NoteRejected(dept string, seq uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.noteRejected(dept, seq)
}

func (v *View) noteRejected(dept string, seq uint64) {
	if seq != 0 && seq <= v.seq {
		return
	}
	if seq != 0 {
		v.seq = seq
	}
	v.version++
	v.dept(dept).rejected++
}

// Pending reports whether facts were folded since the last tick, so that
// the hub knows a rule sweep is due.
func (v *View) Pending() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.dirtyPersons.len()+v.dirtyHouseholds.len()+len(v.dirtySites)+len(v.dirtyProjects) > 0
}

// Advance records that the log has reached seq without an entry the view
// folds (e.g. a gap), so that Seq reflects the log's position.
func (v *View) Advance(seq uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if seq > v.seq {
		v.seq = seq
	}
}

// Time encodings: effective times in seconds and dates in days since 2000
// keep entities small (the view must hold millions of persons).

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// etime is an effective time: seconds since 2000-01-01 UTC (until 2136).
type etime uint32

func toETime(t time.Time) etime {
	s := t.Unix() - epoch.Unix()
	switch {
	case s < 0:
		return 0
	case s > 1<<32-1:
		return 1<<32 - 1
	}
	return etime(s)
}

func (t etime) Time() time.Time { return time.Unix(epoch.Unix()+int64(t), 0).UTC() }

// day is a calendar date: days since 2000-01-01 (until 2179); 0 is unknown.
type day uint16

func toDay(t time.Time) day {
	d := t.Sub(epoch).Hours() / 24
	switch {
	case d < 1:
		return 1
	case d > 1<<16-1:
		return 1<<16 - 1
	}
	return day(d)
}

func parseDay(s string) day {
	if s == "" {
		return 0
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0
	}
	return toDay(t)
}

func (d day) Time() time.Time { return epoch.AddDate(0, 0, int(d)) }

func (d day) String() string {
	if d == 0 {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

// Supersedes reports whether fact a replaces fact b as the state of the
// same thing (a register: a finding's status, a site's item): the later
// effective time wins, ties broken by the larger fact key, so the answer
// does not depend on the order the facts arrived in. Readers outside the
// view that keep a latest state (the auditors' findings ledger) use it.
func Supersedes(a, b *fact.Entry) bool {
	return newer(toETime(a.Time), a.Key(), toETime(b.Time), b.Key())
}

// newer reports whether a fact (eff, key) wins over the register's current
// (eff, key): later effective time, ties broken by the larger key.
func newer(eff etime, key uint64, curEff etime, curKey uint64) bool {
	if curKey == 0 {
		return true
	}
	if eff != curEff {
		return eff > curEff
	}
	return key >= curKey
}
