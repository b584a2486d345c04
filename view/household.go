package view

import (
	"time"

	"github.com/xianyang/anzhi/fact"
)

// Household groups (registers set by one kind of fact each).
const (
	hgRegistry  = iota // registry.household
	hgDeed             // resources.deeds
	hgReclaim          // resources.reclamation
	hgDibao            // civil.assistance dibao
	hgTekun            // civil.assistance tekun
	hgTemporary        // civil.assistance temporary
	hgBenefit          // industry.benefit
	hgLand             // resources.landrights
	hgForest           // forestry.rights
	nHouseholdGroups
)

var householdGroupFamily = [nHouseholdGroups]string{
	"registry.household", "resources.deeds", "resources.reclamation", "civil.assistance", "civil.assistance",
	"civil.assistance", "industry.benefit", "resources.landrights", "forestry.rights",
}

// Member counts a household keeps from its members' contributions.
const (
	mMembers = iota
	mLabour
	mEmployed
	mHukou
	mSchoolAge
	mEnrolled
	mInsuredBoth
	nMemberCounts
)

var memberCounters = [nMemberCounts]counter{cPersons, cLabour, cEmployed, cHukouDone, cSchoolAge, cEnrolled, cInsuredBoth}

// Deed and reclamation stages.
const (
	deedNone uint8 = iota
	deedApplied
	deedRegistered
	deedIssued
)

var deedNames = [...]string{"none", "applied", "registered", "certificate_issued"}

const (
	reclaimNone uint8 = iota
	reclaimVacated
	reclaimRecovered
	reclaimDemolished
	reclaimReclaimed
	reclaimRegreened
	reclaimRetained
)

var reclaimStages = []string{"", "vacated", "recovered", "demolished", "reclaimed", "regreened", "retained"}

// household is a relocated household.
type household struct {
	key   uint64
	keys  [nHouseholdGroups]uint64
	eff   [nHouseholdGroups]etime
	site  uint32 // site index + 1; 0 when not known yet
	first uint32 // first member (person index + 1)
	mem   [nMemberCounts]uint16

	relocated         day
	deedDay           day
	reclaimDay        day
	size, labourCount uint8
	deed, reclaim     uint8
	dibao, tekun      uint8
	temporary         uint8
	benefit           uint8
	land, forest      uint8
	status            uint8
	poor, registered  bool
	linkage           bool // the old homestead is in a linkage project (增减挂钩, R21)

	bits bits
}

func (v *View) householdIndex(k uint64) uint32 {
	if i, ok := v.hhIdx[k]; ok {
		return i
	}
	i := v.households.push(household{key: k})
	v.hhIdx[k] = i
	v.census.addHousehold(k, false)
	return i
}

// householdArea is the area a household and its members count in: its site,
// or its county while the site is not known.
func (v *View) householdArea(h *household) *area {
	if h.site != 0 {
		return v.sites[h.site-1].area
	}
	if a, ok := v.counties[countyOfHousehold(h.key)]; ok {
		return a
	}
	return v.city
}

func (h *household) memberDelta(old, cur bits) {
	for i, c := range memberCounters {
		switch {
		case !old.has(c) && cur.has(c):
			h.mem[i]++
		case old.has(c) && !cur.has(c):
			h.mem[i]--
		}
	}
}

// moveHousehold moves a household (and its members' contributions) to
// another site.
func (v *View) moveHousehold(hi, site uint32) {
	h := v.households.at(hi)
	if h.site == site {
		return
	}
	from := v.householdArea(h)
	if h.site != 0 {
		v.unlistHousehold(h.site-1, hi)
		v.sites[h.site-1].households--
		v.dirtySites[h.site-1] = struct{}{}
		v.markSite(h.site - 1) // it no longer lists the household
	}
	applyBits(from, h.bits, 0)
	for q := h.first; q != 0; q = v.persons.at(q - 1).next {
		applyBits(from, v.persons.at(q-1).bits, 0)
	}
	h.site = site
	to := v.householdArea(h)
	applyBits(to, 0, h.bits)
	for q := h.first; q != 0; q = v.persons.at(q - 1).next {
		applyBits(to, 0, v.persons.at(q-1).bits)
	}
	v.sites[site-1].households++
	v.siteHH[site-1] = append(v.siteHH[site-1], hi)
	v.dirtySites[site-1] = struct{}{}
}

// unlistHousehold takes a household off its site's list.
func (v *View) unlistHousehold(si, hi uint32) {
	list := v.siteHH[si]
	for i, x := range list {
		if x == hi {
			list[i] = list[len(list)-1]
			v.siteHH[si] = list[:len(list)-1]
			return
		}
	}
}

// householdFact is a department's fact about a household as its family's
// fold sees it.
type householdFact struct {
	v   *View
	h   *household
	hi  uint32
	f   *fields
	eff etime
	key uint64
}

// set moves register g to this fact if it is newer, and reports whether it
// was.
func (x *householdFact) set(g int) bool {
	if !newer(x.eff, x.key, x.h.eff[g], x.h.keys[g]) {
		return false
	}
	x.h.eff[g], x.h.keys[g] = x.eff, x.key
	return true
}

// householdFold folds one family's fact into a household and reports
// whether the household changed.
type householdFold func(x *householdFact) bool

// foldHouseholdFamily makes an entry fold of a household family's fold: it
// finds (or adds) the household and touches it when the fold changed it.
func foldHouseholdFamily(fold householdFold) func(*View, *fact.Entry) {
	return func(v *View, e *fact.Entry) {
		var f fields
		f.parse(e.Data)
		hk, ok := householdKey(f.str("household_id"))
		if !ok {
			return
		}
		hi := v.householdIndex(hk)
		v.linkHousehold(hi, e.Seq)
		if fold(&householdFact{v: v, h: v.households.at(hi), hi: hi, f: &f, eff: toETime(e.Time), key: e.Key()}) {
			v.touchHousehold(hi)
		}
	}
}

// Arrangements of land and forest rights (resources.landrights,
// forestry.rights).
const (
	arrangementUnknown uint8 = iota
	arrangementKept
	arrangementTransferred
	arrangementPooled
)

var arrangementNames = [...]string{"unknown", "kept", "transferred", "pooled_shares"}

func arrangement(f *fields) uint8 {
	switch {
	case f.is("arrangement", "kept"):
		return arrangementKept
	case f.is("arrangement", "transferred"):
		return arrangementTransferred
	case f.is("arrangement", "pooled_shares"):
		return arrangementPooled
	}
	return arrangementUnknown
}

// householdBits is the household's contribution to the indicators.
func (v *View) householdBits(h *household) bits {
	if !h.registered || h.status != statusActive {
		return 0
	}
	b := bit(cHouseholds) | hrHouseholdBits(h) | resourcesHouseholdBits(h) | policeHouseholdBits(h) |
		civilHouseholdBits(h) | industryHouseholdBits(h)
	if h.poor {
		b |= bit(cRegisteredPoor)
	}
	if v.secure(h) {
		b |= bit(cSecure)
	}
	return b
}

// secure is 两不愁三保障 for a household, as the view can see it: every
// school-age child enrolled (义务教育), every member insured (基本医疗), and
// an income — someone employed, or minimum-living allowance or
// extreme-poverty support, or no labour to employ (不愁吃穿). Housing (住房安全)
// is the resettlement house itself.
func (v *View) secure(h *household) bool {
	if h.mem[mMembers] == 0 {
		return false
	}
	income := h.mem[mEmployed] > 0 || h.dibao == 1 || h.tekun == 1 || (h.labourCount == 0 && h.mem[mLabour] == 0)
	return h.mem[mEnrolled] == h.mem[mSchoolAge] && h.mem[mInsuredBoth] == h.mem[mMembers] && income
}

func (v *View) touchHousehold(hi uint32) {
	h := v.households.at(hi)
	cur := v.householdBits(h)
	if cur != h.bits {
		applyBits(v.householdArea(h), h.bits, cur)
		h.bits = cur
	}
	v.dirtyHouseholds.add(hi)
	v.markHousehold(hi)
	if h.site != 0 {
		// Site rules read the counters its households and members feed.
		v.dirtySites[h.site-1] = struct{}{}
	}
}

// householdJudged returns a household the household rules judge (registered
// and still living at its site) and when it moved, or false.
func (v *View) householdJudged(k wkey) (*household, time.Time, bool) {
	h := v.households.at(k.idx)
	relocated := h.relocated.Time()
	if h.relocated == 0 {
		relocated = h.eff[hgRegistry].Time()
	}
	if !h.registered || h.status != statusActive {
		return nil, time.Time{}, false
	}
	return h, relocated, true
}

// graceOver returns when a household's grace of days after moving ends, and
// whether it has ended on the view's clock.
func (v *View) graceOver(relocated time.Time, grace int) (time.Time, bool) {
	at := relocated.AddDate(0, 0, grace)
	return at, !v.clock.Before(at)
}
