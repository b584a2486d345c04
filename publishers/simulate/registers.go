package simulate

import (
	"encoding/json"
	"time"
)

// registers are what the departments know of the relocated households and
// persons, from the poverty office's registrations (registry.household,
// registry.person): enough to publish the facts that put a warning right
// (a job for a household's labourer, a child's enrolment, a member's
// residence permit).
type registers struct {
	households map[string]*householdRecord
	persons    map[string]*personRecord
}

// householdRecord is a registered household.
type householdRecord struct {
	id, site, county, origin string
	members                  []*personRecord // in the order registered
}

// personRecord is a registered person.
type personRecord struct {
	key, household string
	birthYear      int
	capacity       string // full, weak, none, student
}

func newRegisters() *registers {
	return &registers{households: map[string]*householdRecord{}, persons: map[string]*personRecord{}}
}

// note takes in the registrations among a world's events.
func (r *registers) note(ev Event) {
	if ev.Bad || ev.Fact.Family != "registry.household" && ev.Fact.Family != "registry.person" {
		return
	}
	var d struct {
		HouseholdID    string `json:"household_id"`
		SiteID         string `json:"site_id"`
		OriginArea     string `json:"origin_area"`
		PersonKey      string `json:"person_key"`
		BirthYear      int    `json:"birth_year"`
		LabourCapacity string `json:"labour_capacity"`
	}
	if raw, ok := ev.Fact.Data.(json.RawMessage); !ok || json.Unmarshal(raw, &d) != nil {
		return
	}
	h := r.households[d.HouseholdID]
	if h == nil {
		h = &householdRecord{id: d.HouseholdID, county: ev.Fact.County}
		r.households[d.HouseholdID] = h
	}
	if ev.Fact.Family == "registry.household" {
		h.site, h.origin = d.SiteID, d.OriginArea
		return
	}
	if r.persons[d.PersonKey] != nil {
		return
	}
	p := &personRecord{key: d.PersonKey, household: d.HouseholdID, birthYear: d.BirthYear, capacity: d.LabourCapacity}
	r.persons[d.PersonKey] = p
	h.members = append(h.members, p)
}

// labourer returns the member of a household who can take a job on a
// date: the first of working age able to work, else the first of working
// age; nil when none is.
func (h *householdRecord) labourer(on time.Time) *personRecord {
	var fallback *personRecord
	for _, p := range h.members {
		if age := on.Year() - p.birthYear; age < 16 || age >= 60 {
			continue
		}
		if p.capacity == "full" || p.capacity == "weak" {
			return p
		}
		if fallback == nil {
			fallback = p
		}
	}
	return fallback
}
