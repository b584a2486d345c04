package view

import "fmt"

// Public security (police): hukou moves and residence permits, and R10.

// evalHukou is R10: every member of a household has moved the hukou, or is
// managed through a residence registration or permit (通过居住登记和办理
// 居住证等形式进行管理, as the clause says), within the grace days after
// moving.
func (v *View) evalHukou(k wkey, detail bool) finding {
	h, relocated, ok := v.householdJudged(k)
	if !ok {
		return finding{}
	}
	since, due := v.graceOver(relocated, v.p.hukouGraceDays)
	if !due || h.mem[mMembers] == 0 || h.mem[mHukou] >= h.mem[mMembers] {
		return finding{}
	}
	f := finding{broken: true, since: since}
	if detail {
		var hk []Evidence
		for q := h.first; q != 0; q = v.persons.at(q - 1).next {
			hk = append(hk, v.personEvidence(q-1, pgHukou)...)
		}
		f.evidence = append(v.householdEvidence(h, hgRegistry), firstEvidence(hk, 5)...)
		f.message = fmt.Sprintf("%d名成员中%d名未迁移户籍, 也未办理居住登记或居住证", h.mem[mMembers], h.mem[mMembers]-h.mem[mHukou])
	}
	return f
}

// foldHukouFact folds police.hukou: a person's hukou move, residence permit
// or residence registration.
func foldHukouFact(x *personFact) bool {
	p, f := x.p, x.f
	if !x.set(pgHukou) {
		return false
	}
	switch {
	case f.is("action", "hukou_moved"):
		p.hukou = hukouMoved
	case f.is("action", "residence_permit"):
		p.hukou = hukouResidencePermit
	default:
		p.hukou = hukouResidenceRegistered // residence registered only
	}
	p.hukouDay = f.day("effective_on")
	return true
}

// policePersonBits is a person whose hukou moved, or who is managed through
// a residence permit or registration (R10).
func policePersonBits(p *person) bits {
	if p.hukou != hukouNotMoved {
		return bit(cHukouDone)
	}
	return 0
}

// policeHouseholdBits is a household whose members all moved hukou or hold
// permits.
func policeHouseholdBits(h *household) bits {
	if h.mem[mMembers] > 0 && h.mem[mHukou] == h.mem[mMembers] {
		return bit(cHukouHouseholds)
	}
	return 0
}

// policePersonObligations is a person's hukou move or residence permit.
var policePersonObligations = []personObligation{
	{"hukou", func(p *person) Obligation {
		return p.obligation(pgHukou, hukouNames[p.hukou], p.bits.has(cHukouDone))
	}},
}

// policeHouseholdObligations is the household's members with hukou moved
// or a residence permit.
var policeHouseholdObligations = []householdObligation{
	{"hukou", func(h *household) Obligation {
		return Obligation{State: ofMembers(h.mem[mHukou], h.mem[mMembers]), Met: h.bits.has(cHukouHouseholds)}
	}},
}
