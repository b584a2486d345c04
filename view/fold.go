package view

import "github.com/xianyang/anzhi/fact"

// clockFamily is the hub's clock: not a fact about an entity, it sweeps the
// rules (see tick).
const clockFamily = "hub.tick"

// accessFamily is the hub's record of a read of personal data
// (hub.access): kept in the log for the auditors, and not even counted in
// the view, so that reading a household changes nothing anyone reads.
const accessFamily = "hub.access"

// entryFold folds one log entry of a family into the view.
type entryFold func(v *View, e *fact.Entry)

// foldTable is the table of folds: every family of the catalog the view
// folds, and how. Each fold lives in its domain's file (edu.go, health.go,
// hr.go, …). A catalog family neither here nor in notFolded fails
// TestEveryFamilyFoldedOrNot.
func foldTable() map[string]entryFold {
	t := map[string]entryFold{
		// The registry (poverty alleviation office): sites, households,
		// persons.
		"registry.site":      (*View).foldSite,
		"registry.household": (*View).foldHousehold,
		"registry.person":    (*View).foldPersonRegistry,

		// Facts about a person.
		"edu.enrolment":   foldPerson(foldEnrolment),
		"health.coverage": foldPerson(foldCoverage),
		"health.contract": foldPerson(foldContract),
		"hr.employment":   foldPerson(foldEmployment),
		"hr.training":     foldPerson(foldTraining),
		"hr.pension":      foldPerson(foldPensionFact),
		"police.hukou":    foldPerson(foldHukouFact),

		// Facts about a household.
		"resources.deeds":       foldHouseholdFamily(foldDeed),
		"resources.reclamation": foldHouseholdFamily(foldReclamation),
		"resources.landrights":  foldHouseholdFamily(foldLandRights),
		"forestry.rights":       foldHouseholdFamily(foldForestRights),
		"civil.assistance":      foldHouseholdFamily(foldAssistance),
		"industry.benefit":      foldHouseholdFamily(foldBenefit),

		// Facts about a site.
		"edu.capacity":         foldSiteFamily(foldSchool),
		"health.facility":      foldSiteFamily(foldClinic),
		"hr.workshop":          foldSiteFamily(foldWorkshop),
		"civil.community":      foldSiteFamily(foldCommunity),
		"org.partybranch":      foldSiteFamily(foldPartyBranch),
		"justice.consultation": foldSiteFamily(foldConsultation),
		"housing.quality":      foldSiteFamily(foldHousingQuality),
		"industry.park":        foldSiteFamily(foldPark),
		"commerce.ecommerce":   foldSiteFamily(foldEcommerce),

		// Projects, the lead office's plan, supervision.
		"hr.projectjobs":   foldProjectFamily(foldProjectJobs),
		"finance.funds":    foldProjectFamily(foldFunds),
		"plan.task":        (*View).foldPlanTask,
		"task.progress":    (*View).foldTaskProgress,
		"plan.meeting":     (*View).foldMeeting,
		"plan.assessment":  (*View).foldAssessment,
		"issue.report":     (*View).foldReport,
		"audit.finding":    (*View).foldFinding,
		"inspect.finding":  (*View).foldFinding,
		"warning.raised":   (*View).foldWarningEvent,
		"warning.resolved": (*View).foldWarningEvent,
	}
	for i, item := range infraItems {
		t["infra."+item] = foldSiteFamily(foldInfra(i))
	}
	return t
}

// notFolded are the families the catalog accepts and the view deliberately
// does not fold (yet), and why. They are logged and counted per department
// like every fact.
var notFolded = map[string]string{
	"hub.access": "records of who read a household's personal data, kept in the log for the auditors; not part of the shared view",
}
