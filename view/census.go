package view

import "strconv"

// Headcount counts households or persons of an area as a person reading the
// view needs them: every one the view knows of, of whom how many are
// registered (registry.household, registry.person) and how many are known
// only through other departments' facts (an enrolment naming a child of a
// household the poverty office has not registered yet). InIndicators is
// what the indicators and rates count: registered and active (not deceased
// or moved away).
type Headcount struct {
	Known            int64 `json:"known"`
	Registered       int64 `json:"registered"`
	NotYetRegistered int64 `json:"not_yet_registered"`
	InIndicators     int64 `json:"in_indicators"`
}

// Population is an area's households and persons as the view knows them.
type Population struct {
	Households Headcount `json:"households"`
	Persons    Headcount `json:"persons"`
}

// census tallies the households and persons the view knows of, registered
// or not, by the county of their household id. It is kept as entities are
// created, linked and registered (never by scanning on a read), is not part
// of the digest or the snapshot (it follows from what they hold) and is
// recounted when a snapshot is restored.
type census struct {
	byCounty map[uint64]*tally
	city     tally // households and persons with a household, and registrations of all
}

// tally is one area's part of the census.
type tally struct {
	households, householdsRegistered int64
	persons, personsRegistered       int64 // persons linked to a household of the area
}

func (c *census) county(hhKey uint64) *tally {
	code := (hhKey &^ hh7) / 1e8
	t := c.byCounty[code]
	if t == nil {
		if c.byCounty == nil {
			c.byCounty = map[uint64]*tally{}
		}
		t = &tally{}
		c.byCounty[code] = t
	}
	return t
}

// addHousehold counts a household the view has just heard of.
func (c *census) addHousehold(hhKey uint64, registered bool) {
	for _, t := range []*tally{c.county(hhKey), &c.city} {
		t.households++
		if registered {
			t.householdsRegistered++
		}
	}
}

// registerHousehold counts a known household's first registration.
func (c *census) registerHousehold(hhKey uint64) {
	c.county(hhKey).householdsRegistered++
	c.city.householdsRegistered++
}

// linkPerson counts a person in the county of a household (sign +1) or out
// of it (sign -1, when the person moves to another household).
func (c *census) linkPerson(hhKey uint64, registered bool, sign int64) {
	for _, t := range []*tally{c.county(hhKey), &c.city} {
		t.persons += sign
		if registered {
			t.personsRegistered += sign
		}
	}
}

// registerPerson counts a person's first registration; hhKey is 0 for a
// person without a household (which the registry never leaves).
func (c *census) registerPerson(hhKey uint64) {
	if hhKey != 0 {
		c.county(hhKey).personsRegistered++
	}
	c.city.personsRegistered++
}

// recount rebuilds the census from the entities (after a restore).
func (v *View) recount() {
	v.census = census{}
	for i := range v.households.len() {
		h := v.households.at(uint32(i))
		v.census.addHousehold(h.key, h.registered)
	}
	for i := range v.persons.len() {
		p := v.persons.at(uint32(i))
		switch {
		case p.hh != 0 && int(p.hh) <= v.households.len():
			v.census.linkPerson(v.households.at(p.hh-1).key, p.registered, 1)
		case p.registered:
			v.census.registerPerson(0)
		}
	}
}

// householdKeyOf is the key of a person's household, 0 when it has none.
func (v *View) householdKeyOf(p *person) uint64 {
	if p.hh == 0 {
		return 0
	}
	return v.households.at(p.hh - 1).key
}

// population is an area's headcounts; t is nil for an area the census has
// nothing of, persons the number of persons the view knows (for the city,
// persons without a household count too).
func population(t *tally, persons int64, c *counters) Population {
	if t == nil {
		t = &tally{}
	}
	return Population{
		Households: Headcount{Known: t.households, Registered: t.householdsRegistered,
			NotYetRegistered: t.households - t.householdsRegistered, InIndicators: c[cHouseholds]},
		Persons: Headcount{Known: persons, Registered: t.personsRegistered,
			NotYetRegistered: persons - t.personsRegistered, InIndicators: c[cPersons]},
	}
}

// countyPopulation is a county's population (caller holds the lock).
func (v *View) countyPopulation(a *area) Population {
	code, _ := strconv.ParseUint(a.code, 10, 64)
	t := v.census.byCounty[code]
	var persons int64
	if t != nil {
		persons = t.persons
	}
	return population(t, persons, &a.c)
}

// cityPopulation is the city's population (caller holds the lock): every
// household and person the view knows of.
func (v *View) cityPopulation() Population {
	return population(&v.census.city, int64(v.persons.len()), &v.city.c)
}
