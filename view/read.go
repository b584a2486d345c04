package view

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// ErrNotFound means the view has no such entity.
var ErrNotFound = errors.New("not found")

// FactRef points at the fact that set a value: its family, its key (the
// hub resolves it to a log sequence) and when it took effect, as a date and
// as a time (both in China Standard Time).
type FactRef struct {
	Family      string    `json:"family"`
	Key         string    `json:"key"`           // 16 hex digits: fact.Key(source, id)
	Seq         uint64    `json:"seq,omitempty"` // log sequence, filled by the hub
	EffectiveOn string    `json:"effective_on"`  // 2020-09-01
	Time        time.Time `json:"time"`
}

// ref points at the fact of a family with the key, in effect from eff;
// nil while no fact set the value (key 0).
func ref(family string, key uint64, eff etime) *FactRef {
	if key == 0 {
		return nil
	}
	return &FactRef{Family: family, Key: strconv.FormatUint(key, 16), EffectiveOn: dateOn(eff.Time()), Time: shown(eff.Time())}
}

// PersonView is a member of a household.
type PersonView struct {
	PersonKey   string                `json:"person_key"`
	BirthYear   int                   `json:"birth_year,omitempty"`
	Age         int                   `json:"age,omitempty"`
	Sex         string                `json:"sex,omitempty"`
	Labour      string                `json:"labour_capacity,omitempty"`
	Disabled    bool                  `json:"disabled"`
	Status      string                `json:"status"`
	Registered  bool                  `json:"registered"`
	Obligations map[string]Obligation `json:"obligations"`
}

// HouseholdView is what the shared view knows of a household.
type HouseholdView struct {
	HouseholdID    string                `json:"household_id"`
	County         string                `json:"county"`
	Site           string                `json:"site_id,omitempty"`
	Registered     bool                  `json:"registered"`
	Status         string                `json:"status"`
	Size           *int                  `json:"size"`         // null until registered
	LabourCount    *int                  `json:"labour_count"` // null until registered
	RegisteredPoor bool                  `json:"registered_poor"`
	RelocatedOn    string                `json:"relocated_on,omitempty"`
	Members        []PersonView          `json:"members"`
	Obligations    map[string]Obligation `json:"obligations"`
	// Secure is 两不愁三保障 as the view can see it.
	Secure   bool       `json:"two_assurances_three_guarantees"`
	Warnings []*Warning `json:"warnings"`
	// Notes say what the view does not know yet (see present.go).
	Notes []string `json:"notes,omitempty"`
}

// HouseholdID returns the id of a household the view knows, as the view
// writes it (H610424-000001 for H610424-1), without building its view.
func (v *View) HouseholdID(id string) (string, bool) {
	k, ok := householdKey(id)
	if !ok {
		return "", false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	hi, ok := v.hhIdx[k]
	if !ok {
		return "", false
	}
	return householdID(v.households.at(hi).key), true
}

// Household returns a household by id (H610424-000123).
func (v *View) Household(id string) (*HouseholdView, error) {
	k, ok := householdKey(id)
	if !ok {
		return nil, ErrNotFound
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	hi, ok := v.hhIdx[k]
	if !ok {
		return nil, ErrNotFound
	}
	h := v.households.at(hi)
	out := &HouseholdView{
		HouseholdID: householdID(h.key), County: countyOfHousehold(h.key), Registered: h.registered,
		Status: statusNames[min(int(h.status), 2)], Size: ifRegistered(h.registered, h.size), LabourCount: ifRegistered(h.registered, h.labourCount),
		RegisteredPoor: h.poor, RelocatedOn: h.relocated.String(), Secure: h.bits.has(cSecure),
		Members: []PersonView{}, Warnings: []*Warning{},
	}
	if h.site != 0 {
		out.Site = v.sites[h.site-1].id
	}
	// The obligations render from the tables of obligation.go, each
	// family's in its domain's file.
	out.Obligations = make(map[string]Obligation, len(householdObligations))
	for _, o := range householdObligations {
		out.Obligations[o.name] = o.render(h)
	}
	var members []uint32
	for q := h.first; q != 0; q = v.persons.at(q - 1).next {
		members = append(members, q-1)
	}
	// Hex preserves the order of the bytes it encodes.
	sort.Slice(members, func(i, j int) bool {
		return bytes.Compare(v.personKeys.at(members[i])[:], v.personKeys.at(members[j])[:]) < 0
	})
	for _, pi := range members {
		out.Members = append(out.Members, v.personView(pi))
	}
	for _, d := range v.defs.byKind[entHousehold] {
		if w := v.warnings[wkey{rule: d.id, kind: entHousehold, idx: hi}]; w != nil {
			d := v.describe(w)
			out.Warnings = append(out.Warnings, &d)
		}
	}
	for _, pi := range members {
		for _, d := range v.defs.byKind[entPerson] {
			if w := v.warnings[wkey{rule: d.id, kind: entPerson, idx: pi}]; w != nil {
				d := v.describe(w)
				out.Warnings = append(out.Warnings, &d)
			}
		}
	}
	sortWarnings(out.Warnings)
	out.Notes = householdNotes(out)
	return out, nil
}

// personView is a member as the household's page shows it, with the
// obligations of personObligations.
func (v *View) personView(pi uint32) PersonView {
	p := v.persons.at(pi)
	pv := PersonView{
		PersonKey: hex.EncodeToString(v.personKeys.at(pi)[:]), BirthYear: int(p.birthYear),
		Sex: sexNames[min(int(p.sex), 2)], Labour: labourNames[min(int(p.labour), 4)], Disabled: p.disability == 1,
		Status: statusNames[min(int(p.status), 2)], Registered: p.registered,
	}
	if a := v.age(p); a >= 0 && p.birthYear != 0 {
		pv.Age = a
	}
	pv.Obligations = make(map[string]Obligation, len(personObligations))
	for _, o := range personObligations {
		pv.Obligations[o.name] = o.render(p)
	}
	return pv
}

// Indicators are an area's counters and the rates the guidance sets targets
// for.
type Indicators struct {
	Counts map[string]int64   `json:"counts"`
	Rates  map[string]float64 `json:"rates"`
}

// rate is num/den rounded to four decimals, 0 when den is.
func rate(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return float64(int64(float64(num)/float64(den)*10000+0.5)) / 10000
}

// indicators are an area's counters by name and its rates.
func indicators(c *counters) Indicators {
	out := Indicators{Counts: make(map[string]int64, nCounters), Rates: map[string]float64{}}
	for i, n := range c {
		out.Counts[counterNames[i]] = n
	}
	for _, r := range rateDefs {
		out.Rates[r.name] = rate(c[r.num], c[r.den])
	}
	return out
}

// rateDefs are the rates of Indicators: each one counter's share of
// another.
var rateDefs = []struct {
	name     string
	num, den counter
}{
	{"employment", cHouseholdsEmployed, cHouseholdsLabour},
	{"insured", cInsuredBoth, cPersons},
	{"enrolled", cEnrolled, cSchoolAge},
	{"pension", cPensionEnrolled, cPensionEligible},
	{"deeds", cDeeds, cHouseholds},
	{"hukou", cHukouHouseholds, cHouseholds},
	{"reclamation", cReclaimed, cHouseholds},
	{"training_to_employment_6m", cTrainedEmployed, cTrainedDue},
	{"secure", cSecure, cHouseholds},
	{"infrastructure_complete", cInfraAll, cSites},
	{"project_jobs_relocated", cProjectJobsRelocated, cProjectJobs},
}

// measured reports whether an area's rate has a base to be a share of (a
// rate of nothing reads 0 but measures nothing).
func measured(c *counters, rate string) bool {
	for _, r := range rateDefs {
		if r.name == rate {
			return c[r.den] > 0
		}
	}
	return false
}

// RateBase names the count (of Indicators.Counts) a rate is a share of:
// households for secure. A rate whose base is 0 measures nothing (it reads
// 0).
func RateBase(rate string) (string, bool) {
	for _, r := range rateDefs {
		if r.name == rate {
			return counterNames[r.den], true
		}
	}
	return "", false
}

// FacilityView is a clinic, school, workshop, park or other unit of a site.
type FacilityView struct {
	ID    string   `json:"id"`
	Kind  string   `json:"kind,omitempty"`
	Open  bool     `json:"open"`
	Seats int64    `json:"seats,omitempty"`
	Jobs  int64    `json:"relocated_jobs,omitempty"`
	Fact  *FactRef `json:"fact,omitempty"`
}

// SiteView is what the shared view knows of a resettlement site.
type SiteView struct {
	SiteID         string                    `json:"site_id"`
	Name           string                    `json:"name,omitempty"`
	County         string                    `json:"county"`
	Registered     bool                      `json:"registered"`
	Kind           string                    `json:"kind,omitempty"`
	Setting        string                    `json:"setting,omitempty"`
	Status         string                    `json:"status,omitempty"`
	PlannedHH      int64                     `json:"planned_households"`
	PlannedPersons int64                     `json:"planned_persons"`
	Infrastructure map[string]Obligation     `json:"infrastructure"`
	Facilities     map[string][]FacilityView `json:"facilities"`
	Indicators     Indicators                `json:"indicators"`
	Warnings       map[string]int            `json:"warnings_open_by_rule"`
}

// Site returns a site by id.
func (v *View) Site(id string) (*SiteView, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	si, ok := v.siteIdx[id]
	if !ok {
		return nil, ErrNotFound
	}
	s := v.sites[si]
	out := &SiteView{
		SiteID: s.id, Name: s.name, County: s.county, Registered: s.known, Setting: s.setting, Status: s.status,
		PlannedHH: s.planHH, PlannedPersons: s.planPop, Infrastructure: map[string]Obligation{},
		Facilities: map[string][]FacilityView{}, Indicators: indicators(&s.area.c), Warnings: map[string]int{},
	}
	if s.known {
		out.Kind = map[bool]string{true: "centralized", false: "dispersed"}[s.central]
	}
	for i, it := range infraItems {
		out.Infrastructure[it] = Obligation{State: infraStatusNames[s.infra[i]],
			Met: infraMet(s.infra[i]), Fact: ref("infra."+it, s.infraReg[i].key, s.infraReg[i].eff)}
	}
	for name, m := range map[string]map[string]*facility{"clinics": s.clinics, "schools": s.schools, "workshops": s.workshops,
		"industrial_parks": s.parks, "self_governance_units": s.units, "party_organisations": s.party, "ecommerce_points": s.ecommerce} {
		list := []FacilityView{}
		for id, x := range m {
			list = append(list, FacilityView{ID: id, Kind: x.kind, Open: x.open, Seats: x.seats, Jobs: x.jobs, Fact: ref("", x.key, x.eff)})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		out.Facilities[name] = list
	}
	for _, d := range v.defs.byKind[entSite] {
		for _, sub := range d.partsOf() {
			if _, ok := v.warnings[wkey{rule: d.id, kind: entSite, sub: sub, idx: si}]; ok {
				out.Warnings[d.id.String()]++
			}
		}
	}
	return out, nil
}

// AreaView is a county or the city.
type AreaView struct {
	Code       string         `json:"code"`
	Name       string         `json:"name"`
	Sites      int            `json:"sites"`
	Indicators Indicators     `json:"indicators"`
	Warnings   map[string]int `json:"warnings_open_by_rule"`
	Counties   []AreaSummary  `json:"counties,omitempty"`
	SiteIDs    []string       `json:"site_ids,omitempty"`
	Population Population     `json:"population"`
	Clock      time.Time      `json:"as_of,omitzero"` // absent before the first hub.tick
	Seq        uint64         `json:"log_seq"`
	Notes      []string       `json:"notes,omitempty"`
}

// AreaSummary is one line of a county table. Persons and Households are
// the registered ones the indicators count; Population says how many more
// the view knows of.
type AreaSummary struct {
	Code       string             `json:"code"`
	Name       string             `json:"name"`
	Persons    int64              `json:"persons"`
	Households int64              `json:"households"`
	Sites      int                `json:"sites"`
	Population Population         `json:"population"`
	Rates      map[string]float64 `json:"rates"`
	Warnings   int                `json:"warnings_open"`
}

// areaView is what a county and the city show alike: indicators, open
// warnings by rule, the clock and log sequence.
func (v *View) areaView(a *area) *AreaView {
	out := &AreaView{Code: a.code, Name: a.name, Sites: a.sites, Indicators: indicators(&a.c),
		Warnings: make(map[string]int, len(a.warns)), Clock: shown(v.clock), Seq: v.seq}
	for r, n := range a.warns {
		out.Warnings[r] = n
	}
	return out
}

// County returns a county by code.
func (v *View) County(code string) (*AreaView, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.counties[code]
	if !ok {
		return nil, ErrNotFound
	}
	out := v.areaView(a)
	out.SiteIDs = append([]string(nil), a.childs...)
	sort.Strings(out.SiteIDs)
	out.Population = v.countyPopulation(a)
	out.Notes = areaNotes(v.clock, out.Population)
	return out, nil
}

// City returns the city with a summary line per county.
func (v *View) City() *AreaView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := v.areaView(v.city)
	out.Counties = v.countySummaries()
	out.Population = v.cityPopulation()
	out.Notes = areaNotes(v.clock, out.Population)
	return out
}

// DepartmentView is what the view knows of a department.
type DepartmentView struct {
	Code            string           `json:"code"`
	Name            string           `json:"name"`
	Published       int64            `json:"published"`
	Rejected        int64            `json:"rejected"`
	ByFamily        map[string]int64 `json:"published_by_family"`
	LastPublication time.Time        `json:"last_publication,omitzero"`
	DaysSilent      int              `json:"days_since_last_publication"`
	Tasks           []TaskView       `json:"tasks"`
	Warnings        []*Warning       `json:"warnings"`
}

// Department returns a department (edu, county/610424).
func (v *View) Department(code string) (*DepartmentView, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if _, err := v.cat.ParsePublisher(code); err != nil {
		return nil, ErrNotFound
	}
	out := &DepartmentView{Code: code, ByFamily: map[string]int64{}, Tasks: []TaskView{}, Warnings: []*Warning{}}
	out.Name = v.departmentName(code)
	if d := v.depts[code]; d != nil {
		out.Published, out.Rejected, out.LastPublication = d.published, d.rejected, shown(d.last)
		for f, n := range d.byFamily {
			out.ByFamily[f] = n
		}
	}
	out.DaysSilent = v.daysSilent(out.LastPublication)
	out.Tasks = v.unitTasks(code)
	for k, w := range v.warnings {
		if containsString(v.responsibleOf(k, w.level == 1), code) {
			d := v.describe(w)
			out.Warnings = append(out.Warnings, &d)
		}
	}
	sortWarnings(out.Warnings)
	return out, nil
}

// WarningQuery filters warnings; empty fields match all.
type WarningQuery struct {
	County string
	Rule   string
	State  string // open, acknowledged, escalated
	Dept   string
}

// SupervisionStates are the values of WarningQuery.State.
func SupervisionStates() []string { return supervisionNames[:] }

// QueryError names the field of a WarningQuery that cannot be used, its
// value and why (Field is the query parameter's name: county, rule, state,
// dept).
type QueryError struct {
	Field, Value, Why string
}

func (e *QueryError) Error() string { return fmt.Sprintf("%s=%q: %s", e.Field, e.Value, e.Why) }

// Check refuses a query naming what the catalog does not have.
func (q WarningQuery) Check(cat *schemas.Catalog) *QueryError {
	if q.County != "" && !cat.ValidArea(q.County) {
		return &QueryError{"county", q.County, fmt.Sprintf("not a county of %s (six-digit GB/T 2260 code such as 610424, or %s for the city)",
			cat.City.Name, cat.City.Code)}
	}
	if q.Rule != "" {
		if _, ok := cat.Rules().Rule(q.Rule); !ok {
			return &QueryError{"rule", q.Rule, fmt.Sprintf("not a rule of the rule book (R1 to R%d)", len(cat.Rules().Rules))}
		}
	}
	if q.State != "" && !slices.Contains(SupervisionStates(), q.State) {
		return &QueryError{"state", q.State, fmt.Sprintf("not a supervision state (%s)", strings.Join(SupervisionStates(), ", "))}
	}
	if q.Dept != "" {
		if _, err := cat.ParsePublisher(q.Dept); err != nil {
			return &QueryError{"dept", q.Dept, err.Error()}
		}
	}
	return nil
}

// Warnings returns every open warning matching q, ordered by rule number
// and then entity id (see WarningsPage for a page at a time).
func (v *View) Warnings(q WarningQuery) []Warning {
	ws, _ := v.WarningsPage(q, "", "", math.MaxInt)
	return ws
}

// WarningsPage returns up to limit open warnings matching q, ordered by rule
// number then entity id, starting after the warning (afterRule,
// afterEntity) when given, and whether more follow. Only the page is
// described, so a page stays cheap with hundreds of thousands open.
func (v *View) WarningsPage(q WarningQuery, afterRule, afterEntity string, limit int) ([]Warning, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	rule, _ := v.knownRule(q.Rule)
	state := -1
	for i, n := range supervisionNames {
		if n == q.State {
			state = i
		}
	}
	type hit struct {
		w      *warning
		entity string
	}
	var hits []hit
	for k, w := range v.warnings {
		if q.Rule != "" && k.rule != rule {
			continue
		}
		if q.State != "" && int(w.sup) != state {
			continue
		}
		if q.County != "" && v.entityArea(k) != q.County {
			continue
		}
		if q.Dept != "" && !containsString(v.responsibleOf(k, w.level == 1), q.Dept) {
			continue
		}
		hits = append(hits, hit{w, v.entityID(k)})
	}
	less := func(r RuleID, e string, h hit) bool { // (r, e) before h
		if r != h.w.key.rule {
			return r < h.w.key.rule
		}
		return e < h.entity
	}
	sort.Slice(hits, func(i, j int) bool { return less(hits[i].w.key.rule, hits[i].entity, hits[j]) })
	start := 0
	if afterRule != "" {
		r, _ := v.knownRule(afterRule)
		start = sort.Search(len(hits), func(i int) bool { return less(r, afterEntity, hits[i]) })
	}
	end := len(hits)
	if limit < end-start {
		end = start + max(limit, 0)
	}
	out := make([]Warning, 0, end-start)
	for _, h := range hits[start:end] {
		out = append(out, v.describe(h.w))
	}
	return out, end < len(hits)
}

// sortWarnings orders warnings by rule number, then entity id.
func sortWarnings(ws []*Warning) {
	sort.Slice(ws, func(i, j int) bool {
		if c := CompareRules(ws[i].Rule, ws[j].Rule); c != 0 {
			return c < 0
		}
		return ws[i].EntityID < ws[j].EntityID
	})
}

// Stats are sizes of the view.
type Stats struct {
	Seq        uint64    `json:"log_seq"`
	Clock      time.Time `json:"clock"`
	Facts      uint64    `json:"facts"`
	Persons    int       `json:"persons"`
	Households int       `json:"households"`
	Sites      int       `json:"sites"`
	Warnings   int       `json:"warnings_open"`
}

// Stats returns the view's sizes.
func (v *View) Stats() Stats {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return Stats{Seq: v.seq, Clock: v.clock, Facts: v.facts, Persons: v.persons.len(), Households: v.households.len(),
		Sites: len(v.sites), Warnings: len(v.warnings)}
}
