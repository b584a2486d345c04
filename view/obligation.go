package view

import (
	"slices"
	"strconv"
)

// Obligation is one duty towards a household or person and its state.
type Obligation struct {
	State string   `json:"state"`
	Met   bool     `json:"met"`
	Fact  *FactRef `json:"fact,omitempty"`
}

// personObligation is one obligation a person's page shows: its name (the
// key under "obligations") and how it renders from the person's registers
// and contribution bits.
type personObligation struct {
	name   string
	render func(p *person) Obligation
}

// householdObligation is one obligation a household's page shows: its name
// and how it renders from the household's registers and member counts.
type householdObligation struct {
	name   string
	render func(h *household) Obligation
}

// personObligations is the table of a person's obligations, assembled once
// from the lists in the domain files of the families that feed them
// (edu.go, health.go, hr.go, police.go). A person register no obligation
// shows fails TestEveryRegisterShown.
var personObligations = slices.Concat(
	eduPersonObligations,
	healthPersonObligations,
	hrPersonObligations,
	policePersonObligations,
)

// householdObligations is the table of a household's obligations,
// assembled once from the lists in the domain files (civil.go, edu.go,
// health.go, hr.go, industry.go, police.go, resources.go). A household
// register neither shown nor listed in unshownHouseholdGroups fails
// TestEveryRegisterShown.
var householdObligations = slices.Concat(
	civilHouseholdObligations,
	eduHouseholdObligations,
	healthHouseholdObligations,
	hrHouseholdObligations,
	industryHouseholdObligations,
	policeHouseholdObligations,
	resourcesHouseholdObligations,
)

// ObligationNames are the names of the obligations a household and a
// person show (HouseholdView.Obligations, PersonView.Obligations), for
// readers that label them.
func ObligationNames() (household, person []string) {
	for _, o := range householdObligations {
		household = append(household, o.name)
	}
	for _, o := range personObligations {
		person = append(person, o.name)
	}
	return household, person
}

// unshownHouseholdGroups are the household registers the view folds and
// deliberately shows in no obligation, and why.
var unshownHouseholdGroups = map[int]string{
	hgTemporary: "temporary assistance (临时救助) is a one-off payment, not a standing duty towards the household; the page shows dibao and tekun",
}

// obligation is an obligation of the person in the given state, pointing at
// the fact that set register g (none while no fact did).
func (p *person) obligation(g int, state string, met bool) Obligation {
	return Obligation{State: state, Met: met, Fact: ref(personGroupFamily[g], p.keys[g], p.eff[g])}
}

// obligation is an obligation of the household in the given state,
// pointing at the fact that set register g (none while no fact did).
func (h *household) obligation(g int, state string, met bool) Obligation {
	return Obligation{State: state, Met: met, Fact: ref(householdGroupFamily[g], h.keys[g], h.eff[g])}
}

// onOff is the state of an allowance, support, contract or link that is
// either granted or not.
func onOff(x uint8) string {
	if x == 1 {
		return "granted"
	}
	return "none"
}

// ofMembers is a state counted over a household's members: "2/3".
func ofMembers(n, of uint16) string {
	return strconv.Itoa(int(n)) + "/" + strconv.Itoa(int(of))
}

// coverageState is an insurance's status and its year ("enrolled 2021"),
// or "none" while no fact said.
func coverageState(st uint8, year uint16) string {
	if st == covNone {
		return "none"
	}
	return coverageNames[st] + " " + strconv.Itoa(int(year))
}
