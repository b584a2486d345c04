// Package simulate generates a realistic world of relocated households and
// the facts every department publishes about it over the years: Xianyang's 14
// counties (or Shaanxi, or the whole country for load tests), resettlement
// sites of realistic sizes, households and persons with ages, labour and
// disabilities, and each department's facts with the imperfections that make
// the policy rules fire (zero-employment households, late deeds, unfinished
// infrastructure, missed joint meetings, overdue tasks and issues assigned
// at meetings, a county's assessment scheme weighing the follow-up work
// below 30% and another's published late, children not enrolled, uninsured
// persons, a department going silent) plus a few bad events the hub must
// reject.
//
// Generation is a deterministic stream: the same Config gives the same
// events byte for byte (ids and times come from the simulated clock, never
// the wall clock or map order), and sites, households and persons are
// generated one after the other, so even the national scale runs in bounded
// memory.
package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// cst is China Standard Time, the zone of every effective time.
var cst = time.FixedZone("CST", 8*3600)

// Config configures a simulation. The zero value simulates Xianyang from
// 2019-01 to 2025-12 with seed 0.
type Config struct {
	// Scale is xianyang (default), shaanxi or national.
	Scale string
	// Seed makes another world; the same seed gives the same events.
	Seed uint64
	// From and To bound the simulated period (months; default 2019-01 to
	// 2025-12). Facts that took effect before From (relocations of 2016-2018
	// and what followed them) are part of the world's history and are
	// generated too; nothing after the end of To is.
	From, To time.Time
	// Persons overrides the scale's population; the number of sites
	// follows.
	Persons int
	// BadRate is the share of extra bad events (default 0.001; negative for
	// none).
	BadRate float64
	// Catalog is the event catalog (default: the embedded one).
	Catalog *schemas.Catalog
}

// Flaws of bad events.
const (
	FlawSchema   = "schema"    // the data violates the family's schema (an unknown field)
	FlawPosing   = "posing"    // published under another department's source, which may not publish it
	FlawIDNumber = "id_number" // a raw ID-card number in a note
)

// Event is one fact of the simulation and who publishes it.
type Event struct {
	// Dept is the publishing department as in /xianyang/<dept>.
	Dept string
	// Fact is the fact, with its id, subject and county set.
	Fact publishers.Fact
	// Subject is the NATS subject (<family>.<county>).
	Subject string
	// Source is the CloudEvent source: /xianyang/<Dept>, except for an
	// event posing as another department.
	Source string
	// Bad is true for an event the hub must reject; Flaw says why.
	Bad  bool
	Flaw string
	// Reported is when the department reports the fact on the simulated
	// clock (a little after it took effect; history before From is
	// reported at From).
	Reported time.Time
}

// Sim is a configured simulation. Events can be iterated any number of
// times and always yield the same events.
type Sim struct {
	cfg      Config
	cat      *schemas.Catalog
	counties []*county
	sites    []*siteSkel
	key      []byte    // HMAC key for person keys
	end      time.Time // first instant after To
	silent   silence
}

// silence is a department going quiet for some weeks.
type silence struct {
	dept     string
	from, to time.Time
}

// New prepares a simulation: the counties and the sites' sizes (a few bytes
// per site); nothing else is held.
func New(cfg Config) (*Sim, error) {
	if cfg.Scale == "" {
		cfg.Scale = ScaleXianyang
	}
	sc, ok := scales[cfg.Scale]
	if !ok {
		return nil, fmt.Errorf("simulate: scale %q is not xianyang, shaanxi or national", cfg.Scale)
	}
	if cfg.From.IsZero() {
		cfg.From = time.Date(2019, 1, 1, 0, 0, 0, 0, cst)
	}
	if cfg.To.IsZero() {
		cfg.To = time.Date(2025, 12, 1, 0, 0, 0, 0, cst)
	}
	cfg.From = time.Date(cfg.From.Year(), cfg.From.Month(), 1, 0, 0, 0, 0, cst)
	cfg.To = time.Date(cfg.To.Year(), cfg.To.Month(), 1, 0, 0, 0, 0, cst)
	if cfg.To.Before(cfg.From) {
		return nil, fmt.Errorf("simulate: --to %s is before --from %s", cfg.To.Format("2006-01"), cfg.From.Format("2006-01"))
	}
	if cfg.From.Year() < 2016 || cfg.To.Year() > 2035 {
		return nil, fmt.Errorf("simulate: the period must lie within 2016-01 and 2035-12")
	}
	if cfg.Persons < 0 {
		return nil, fmt.Errorf("simulate: --persons must be positive")
	}
	if cfg.BadRate == 0 {
		cfg.BadRate = 0.001
	}
	if cfg.Catalog == nil {
		cat, err := schemas.Load()
		if err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		cfg.Catalog = cat
	}
	persons, sites := sc.persons, sc.sites
	if cfg.Persons > 0 {
		sites = max(1, int(float64(sites)*float64(cfg.Persons)/float64(persons)+0.5))
		persons = cfg.Persons
	}
	s := &Sim{cfg: cfg, cat: cfg.Catalog, end: cfg.To.AddDate(0, 1, 0)}
	s.counties = buildCounties(cfg.Scale, cfg.Catalog)
	sites = max(sites, min(len(s.counties), persons/40))
	s.sites = buildSites(s.counties, persons, sites, s.rng(0, 0))
	s.key = []byte(fmt.Sprintf("anzhi-simulator-person-key-%d", cfg.Seed))
	// One department goes silent for six to eight weeks.
	rng := s.rng(0, 1)
	quiet := []string{"civil", "justice", "hrss", "police"}
	mid := cfg.From.Add(cfg.To.Sub(cfg.From) / 2)
	from := mid.AddDate(0, 0, -rng.IntN(120))
	s.silent = silence{dept: quiet[rng.IntN(len(quiet))], from: from, to: from.AddDate(0, 0, 42+rng.IntN(15))}
	return s, nil
}

// Config returns the simulation's configuration with its defaults.
func (s *Sim) Config() Config { return s.cfg }

// Counties returns the county codes of the world in order.
func (s *Sim) Counties() []string {
	out := make([]string, len(s.counties))
	for i, c := range s.counties {
		out[i] = c.code
	}
	return out
}

// Sites returns the number of sites and persons of the world.
func (s *Sim) Sites() (sites, persons int) {
	for _, k := range s.sites {
		persons += k.persons
	}
	return len(s.sites), persons
}

// Silence returns the department that goes silent and when.
func (s *Sim) Silence() (dept string, from, to time.Time) {
	return s.silent.dept, s.silent.from, s.silent.to
}

// rng returns a generator for a stream of the simulation (a site, a
// county, the city), independent of every other stream.
func (s *Sim) rng(stream, n uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix(s.cfg.Seed, stream), mix(n, stream^0x9e3779b97f4a7c15)))
}

// mix is splitmix64 of a and b.
func mix(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 + b + 0x632be59bd9b4e5f5
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Events yields the simulation's events: the responsibility list, then
// county by county each site with its households and persons, the county's
// own facts, and last the city's meetings, task progress, the progress on
// the issues the meetings assigned and the counties' assessment schemes.
func (s *Sim) Events(yield func(Event) bool) {
	g := &gen{s: s, yield: yield, flaws: s.rng(0, 2)}
	if !g.cityStart() {
		return
	}
	for ci, c := range s.counties {
		cs := &countyState{c: c, rng: s.rng(1, uint64(ci))}
		for _, k := range c.sites {
			if !g.site(k, cs) {
				return
			}
		}
		if !g.county(cs) {
			return
		}
	}
	g.cityEnd()
}

// All is Events as an iterator.
func (s *Sim) All() iter.Seq[Event] { return s.Events }

// gen is one pass over the world.
type gen struct {
	s     *Sim
	yield func(Event) bool
	flaws *rand.Rand
	n     int // events yielded
	stop  bool
}

// emit yields one fact unless it lies after the period or in the silent
// department's quiet weeks, and now and then a bad twin of it. It reports
// whether to go on.
func (g *gen) emit(dept, family, county, subject string, t time.Time, data json.RawMessage) bool {
	if g.stop {
		return false
	}
	if !t.Before(g.s.end) {
		return true
	}
	if dept == g.s.silent.dept && !t.Before(g.s.silent.from) && t.Before(g.s.silent.to) {
		return true
	}
	ev := newEvent(dept, family, county, subject, t, data)
	ev.Reported = later(t, g.s.cfg.From).Add(time.Duration(1+g.flaws.IntN(72*14)) * 20 * time.Minute)
	if !g.out(ev) {
		return false
	}
	if g.s.cfg.BadRate > 0 && g.flaws.Float64() < g.s.cfg.BadRate {
		return g.out(g.spoil(ev))
	}
	return true
}

// newEvent is a department's fact, reported when it takes effect.
func newEvent(dept, family, county, subject string, t time.Time, data json.RawMessage) Event {
	return Event{
		Dept: dept, Source: fact.SourceFor(dept), Subject: fact.SubjectFor(family, county),
		Fact: publishers.Fact{Family: family, County: county, Subject: subject, Time: t, Data: data,
			ID: publishers.DeriveID(family, subject, t, data)},
		Reported: t,
	}
}

func (g *gen) out(ev Event) bool {
	g.n++
	if !g.yield(ev) {
		g.stop = true
		return false
	}
	return true
}

// spoil returns a bad twin of an event: a schema violation, another
// department's source, or a raw ID-card number in a note.
func (g *gen) spoil(ev Event) Event {
	bad := ev
	bad.Bad = true
	data := ev.Fact.Data.(json.RawMessage)
	switch g.flaws.IntN(3) {
	case 0:
		bad.Flaw = FlawSchema
		bad.Fact.Data = append(append(json.RawMessage{}, data[:len(data)-1]...), `,"remark":"补录"}`...)
	case 1:
		bad.Flaw = FlawPosing
		bad.Source = fact.SourceFor(g.poser(ev))
		bad.Fact.ID = ev.Fact.ID + "-p"
		return bad
	default:
		if bytes.Contains(data, []byte(`"note":`)) {
			bad.Flaw = FlawSchema
			bad.Fact.Data = append(append(json.RawMessage{}, data[:len(data)-1]...), `,"remark":"补录"}`...)
			break
		}
		bad.Flaw = FlawIDNumber
		id := syntheticID(ev.Fact.County, 1970+g.flaws.IntN(30), g.flaws.IntN(182_500), g.flaws.IntN(2) == 0)
		bad.Fact.Data = append(append(json.RawMessage{}, data[:len(data)-1]...), `,"note":"经核实身份证号`+id+`"}`...)
	}
	bad.Fact.ID = publishers.DeriveID(ev.Fact.Family, ev.Fact.Subject, ev.Fact.Time, bad.Fact.Data.(json.RawMessage))
	return bad
}

// poser picks a department that may not publish the event's family: a
// county government speaking for another county, or an unrelated department.
func (g *gen) poser(ev Event) string {
	if len(ev.Dept) > 7 && ev.Dept[:7] == "county/" && len(g.s.counties) > 1 {
		for _, c := range g.s.counties {
			if c.code != ev.Fact.County {
				return "county/" + c.code
			}
		}
	}
	fam, _ := g.s.cat.Family(ev.Fact.Family)
	for _, d := range []string{"justice", "commerce", "forestry", "edu"} {
		allowed := false
		for _, o := range fam.Owners {
			allowed = allowed || o == d || o == "*"
		}
		if !allowed {
			return d
		}
	}
	return "audit"
}
