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
