package view

import "github.com/xianyang/anzhi/fact"

// The registry (drc's registry.site, the poverty office's
// registry.household and registry.person): the entities every other
// department's facts are about.

// foldSite folds registry.site: a resettlement site, its kind, plan and
// status.
func (v *View) foldSite(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	id := f.str("site_id")
	if id == "" {
		return
	}
	si := v.siteIndex(id)
	v.linkSite(si, e.Seq)
	s := v.sites[si]
	if !s.reg.set(e) {
		return
	}
	s.known = true
	s.name = f.str("site_name")
	s.area.name = s.name
	s.township = f.str("township")
	s.central = f.is("kind", "centralized")
	s.setting = f.str("setting")
	s.status = f.str("status")
	s.planHH = f.int("planned_households")
	s.planPop = f.int("planned_persons")
	s.done = f.day("completed_on")
	v.touchSite(si)
}

// foldHousehold folds registry.household: a relocated household and the
// site it moved to.
func (v *View) foldHousehold(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	hk, ok := householdKey(f.str("household_id"))
	if !ok {
		return
	}
	hi := v.householdIndex(hk)
	v.linkHousehold(hi, e.Seq)
	h := v.households.at(hi)
	eff, key := toETime(e.Time), e.Key()
	if !newer(eff, key, h.eff[hgRegistry], h.keys[hgRegistry]) {
		return
	}
	h.eff[hgRegistry], h.keys[hgRegistry] = eff, key
	if !h.registered {
		v.census.registerHousehold(h.key)
	}
	h.registered = true
	h.size = uint8(min(f.int("size"), 255))
	h.labourCount = uint8(min(f.int("labour_count"), 255))
	h.poor = f.bool("registered_poor")
	h.relocated = f.day("relocated_on")
	h.status = statusActive
	if f.is("status", "moved_away") || f.is("status", "dissolved") {
		h.status = statusMovedAway
	}
	if sid := f.str("site_id"); sid != "" {
		v.moveHousehold(hi, v.siteIndex(sid)+1)
	}
	v.touchHousehold(hi)
}

// foldPersonRegistry folds registry.person: a member of a household.
func (v *View) foldPersonRegistry(e *fact.Entry) {
	var f fields
	f.parse(e.Data)
	k, ok := personKey(f.str("person_key"))
	hk, ok2 := householdKey(f.str("household_id"))
	if !ok || !ok2 {
		return
	}
	pi := v.personIndex(k)
	v.linkPerson(pi, e.Seq)
	p := v.persons.at(pi)
	eff, key := toETime(e.Time), e.Key()
	if !newer(eff, key, p.eff[pgRegistry], p.keys[pgRegistry]) {
		return
	}
	p.eff[pgRegistry], p.keys[pgRegistry] = eff, key
	v.setHousehold(pi, hk)
	p = v.persons.at(pi)
	if !p.registered {
		v.census.registerPerson(v.householdKeyOf(p))
	}
	p.registered = true
	p.birthYear = uint16(f.int("birth_year"))
	p.sex = sexUnknown
	switch {
	case f.is("sex", "male"):
		p.sex = sexMale
	case f.is("sex", "female"):
		p.sex = sexFemale
	}
	switch {
	case f.is("labour_capacity", "full"):
		p.labour = labourFull
	case f.is("labour_capacity", "weak"):
		p.labour = labourWeak
	case f.is("labour_capacity", "none"):
		p.labour = labourNone
	case f.is("labour_capacity", "student"):
		p.labour = labourStudent
	default:
		p.labour = labourUnknown
	}
	p.disability = 0
	if d := f.raw("disability"); d != nil && !f.is("disability", "none") {
		p.disability = 1
	}
	switch {
	case f.is("status", "deceased"):
		p.status = statusDeceased
	case f.is("status", "moved_away"):
		p.status = statusMovedAway
	default:
		p.status = statusActive
	}
	v.touchPerson(pi)
}

// registryPersonBits is what the registry says of a person: labour
// capacity and disability.
func registryPersonBits(p *person) bits {
	var b bits
	if p.labour == labourFull || p.labour == labourWeak {
		b |= bit(cLabour)
	}
	if p.disability == 1 {
		b |= bit(cDisabled)
	}
	return b
}
