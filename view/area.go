package view

import mathbits "math/bits"

// Counters are the indicators kept for every site, county and the city. Each
// entity contributes to them (a person counts as insured, a household as
// zero-employment, a site as having water); when an entity changes, only the
// difference of its contribution is applied to its site, county and city, so
// no indicator is ever computed by scanning.
type counter int

// Indicators (counters) of an area.
const (
	cPersons            counter = iota // registered persons
	cLabour                            // persons with labour capacity (full or weak)
	cSchoolAge                         // children of compulsory-school age (see compulsorySchoolAge)
	cEnrolled                          // … of whom enrolled
	cInsuredBasic                      // persons with basic medical insurance this year
	cInsuredSerious                    // … with serious-illness insurance this year
	cInsuredBoth                       // … with both (应保尽保)
	cPensionEligible                   // adults eligible for basic pension
	cPensionEnrolled                   // … enrolled
	cEmployed                          // persons employed now
	cTrained                           // persons with a passed training
	cTrainedDue                        // … whose training ended 6 months ago or more
	cTrainedEmployed                   // … employed within 6 months of training
	cHukouDone                         // persons with hukou moved or a residence permit
	cFamilyDoctor                      // persons with a family-doctor contract
	cDisabled                          // persons with a disability
	cHouseholds                        // registered households
	cHouseholdsLabour                  // households with labour
	cHouseholdsEmployed                // … with at least one member employed
	cZeroEmployment                    // 零就业户: households with labour and no one employed
	cDeeds                             // households with the title registered
	cHukouHouseholds                   // households whose members all moved hukou or hold permits
	cReclaimed                         // households whose old homestead is reclaimed or re-greened
	cDibao                             // households on minimum-living allowance (低保)
	cTekun                             // households on extreme-poverty support (特困)
	cBenefit                           // households with a benefit linkage (利益联结)
	cLandRights                        // households with farmland rights recorded
	cForestRights                      // households with forest rights recorded
	cRegisteredPoor                    // 建档立卡 households
	cSecure                            // households meeting 两不愁三保障
	cSites                             // sites
	cSitesCentralized                  // centralized sites
	cInfraWater                        // sites with each infrastructure item done
	cInfraPower
	cInfraRoad
	cInfraGas
	cInfraTelecom
	cInfraSewage
	cInfraSanitation
	cInfraHeating
	cInfraAll       // sites with all eight items done
	cClinics        // sites served by a clinic
	cSchools        // sites served by a school
	cSchoolSeats    // school seats serving sites
	cWorkshops      // community factories and poverty workshops
	cFactories      // … of which community factories
	cParks          // industrial parks and bases
	cParty          // sites with a party organisation
	cSelfGovernance // sites with a self-governance unit
	cEcommerce      // e-commerce or logistics points
	cLegalServices  // legal consultations given
	cFundsAllocated // yuan ×100 (fen)
	cFundsDisbursed // yuan ×100 (fen)
	cProjectJobs    // jobs of government-investment projects
	cProjectJobsRelocated
	nCounters
)

var counterNames = [nCounters]string{
	"persons", "labour", "school_age", "enrolled", "insured_basic", "insured_serious", "insured_both",
	"pension_eligible", "pension_enrolled", "employed", "trained", "trained_due", "trained_employed_6m",
	"hukou_done", "family_doctor", "disabled",
	"households", "households_labour", "households_employed", "zero_employment", "deeds", "hukou_households",
	"reclaimed", "dibao", "tekun", "benefit_linked", "land_rights", "forest_rights", "registered_poor", "secure",
	"sites", "sites_centralized", "infra_water", "infra_power", "infra_road", "infra_gas", "infra_telecom",
	"infra_sewage", "infra_sanitation", "infra_heating", "infra_all", "clinics", "schools", "school_seats",
	"workshops", "community_factories", "industrial_parks", "party_organisations", "self_governance_units",
	"ecommerce_points", "legal_consultations", "funds_allocated_fen", "funds_disbursed_fen",
	"project_jobs", "project_jobs_relocated",
}

// counters is a vector of indicators.
type counters [nCounters]int64

func (c *counters) add(o *counters, sign int64) {
	for i := range c {
		c[i] += sign * o[i]
	}
}

// area is a site, a county or the city: a name, counters and the area above.
type area struct {
	code   string
	name   string
	up     *area
	c      counters
	warns  map[string]int // open warnings by rule
	sites  int            // sites registered in the area (county, city)
	childs []string
}

func newArea(code, name string, up *area) *area {
	return &area{code: code, name: name, up: up, warns: map[string]int{}}
}

// bump applies a contribution change to an area and all areas above it.
func (a *area) bump(old, cur *counters) {
	for x := a; x != nil; x = x.up {
		x.c.add(old, -1)
		x.c.add(cur, +1)
	}
}

func (a *area) bumpOne(c counter, delta int64) {
	for x := a; x != nil; x = x.up {
		x.c[c] += delta
	}
}

func (a *area) bumpWarn(rule string, delta int) {
	for x := a; x != nil; x = x.up {
		x.warns[rule] += delta
		if x.warns[rule] == 0 {
			delete(x.warns, rule)
		}
	}
}

// bits are compact contributions of persons and households: bit i set means
// the entity adds one to counter i.
type bits uint64

func (b bits) has(c counter) bool { return b&(1<<c) != 0 }

func bit(c counter) bits { return 1 << c }

// applyBits moves an entity's contribution from old to cur on an area chain.
func applyBits(a *area, old, cur bits) {
	if old == cur || a == nil {
		return
	}
	for x := a; x != nil; x = x.up {
		for d := old ^ cur; d != 0; d &= d - 1 {
			i := trailingZeros(uint64(d))
			if cur&(1<<i) != 0 {
				x.c[i]++
			} else {
				x.c[i]--
			}
		}
	}
}

func trailingZeros(x uint64) int { return mathbits.TrailingZeros64(x) }
