package view

import "time"

// CountyList is the list of the city's counties with their counts.
type CountyList struct {
	City     string        `json:"city"` // the city's code, 610400
	Name     string        `json:"name"`
	Counties []AreaSummary `json:"counties"`
	Clock    time.Time     `json:"as_of,omitzero"` // absent before the first hub.tick
	Seq      uint64        `json:"log_seq"`
	Notes    []string      `json:"notes,omitempty"`
}

// Counties returns the city's counties in the catalog's order, each with
// its registered and known households and persons, sites, rates and open
// warnings.
func (v *View) Counties() *CountyList {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := &CountyList{City: v.city.code, Name: v.city.name, Counties: v.countySummaries(), Clock: shown(v.clock), Seq: v.seq}
	out.Notes = areaNotes(v.clock, v.cityPopulation())
	return out
}

// countySummaries is a line per county (caller holds the lock).
func (v *View) countySummaries() []AreaSummary {
	out := make([]AreaSummary, 0, len(v.counties))
	for _, k := range v.cat.Counties() {
		a := v.counties[k.Code]
		n := 0
		for _, c := range a.warns {
			n += c
		}
		out = append(out, AreaSummary{Code: a.code, Name: a.name, Persons: a.c[cPersons], Households: a.c[cHouseholds],
			Sites: a.sites, Population: v.countyPopulation(a), Rates: indicators(&a.c).Rates, Warnings: n})
	}
	return out
}
