package simulate

import (
	"fmt"
	"time"
)

// corrections are the facts a responsible department publishes when it
// puts right what a warning is about, by rule: a public-welfare job for
// a zero-employment household (R4), a child enrolled (R6), the year's
// medical insurance bought (R7), pension insurance (R8), the title
// registered (R9), residence permits (R10), the old homestead re-greened
// (R11). Each is published by the family's owner, who is the rule's
// responsible unit.
var corrections = map[string]func(r *registers, entity string, on time.Time) []Event{
	"R4":  correctZeroEmployment,
	"R6":  correctEnrolment,
	"R7":  correctInsurance,
	"R8":  correctPension,
	"R9":  correctDeed,
	"R10": correctHukou,
	"R11": correctReclamation,
}

func correctZeroEmployment(r *registers, entity string, on time.Time) []Event {
	h := r.households[entity]
	if h == nil {
		return nil
	}
	p := h.labourer(on)
	if p == nil {
		return nil
	}
	o := newObj().str("person_key", p.key).str("household_id", h.id).str("status", "employed").str("kind", "public_welfare").
		str("employer", "安置社区公益岗位").str("destination_area", h.county).date("start_on", on).yuan("monthly_income_yuan", 1500)
	return []Event{newEvent("hrss", "hr.employment", h.county, p.key, on, o.done())}
}

func correctEnrolment(r *registers, entity string, on time.Time) []Event {
	p, h := r.person(entity)
	if p == nil {
		return nil
	}
	year := on.Year()
	if on.Month() < 9 {
		year--
	}
	grade := min(max(year-p.birthYear-5, 1), 9)
	level, school := "primary", "PS"+h.county+"-0000"
	if grade >= 7 {
		level, school = "junior", "JS"+h.county+"-01"
	}
	o := newObj().str("person_key", p.key).str("household_id", h.id).str("action", "enrolled").str("school_id", school).
		str("school_county", h.county).str("level", level).int("grade", grade).str("school_year", fmt.Sprintf("%d-%d", year, year+1)).
		date("effective_on", on).bool("near_home", false).str("note", "控辍保学: 劝返复学")
	return []Event{newEvent("edu", "edu.enrolment", h.county, p.key, on, o.done())}
}

func correctInsurance(r *registers, entity string, on time.Time) []Event {
	p, h := r.person(entity)
	if p == nil {
		return nil
	}
	var out []Event
	for _, scheme := range []string{"basic_medical", "serious_illness"} {
		o := newObj().str("person_key", p.key).str("household_id", h.id).int("year", on.Year()).str("scheme", scheme).
			str("status", "enrolled").date("enrolled_on", on).str("insured_area", h.county).str("note", "补缴参保")
		out = append(out, newEvent("medins", "health.coverage", h.county, p.key, on, o.done()))
	}
	return out
}

func correctPension(r *registers, entity string, on time.Time) []Event {
	p, h := r.person(entity)
	if p == nil {
		return nil
	}
	o := newObj().str("person_key", p.key).str("household_id", h.id).int("year", on.Year()).str("scheme", "residents").
		str("status", "enrolled").date("enrolled_on", on).yuan("contribution_grade_yuan", 100).str("note", "政府代缴")
	return []Event{newEvent("hrss", "hr.pension", h.county, p.key, on, o.done())}
}

func correctDeed(r *registers, entity string, on time.Time) []Event {
	h := r.households[entity]
	if h == nil || h.site == "" {
		return nil
	}
	o := newObj().str("household_id", h.id).str("site_id", h.site).str("status", "registered").date("registered_on", on).
		str("note", "补办不动产登记")
	return []Event{newEvent("resources", "resources.deeds", h.county, h.id, on, o.done())}
}

func correctHukou(r *registers, entity string, on time.Time) []Event {
	h := r.households[entity]
	if h == nil || h.origin == "" {
		return nil
	}
	var out []Event
	for _, p := range h.members {
		o := newObj().str("person_key", p.key).str("household_id", h.id).str("action", "residence_permit").date("effective_on", on).
			date("valid_until", day(on, 5*365)).str("origin_area", h.origin).str("destination_area", h.county)
		out = append(out, newEvent("police", "police.hukou", h.county, p.key, on, o.done()))
	}
	return out
}

func correctReclamation(r *registers, entity string, on time.Time) []Event {
	h := r.households[entity]
	if h == nil || h.origin == "" {
		return nil
	}
	o := newObj().str("household_id", h.id).str("origin_area", h.origin).str("stage", "regreened").date("effective_on", on).
		num("area_mu", 0.3).bool("in_linkage_project", false)
	return []Event{newEvent("resources", "resources.reclamation", h.county, h.id, on, o.done())}
}

// person returns a registered person and their household.
func (r *registers) person(key string) (*personRecord, *householdRecord) {
	p := r.persons[key]
	if p == nil {
		return nil, nil
	}
	h := r.households[p.household]
	if h == nil {
		return nil, nil
	}
	return p, h
}
