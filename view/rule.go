package view

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/xianyang/anzhi/schemas"
)

// RuleID is a rule of the rule book (schemas/rules.json) by its number: R1
// is RuleID(1). It is how the view keys, sorts and names warnings.
type RuleID uint8

// String returns the rule's id as rules.json spells it, e.g. "R12".
func (r RuleID) String() string { return "R" + strconv.Itoa(int(r)) }

// ParseRuleID reads a rule id spelt R<number> (R1 … R255). It does not
// check that the rule book has the rule.
func ParseRuleID(s string) (RuleID, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "R"))
	if err != nil || !strings.HasPrefix(s, "R") || n < 1 || n > 255 {
		return 0, fmt.Errorf("view: rule %q is not R followed by a number from 1 to 255", s)
	}
	return RuleID(n), nil
}

// CompareRules orders rule ids by number (R2 before R10); an id that does
// not parse sorts first.
func CompareRules(a, b string) int {
	ra, _ := ParseRuleID(a)
	rb, _ := ParseRuleID(b)
	return int(ra) - int(rb)
}

// ruleDef is everything the view knows about one evaluated rule: what kind
// of entity it judges (and which parts of a site), how, and who answers for
// a warning when rules.json cannot say it once for all.
type ruleDef struct {
	id   RuleID
	kind uint8 // entity kind judged (entPerson …); matches rules.json's entity
	// parts are the parts of a site judged separately, each its own warning
	// (nil: the whole entity, part subSite).
	parts []uint8
	eval  func(v *View, k wkey, detail bool) finding
	// responsible decides per instance who answers for a warning; nil means
	// rules.json's list (the lead office when it is empty). perPart means
	// the list of rules.json is per part: part i goes to its i-th unit.
	responsible func(v *View, k wkey) []string
	perPart     bool
	// perInstance says why responsible or perPart decides per instance.
	perInstance string
}

// ruleDefs is the table of evaluated rules, by entity kind and then rule
// number: the order the sweep judges them in. Every rule of rules.json is
// here or in pendingRules (TestEveryRuleEvaluatedOrPending).
func ruleDefs() []ruleDef {
	return []ruleDef{
		{id: 6, kind: entPerson, eval: (*View).evalEnrolment},
		{id: 7, kind: entPerson, eval: (*View).evalInsurance},
		{id: 8, kind: entPerson, eval: (*View).evalPension},

		{id: 4, kind: entHousehold, eval: (*View).evalZeroEmployment},
		{id: 9, kind: entHousehold, eval: (*View).evalDeed},
		{id: 10, kind: entHousehold, eval: (*View).evalHukou},
		{id: 11, kind: entHousehold, eval: (*View).evalReclamation},
		{id: 21, kind: entHousehold, eval: (*View).evalLinkage},
		{id: 23, kind: entHousehold, eval: (*View).evalSecure,
			responsible: func(v *View, k wkey) []string {
				return append([]string{"county/" + countyOfHousehold(v.households.at(k.idx).key)}, v.ruleResponsible(23)...)
			},
			perInstance: "the household's county government (主体责任, annex row 25), with the units of rules.json"},

		{id: 1, kind: entSite, eval: (*View).evalIndustry},
		{id: 2, kind: entSite, eval: (*View).evalCommunityFactory},
		{id: 5, kind: entSite, eval: (*View).evalTrainingEmployment},
		{id: 12, kind: entSite, parts: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, eval: (*View).evalInfrastructure,
			responsible: func(v *View, k wkey) []string { return v.p.infraOwners[infraItems[k.sub-subInfra]] },
			perInstance: "the owner of the infrastructure item, from the rule's params.items"},
		{id: 13, kind: entSite, parts: []uint8{subClinic, subSchool}, eval: (*View).evalClinicSchool, perPart: true,
			perInstance: "the clinic goes to the first unit (health), the school to the second (edu)"},
		{id: 14, kind: entSite, parts: []uint8{subSelfGov, subParty}, eval: (*View).evalSelfGovernance, perPart: true,
			perInstance: "the self-governance unit goes to the first unit (civil), the party organisation to the second (org)"},
		{id: 20, kind: entSite, eval: (*View).evalHousingQuality},
		{id: 24, kind: entSite, eval: (*View).evalSchoolSeats},
		{id: 25, kind: entSite, eval: (*View).evalCommunityFunds,
			responsible: func(v *View, k wkey) []string {
				return append([]string{"county/" + v.sites[k.idx].county}, v.ruleResponsible(25)...)
			},
			perInstance: "the site's county government (annex row 25), with 民政 (rules.json)"},

		{id: 3, kind: entProject, eval: (*View).evalProjectJobs},
		{id: 17, kind: entProject, eval: (*View).evalFundsElsewhere},

		{id: 18, kind: entDept, eval: (*View).evalFreshness,
			responsible: func(v *View, k wkey) []string { return []string{v.deptCodes[k.idx]} },
			perInstance: "the department that went silent"},

		{id: 15, kind: entTask, eval: (*View).evalTask,
			responsible: func(v *View, k wkey) []string { return []string{v.plan.Units[k.idx].Unit} },
			perInstance: "the unit whose share of the task is overdue (the owner, a co-owner, or a county government)"},
		{id: 16, kind: entCity, eval: (*View).evalMeeting},
		{id: 19, kind: entCounty, eval: (*View).evalScheme,
			responsible: func(v *View, k wkey) []string {
				ci, _ := k.countyYear()
				return append([]string{"county/" + v.plan.counties[ci]}, v.ruleResponsible(19)...)
			},
			perInstance: "the county government whose scheme it is, with the units of rules.json"},

		{id: 22, kind: entFinding, eval: (*View).evalFinding,
			responsible: func(v *View, k wkey) []string { return []string{v.findings.List[k.idx].Responsible} },
			perInstance: "the unit the finding names as responsible for rectifying it"},
	}
}

// pendingRules are the rules of rules.json the view does not evaluate yet,
// and why: they show as pending in RuleStates, and no warning names them.
var pendingRules = []struct {
	id  RuleID
	why string
}{}

// Rule states in RuleStates.
const (
	RuleEvaluated = "evaluated"
	RulePending   = "pending"
)

// RuleState is a rule of the rule book as the view applies it.
type RuleState struct {
	schemas.Rule
	// State is evaluated or pending (not yet evaluated: no warnings).
	State string `json:"state"`
	// PerInstance says how the responsible units are decided when it is per
	// warning (an infrastructure item's owner, the silent department).
	PerInstance string `json:"responsible_per_instance,omitempty"`
	// Pending says why a pending rule is not evaluated yet.
	Pending string `json:"pending_reason,omitempty"`
}

// RuleStates returns every rule of the catalog's rule book in number order,
// each with whether the view evaluates it. A rule neither evaluated nor
// pending is reported as pending with the reason "no evaluator".
func RuleStates(cat *schemas.Catalog) []RuleState {
	defs := map[RuleID]ruleDef{}
	for _, d := range ruleDefs() {
		defs[d.id] = d
	}
	pending := map[RuleID]string{}
	for _, p := range pendingRules {
		pending[p.id] = p.why
	}
	var out []RuleState
	for _, r := range cat.Rules().Rules {
		st := RuleState{Rule: *r, State: RulePending, Pending: "no evaluator"}
		if id, err := ParseRuleID(r.ID); err == nil {
			if d, ok := defs[id]; ok {
				st.State, st.Pending, st.PerInstance = RuleEvaluated, "", d.perInstance
			} else if why, ok := pending[id]; ok {
				st.Pending = why
			}
		}
		out = append(out, st)
	}
	sort.SliceStable(out, func(i, j int) bool { return CompareRules(out[i].ID, out[j].ID) < 0 })
	return out
}

// ruleTable is the view's index of ruleDefs.
type ruleTable struct {
	all    []ruleDef
	byID   map[RuleID]*ruleDef
	byKind [nEntityKinds][]*ruleDef
}

func newRuleTable() ruleTable {
	t := ruleTable{all: ruleDefs(), byID: map[RuleID]*ruleDef{}}
	for i := range t.all {
		d := &t.all[i]
		t.byID[d.id] = d
		t.byKind[d.kind] = append(t.byKind[d.kind], d)
	}
	return t
}

// partsOf returns the parts a rule judges separately (subSite alone for a
// whole entity).
func (d *ruleDef) partsOf() []uint8 {
	if d.parts == nil {
		return []uint8{subSite}
	}
	return d.parts
}

// knownRule parses a rule id the rule book has (evaluated or not).
func (v *View) knownRule(s string) (RuleID, bool) {
	id, err := ParseRuleID(s)
	if err != nil {
		return 0, false
	}
	_, ok := v.rules.Rule(id.String())
	return id, ok
}

// ruleResponsible is the list of units rules.json names for a rule.
func (v *View) ruleResponsible(id RuleID) []string {
	if r, ok := v.rules.Rule(id.String()); ok {
		return r.Responsible
	}
	return nil
}
