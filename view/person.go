package view

import (
	"time"

	"github.com/xianyang/anzhi/fact"
)

// Person groups: each is a register set by one kind of fact, remembering
// the fact (its key) and when it took effect.
const (
	pgRegistry = iota // registry.person
	pgEnrol           // edu.enrolment
	pgBasic           // health.coverage basic_medical
	pgSerious         // health.coverage serious_illness
	pgPension         // hr.pension
	pgEmploy          // hr.employment
	pgTrain           // hr.training (passed)
	pgHukou           // police.hukou
	pgContract        // health.contract
	nPersonGroups
)

var personGroupFamily = [nPersonGroups]string{
	"registry.person", "edu.enrolment", "health.coverage", "health.coverage", "hr.pension",
	"hr.employment", "hr.training", "police.hukou", "health.contract",
}

// Enumerations kept in a byte.
const (
	sexUnknown uint8 = iota
	sexMale
	sexFemale
)

var sexNames = [...]string{"", "male", "female"}

const (
	labourUnknown uint8 = iota
	labourFull
	labourWeak
	labourNone
	labourStudent
)

var labourNames = [...]string{"", "full", "weak", "none", "student"}

const (
	statusActive uint8 = iota
	statusDeceased
	statusMovedAway
)

var statusNames = [...]string{"active", "deceased", "moved_away"}

const (
	eduNone uint8 = iota
	eduEnrolled
	eduTransferred
	eduDroppedOut
	eduGraduated
)

var eduNames = [...]string{"none", "enrolled", "transferred", "dropped_out", "graduated"}

const (
	covNone uint8 = iota
	covEnrolled
	covLapsed
	covExempt
)

var coverageNames = [...]string{"none", "enrolled", "lapsed", "exempt"}

const (
	empNone uint8 = iota
	empEmployed
	empUnemployed
)

var employmentNames = [...]string{"none", "employed", "unemployed"}

// Hukou states (police.hukou).
const (
	hukouNotMoved uint8 = iota
	hukouMoved
	hukouResidencePermit
	hukouResidenceRegistered
)

var hukouNames = [...]string{"not_moved", "hukou_moved", "residence_permit", "residence_registered"}

// person is one member of a relocated household. It is kept small: the view
// holds millions of them.
type person struct {
	keys [nPersonGroups]uint64
	eff  [nPersonGroups]etime
	hh   uint32 // household index + 1; 0 when not known yet
	next uint32 // next member of the household (index + 1)

	birthYear   uint16
	basicYear   uint16 // latest year of basic medical insurance
	seriousYear uint16
	pensionYear uint16
	empStart    day
	empEnd      day
	trainDone   day
	hukouDay    day

	sex, labour, disability, status uint8
	edu, eduLevel                   uint8
	basic, serious, pension         uint8
	emp, empKind                    uint8
	trainPassed, hukou, contract    uint8
	registered                      bool

	bits bits // contribution last applied to the areas
}

// personIndex returns the index of a person, creating a placeholder.
func (v *View) personIndex(k [32]byte) uint32 {
	if i, ok := v.personIdx.get(&k, &v.personKeys); ok {
		return i
	}
	i := v.persons.push(person{})
	v.personKeys.push(k)
	v.personIdx.put(&k, i, &v.personKeys)
	return i
}

// setHousehold links a person to a household, moving it out of the one it
// was in (with its contribution) if that changed.
func (v *View) setHousehold(pi uint32, hhKey uint64) {
	hi := v.householdIndex(hhKey) + 1
	if v.persons.at(pi).hh == hi {
		return
	}
	if old := v.persons.at(pi); old.hh != 0 {
		v.markHousehold(old.hh - 1) // it no longer lists the person
		v.census.linkPerson(v.households.at(old.hh-1).key, old.registered, -1)
		v.withdrawPerson(pi)
		v.unlinkMember(pi)
	}
	p := v.persons.at(pi)
	h := v.households.at(hi - 1)
	v.census.linkPerson(h.key, p.registered, 1)
	p.hh = hi
	p.next = h.first
	h.first = pi + 1
	v.dirtyHouseholds.add(hi - 1)
	v.markHousehold(hi - 1)
}

func (v *View) unlinkMember(pi uint32) {
	p := v.persons.at(pi)
	h := v.households.at(p.hh - 1)
	if h.first == pi+1 {
		h.first = p.next
	} else {
		for q := h.first; q != 0; q = v.persons.at(q - 1).next {
			if v.persons.at(q-1).next == pi+1 {
				v.persons.at(q - 1).next = p.next
				break
			}
		}
	}
	p.next = 0
	v.dirtyHouseholds.add(p.hh - 1)
}

// personFact is a department's fact about a person as its family's fold
// sees it: the person, the fact's fields, effective time and key.
type personFact struct {
	p   *person
	f   *fields
	eff etime
	key uint64
}

// set moves register g to this fact if it is newer, and reports whether it
// was.
func (x *personFact) set(g int) bool {
	if !newer(x.eff, x.key, x.p.eff[g], x.p.keys[g]) {
		return false
	}
	x.p.eff[g], x.p.keys[g] = x.eff, x.key
	return true
}

// personFold folds one family's fact into a person and reports whether the
// person changed.
type personFold func(x *personFact) bool

// foldPerson makes an entry fold of a person family's fold: it finds (or
// adds) the person, links the household the fact names when the person has
// none yet, and touches the person when the fold changed it.
func foldPerson(fold personFold) func(*View, *fact.Entry) {
	return func(v *View, e *fact.Entry) {
		var f fields
		f.parse(e.Data)
		k, ok := personKey(f.str("person_key"))
		if !ok {
			return
		}
		pi := v.personIndex(k)
		v.linkPerson(pi, e.Seq)
		if hk, ok := householdKey(f.str("household_id")); ok && v.persons.at(pi).hh == 0 {
			v.setHousehold(pi, hk)
		}
		if fold(&personFact{p: v.persons.at(pi), f: &f, eff: toETime(e.Time), key: e.Key()}) {
			v.touchPerson(pi)
		}
	}
}

func coverageStatus(f *fields) uint8 {
	switch {
	case f.is("status", "enrolled"):
		return covEnrolled
	case f.is("status", "exempt"):
		return covExempt
	}
	return covLapsed
}

var levels = []string{"", "kindergarten", "primary", "junior", "senior", "vocational"}

func levelCode(s string) uint8 {
	for i, l := range levels {
		if l == s {
			return uint8(i)
		}
	}
	return 0
}

var employmentKinds = []string{"", "local", "outbound", "workshop", "public_welfare", "self_employed", "project"}

func employmentKind(s string) uint8 {
	for i, k := range employmentKinds {
		if k == s {
			return uint8(i)
		}
	}
	return 0
}

const (
	levelPrimary = 2 // levels[2]
	levelJunior  = 3
	levelSenior  = 4
)

// compulsorySchoolAge reports whether a child must be in compulsory
// education (义务教育: six years of primary and three of junior school) at
// the view's clock. Children start school the September after their sixth
// birthday; knowing only the birth year B, a child is certainly of school
// age from 1 September of B+min_age+1 (born September-December, they may
// legitimately start a year later) until 31 August of B+max_age+1.
func (v *View) compulsorySchoolAge(p *person) bool {
	if p.birthYear == 0 || v.clock.IsZero() {
		return false
	}
	from := time.Date(int(p.birthYear)+v.p.schoolMinAge+1, 9, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(int(p.birthYear)+v.p.schoolMaxAge+1, 9, 1, 0, 0, 0, 0, time.UTC)
	return !v.clock.Before(from) && v.clock.Before(until)
}

// age returns the person's age in the view's current year (0 when unknown).
func (v *View) age(p *person) int {
	if p.birthYear == 0 || v.clock.IsZero() {
		return -1
	}
	return v.clock.Year() - int(p.birthYear)
}

// personBits is the person's contribution to the indicators as of the
// view's clock.
func (v *View) personBits(p *person) bits {
	if !p.registered || p.status != statusActive {
		return 0
	}
	today := toDay(v.clock)
	return bit(cPersons) | registryPersonBits(p) | v.eduPersonBits(p) | v.healthPersonBits(p) |
		v.hrPersonBits(p, today) | policePersonBits(p)
}

// touchPerson recomputes a person's contribution and marks it for the next
// rule sweep.
func (v *View) touchPerson(pi uint32) {
	p := v.persons.at(pi)
	cur := v.personBits(p)
	v.movePersonBits(pi, p.bits, cur)
	p.bits = cur
	v.dirtyPersons.add(pi)
	v.markPerson(pi)
}

// withdrawPerson removes a person's contribution (before moving it).
func (v *View) withdrawPerson(pi uint32) {
	p := v.persons.at(pi)
	v.movePersonBits(pi, p.bits, 0)
	p.bits = 0
}

// movePersonBits applies a person's contribution change to the household's
// member counts and to the areas.
func (v *View) movePersonBits(pi uint32, old, cur bits) {
	if old == cur {
		return
	}
	p := v.persons.at(pi)
	if p.hh == 0 {
		return
	}
	h := v.households.at(p.hh - 1)
	h.memberDelta(old, cur)
	applyBits(v.householdArea(h), old, cur)
	v.touchHousehold(p.hh - 1)
}

// personRelocated is when a person's household moved, zero when unknown.
func (v *View) personRelocated(p *person) time.Time {
	if p.hh != 0 {
		if h := v.households.at(p.hh - 1); h.relocated != 0 {
			return h.relocated.Time()
		}
	}
	return time.Time{}
}
