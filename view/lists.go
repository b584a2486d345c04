package view

import (
	"sort"
	"time"
)

// Lists the dashboard's pages show: a county's sites, a site's households
// and every publishing unit, each read from the view's indexes (a county's
// site ids, a site's household list, the department records) so that no
// page scans every household.

// SiteSummary is one line of a county's table of sites.
type SiteSummary struct {
	SiteID     string             `json:"site_id"`
	Name       string             `json:"name,omitempty"`
	Kind       string             `json:"kind,omitempty"`
	Registered bool               `json:"registered"`
	PlannedHH  int64              `json:"planned_households"`
	Households int64              `json:"households"`
	Persons    int64              `json:"persons"`
	InfraDone  int                `json:"infrastructure_done"` // of the 8 items
	Rates      map[string]float64 `json:"rates"`
	Warnings   int                `json:"warnings_open"`
}

// InfrastructureItems is how many infrastructure items a site is judged on.
const InfrastructureItems = len(infraItems)

// CountySites returns the sites of a county, ordered by id.
func (v *View) CountySites(code string) ([]SiteSummary, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	a, ok := v.counties[code]
	if !ok {
		return nil, ErrNotFound
	}
	out := make([]SiteSummary, 0, len(a.childs))
	for _, id := range a.childs {
		si, ok := v.siteIdx[id]
		if !ok {
			continue
		}
		s := v.sites[si]
		ind := indicators(&s.area.c)
		line := SiteSummary{SiteID: s.id, Name: s.name, Registered: s.known, PlannedHH: s.planHH,
			Households: s.area.c[cHouseholds], Persons: s.area.c[cPersons], Rates: ind.Rates}
		if s.known {
			line.Kind = map[bool]string{true: "centralized", false: "dispersed"}[s.central]
		}
		for _, st := range s.infra {
			if infraMet(st) {
				line.InfraDone++
			}
		}
		for _, d := range v.defs.byKind[entSite] {
			for _, sub := range d.partsOf() {
				if _, ok := v.warnings[wkey{rule: d.id, kind: entSite, sub: sub, idx: si}]; ok {
					line.Warnings++
				}
			}
		}
		out = append(out, line)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SiteID < out[j].SiteID })
	return out, nil
}

// HouseholdSummary is one line of a site's table of households.
type HouseholdSummary struct {
	HouseholdID    string `json:"household_id"`
	Registered     bool   `json:"registered"`
	Status         string `json:"status"`
	Size           *int   `json:"size"`
	RegisteredPoor bool   `json:"registered_poor"`
	RelocatedOn    string `json:"relocated_on,omitempty"`
	Secure         bool   `json:"two_assurances_three_guarantees"`
	Warnings       int    `json:"warnings_open"` // the household's and its members'
}

// SiteHouseholds returns up to limit households of a site ordered by id,
// starting after the household id after (when given), and whether more
// follow.
func (v *View) SiteHouseholds(id, after string, limit int) ([]HouseholdSummary, bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	si, ok := v.siteIdx[id]
	if !ok {
		return nil, false, ErrNotFound
	}
	type member struct {
		id string
		hi uint32
	}
	list := make([]member, len(v.siteHH[si]))
	for i, hi := range v.siteHH[si] {
		list[i] = member{householdID(v.households.at(hi).key), hi}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	start := 0
	if after != "" {
		start = sort.Search(len(list), func(i int) bool { return list[i].id > after })
	}
	end := min(len(list), start+max(limit, 0))
	out := make([]HouseholdSummary, 0, end-start)
	for _, l := range list[start:end] {
		hi := l.hi
		h := v.households.at(hi)
		line := HouseholdSummary{HouseholdID: l.id, Registered: h.registered,
			Status: statusNames[min(int(h.status), 2)], Size: ifRegistered(h.registered, h.size),
			RegisteredPoor: h.poor, RelocatedOn: h.relocated.String(), Secure: h.bits.has(cSecure)}
		for _, d := range v.defs.byKind[entHousehold] {
			if _, ok := v.warnings[wkey{rule: d.id, kind: entHousehold, idx: hi}]; ok {
				line.Warnings++
			}
		}
		for q := h.first; q != 0; q = v.persons.at(q - 1).next {
			for _, d := range v.defs.byKind[entPerson] {
				if _, ok := v.warnings[wkey{rule: d.id, kind: entPerson, idx: q - 1}]; ok {
					line.Warnings++
				}
			}
		}
		out = append(out, line)
	}
	return out, end < len(list), nil
}

// DepartmentSummary is one line of the table of publishing units.
type DepartmentSummary struct {
	Code            string    `json:"code"`
	Name            string    `json:"name"`
	Published       int64     `json:"published"`
	Rejected        int64     `json:"rejected"`
	LastPublication time.Time `json:"last_publication,omitzero"`
	// DaysSilent counts the days from the last publication to the clock
	// (0 for a unit that never published: LastPublication is absent).
	DaysSilent int `json:"days_since_last_publication"`
}

// Departments returns every publishing unit of the registry and every
// county government, in the registry's order and then by county code.
func (v *View) Departments() []DepartmentSummary {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var codes []string
	for _, d := range v.cat.Departments() {
		codes = append(codes, d.Code)
	}
	for _, k := range v.cat.Counties() {
		codes = append(codes, "county/"+k.Code)
	}
	out := make([]DepartmentSummary, 0, len(codes))
	for _, code := range codes {
		line := DepartmentSummary{Code: code, Name: v.departmentName(code)}
		if d := v.depts[code]; d != nil {
			line.Published, line.Rejected, line.LastPublication = d.published, d.rejected, shown(d.last)
		}
		line.DaysSilent = v.daysSilent(line.LastPublication)
		out = append(out, line)
	}
	return out
}

// daysSilent is how many days the clock is past a unit's last publication
// (0 when it never published or the clock is not set).
func (v *View) daysSilent(last time.Time) int {
	if last.IsZero() || v.clock.IsZero() {
		return 0
	}
	return int(v.clock.Sub(last).Hours() / 24)
}

// FreshnessDays is how many days a unit may go without publishing (R18).
func (v *View) FreshnessDays() int { return v.p.freshnessDays }

// departmentName is a publishing unit's name: the registry's, a county
// government's (秦都区人民政府) or the hub's.
func (v *View) departmentName(code string) string {
	p, err := v.cat.ParsePublisher(code)
	if err != nil {
		return ""
	}
	switch p.Dept {
	case "county":
		k, _ := v.cat.County(p.County)
		return k.Name + "人民政府"
	case "hub":
		return v.cat.Hub().Name
	}
	d, _ := v.cat.Department(code)
	if d == nil {
		return ""
	}
	return d.Name
}
