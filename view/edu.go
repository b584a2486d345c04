package view

import (
	"fmt"
	"time"
)

// Education (edu): children's enrolment, schools at sites, and R6.

// evalEnrolment is R6: a child of compulsory school age is in school.
func (v *View) evalEnrolment(k wkey, detail bool) finding {
	p := v.persons.at(k.idx)
	if !p.bits.has(cSchoolAge) || p.bits.has(cEnrolled) {
		return finding{}
	}
	f := finding{broken: true, since: later(time.Date(int(p.birthYear)+v.p.schoolMinAge+1, 9, 1, 0, 0, 0, 0, time.UTC),
		v.personRelocated(p), p.eff[pgEnrol].Time())}
	if detail {
		f.evidence = v.personEvidence(k.idx, pgRegistry, pgEnrol)
		f.message = fmt.Sprintf("适龄儿童(%d年出生)未在学: 义务教育未保障", p.birthYear)
	}
	return f
}

// foldEnrolment folds edu.enrolment: a child's school status and level.
func foldEnrolment(x *personFact) bool {
	p, f := x.p, x.f
	if !x.set(pgEnrol) {
		return false
	}
	switch {
	case f.is("action", "enrolled"):
		p.edu = eduEnrolled
	case f.is("action", "transferred"):
		p.edu = eduTransferred
	case f.is("action", "dropped_out"):
		p.edu = eduDroppedOut
	case f.is("action", "graduated"):
		p.edu = eduGraduated
	}
	p.eduLevel = levelCode(f.str("level"))
	return true
}

// foldSchool folds edu.capacity: a school serving a site.
func foldSchool(x *siteFact) bool {
	fac, ok := x.facility(x.s.schools, "school_id")
	if ok {
		fac.kind, fac.open, fac.seats = x.f.str("level"), x.f.bool("serves_site"), x.f.int("seats")
		fac.used, fac.pupils = x.f.int("seats_used"), x.f.int("relocated_pupils")
		fac.arranged = fac.open
	}
	return ok
}

// eduPersonBits is a child of compulsory school age, and in school or done
// with compulsory education (graduated from junior middle school, or gone
// on to senior or vocational school). A child who graduated from primary
// school is between stages, not out of school, until the next school year
// starts (1 September): the summer before junior middle school.
func (v *View) eduPersonBits(p *person) bits {
	var b bits
	if v.compulsorySchoolAge(p) {
		b |= bit(cSchoolAge)
		if p.edu == eduEnrolled || p.edu == eduTransferred ||
			(p.edu == eduGraduated && p.eduLevel >= levelJunior) || p.eduLevel >= levelSenior ||
			(p.edu == eduGraduated && p.eduLevel == levelPrimary && v.clock.Before(nextSchoolYear(p.eff[pgEnrol].Time()))) {
			b |= bit(cEnrolled)
		}
	}
	return b
}

// nextSchoolYear is the first 1 September after t.
func nextSchoolYear(t time.Time) time.Time {
	start := time.Date(t.Year(), 9, 1, 0, 0, 0, 0, time.UTC)
	if !t.Before(start) {
		start = start.AddDate(1, 0, 0)
	}
	return start
}

// eduSiteContrib is a site served by a school, and the seats of its open
// schools.
func eduSiteContrib(s *site, c *counters) {
	if countOpen(s.schools) > 0 {
		c[cSchools] = 1
	}
	for _, x := range s.schools {
		if x.open {
			c[cSchoolSeats] += x.seats
		}
	}
}

// eduPersonObligations is a child's compulsory education: met unless the
// child is of school age and not in school.
var eduPersonObligations = []personObligation{
	{"compulsory_edu", func(p *person) Obligation {
		return p.obligation(pgEnrol, eduNames[p.edu], !p.bits.has(cSchoolAge) || p.bits.has(cEnrolled))
	}},
}

// eduHouseholdObligations is the household's children of school age in
// school.
var eduHouseholdObligations = []householdObligation{
	{"compulsory_edu", func(h *household) Obligation {
		return Obligation{State: ofMembers(h.mem[mEnrolled], h.mem[mSchoolAge]), Met: h.mem[mEnrolled] == h.mem[mSchoolAge]}
	}},
}

// evalSchoolSeats is R24: the compulsory schools serving a site have room
// for its children of compulsory-school age (缺什么补什么: 对现有教育资源存在
// 缺口的 … 确保教育资源满足 … 就近入学). Room is the relocated pupils the
// schools already enrol plus their free seats; a site whose schools have
// reported no seats is left to R13, which asks for a school at all.
func (v *View) evalSchoolSeats(k wkey, detail bool) finding {
	sc := v.siteCaseOf(k)
	if !sc.occupied || !sc.s.central {
		return finding{}
	}
	var room, seats int64
	for _, x := range sc.s.schools {
		if !x.open || (x.kind != "primary" && x.kind != "junior") {
			continue
		}
		seats += x.seats
		room += x.pupils + max(0, x.seats-x.used)
	}
	need := sc.c[cSchoolAge]
	if seats == 0 || need <= room {
		return finding{}
	}
	return v.siteBroken(sc, detail, "安置点%d名义务教育适龄子女, 服务的义务教育学校可容纳%d名(在读搬迁学生与空余学位), 缺口%d个学位",
		need, room, need-room)
}
