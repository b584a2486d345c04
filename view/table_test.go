package view

import (
	"slices"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestEveryFamilyFoldedOrNot: every family of the catalog is folded, listed
// as deliberately not folded, or the hub's clock — and the tables name no
// family the catalog lacks.
func TestEveryFamilyFoldedOrNot(t *testing.T) {
	cat := schemas.MustLoad()
	folds := foldTable()
	inCatalog := map[string]bool{}
	for _, f := range cat.Families() {
		inCatalog[f.Name] = true
		_, folded := folds[f.Name]
		_, skipped := notFolded[f.Name]
		switch {
		case f.Name == clockFamily:
			if folded || skipped {
				t.Errorf("%s is the clock, yet in the fold tables", f.Name)
			}
		case folded && skipped:
			t.Errorf("%s is both folded and listed as not folded", f.Name)
		case !folded && !skipped:
			t.Errorf("catalog family %s is neither folded (foldTable) nor listed in notFolded: add its fold to its domain's file", f.Name)
		}
	}
	for name := range folds {
		if !inCatalog[name] {
			t.Errorf("foldTable folds %s, which the catalog does not have", name)
		}
	}
	for name, why := range notFolded {
		if !inCatalog[name] {
			t.Errorf("notFolded lists %s, which the catalog does not have", name)
		}
		if why == "" {
			t.Errorf("notFolded lists %s without saying why", name)
		}
	}
}

// TestEveryRuleEvaluatedOrPending: every rule of rules.json has an evaluator
// or is listed as pending, its definition judges the entity rules.json
// names, and someone answers for every warning it can raise.
func TestEveryRuleEvaluatedOrPending(t *testing.T) {
	cat := schemas.MustLoad()
	book := cat.Rules()
	defs := newRuleTable()
	pending := map[RuleID]bool{}
	for _, p := range pendingRules {
		pending[p.id] = true
		if p.why == "" {
			t.Errorf("%s is pending without saying why", p.id)
		}
	}
	for _, r := range book.Rules {
		id, err := ParseRuleID(r.ID)
		if err != nil {
			t.Errorf("rules.json: %v", err)
			continue
		}
		if id.String() != r.ID {
			t.Errorf("rule %s reads back as %s", r.ID, id)
		}
		d := defs.byID[id]
		switch {
		case d != nil && pending[id]:
			t.Errorf("%s is both evaluated and pending", r.ID)
		case d == nil && !pending[id]:
			t.Errorf("rules.json rule %s has no evaluator in ruleDefs and is not in pendingRules", r.ID)
		}
		if d == nil {
			continue
		}
		if got := entityKinds[d.kind]; got != r.Entity {
			t.Errorf("%s judges a %s, rules.json says a %s", r.ID, got, r.Entity)
		}
		if d.perPart && len(d.parts) != len(r.Responsible) {
			t.Errorf("%s has %d parts but rules.json names %d responsible units, one per part", r.ID, len(d.parts), len(r.Responsible))
		}
		if len(r.Responsible) == 0 && d.responsible == nil {
			t.Errorf("%s: rules.json names no responsible unit and the definition decides none per instance", r.ID)
		}
		if (d.responsible != nil || d.perPart) != (d.perInstance != "") {
			t.Errorf("%s: a rule deciding its responsible units per instance says how in perInstance, and only then", r.ID)
		}
		for _, sub := range d.partsOf() {
			if d.kind != entSite && sub != subSite {
				t.Errorf("%s judges parts of a %s; only sites have parts", r.ID, r.Entity)
			}
		}
	}
	for _, d := range defs.all {
		if _, ok := book.Rule(d.id.String()); !ok {
			t.Errorf("ruleDefs evaluates %s, which rules.json does not have", d.id)
		}
	}
	for id := range pending {
		if _, ok := book.Rule(id.String()); !ok {
			t.Errorf("pendingRules lists %s, which rules.json does not have", id)
		}
	}
	// The sweep judges kinds in this order, rules by number within a kind.
	for k := range defs.byKind {
		if !slices.IsSortedFunc(defs.byKind[k], func(a, b *ruleDef) int { return int(a.id) - int(b.id) }) {
			t.Errorf("rules of entity kind %s are not in number order in ruleDefs", entityKinds[k])
		}
	}
}

// TestRuleStates: the rule book as the view applies it, R15, R16 and R19
// pending until the responsibility list is evaluated.
func TestRuleStates(t *testing.T) {
	cat := schemas.MustLoad()
	states := RuleStates(cat)
	if got, want := len(states), len(cat.Rules().Rules); got != want {
		t.Fatalf("%d rule states, want %d", got, want)
	}
	var pendingIDs []string
	for i, s := range states {
		if i > 0 && CompareRules(states[i-1].ID, s.ID) >= 0 {
			t.Errorf("%s listed after %s", s.ID, states[i-1].ID)
		}
		switch s.State {
		case RulePending:
			pendingIDs = append(pendingIDs, s.ID)
			if s.Pending == "" {
				t.Errorf("%s pending without a reason", s.ID)
			}
		case RuleEvaluated:
			if s.Pending != "" {
				t.Errorf("%s evaluated with a pending reason %q", s.ID, s.Pending)
			}
		default:
			t.Errorf("%s state %q", s.ID, s.State)
		}
	}
	if want := []string(nil); !slices.Equal(pendingIDs, want) {
		t.Errorf("pending rules %v, want %v", pendingIDs, want)
	}
	for _, s := range states {
		if s.ID == "R12" && (s.PerInstance == "" || len(s.Params) == 0) {
			t.Errorf("R12 state %+v: want its per-instance owners and params", s)
		}
	}
}

// TestParseRuleID: rule ids read R1 to R255 and compare by number.
func TestParseRuleID(t *testing.T) {
	tests := []struct {
		in      string
		want    RuleID
		withErr bool
	}{
		{"R1", 1, false}, {"R19", 19, false}, {"R255", 255, false},
		{"", 0, true}, {"R", 0, true}, {"1", 0, true}, {"R0", 0, true}, {"R256", 0, true}, {"r1", 0, true}, {"R-1", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseRuleID(tc.in)
		if (err != nil) != tc.withErr || got != tc.want {
			t.Errorf("ParseRuleID(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.withErr)
		}
	}
	if got := CompareRules("R2", "R10"); got >= 0 {
		t.Errorf("CompareRules(R2, R10) = %d, want < 0", got)
	}
}

// TestNameTablesComplete: every enum, counter, register and site part has
// its name, and names are unique where they are keys.
func TestNameTablesComplete(t *testing.T) {
	folds := foldTable()
	unique := func(what string, names []string, skipFirst bool) {
		seen := map[string]bool{}
		for i, n := range names {
			if i == 0 && skipFirst {
				continue
			}
			if n == "" {
				t.Errorf("%s %d has no name", what, i)
			}
			if seen[n] {
				t.Errorf("%s name %q twice", what, n)
			}
			seen[n] = true
		}
	}
	unique("counter", counterNames[:], false)
	unique("site part", siteParts[:], true)
	unique("entity kind", entityKinds[:], true)
	unique("infrastructure item", infraItems[:], false)
	for _, fam := range personGroupFamily {
		if folds[fam] == nil {
			t.Errorf("person register of %q: the family is not folded", fam)
		}
	}
	for _, fam := range householdGroupFamily {
		if folds[fam] == nil {
			t.Errorf("household register of %q: the family is not folded", fam)
		}
	}
	for i, it := range infraItems {
		if siteParts[subInfra+uint8(i)] != it {
			t.Errorf("site part %d is %q, want infrastructure item %q", subInfra+uint8(i), siteParts[subInfra+uint8(i)], it)
		}
		if infraNames[it] == "" {
			t.Errorf("infrastructure item %q has no Chinese name", it)
		}
	}
	for k := entPerson; k < nEntityKinds; k++ {
		if entityKinds[k] == "" {
			t.Errorf("entity kind %d has no name", k)
		}
	}
	seen := map[counter]bool{}
	for _, c := range memberCounters {
		if seen[c] {
			t.Errorf("member count of %s twice", counterNames[c])
		}
		seen[c] = true
	}
	for _, tc := range []struct {
		what  string
		names int
		last  uint8
	}{
		{"sex", len(sexNames), sexFemale}, {"labour", len(labourNames), labourStudent}, {"status", len(statusNames), statusMovedAway},
		{"education", len(eduNames), eduGraduated}, {"coverage", len(coverageNames), covExempt},
		{"employment", len(employmentNames), empUnemployed}, {"hukou", len(hukouNames), hukouResidenceRegistered},
		{"deed", len(deedNames), deedIssued}, {"arrangement", len(arrangementNames), arrangementPooled},
		{"infrastructure status", len(infraStatusNames), infraNotNeeded}, {"reclamation", len(reclaimStages), reclaimRetained},
		{"level", len(levelNames), 1}, {"supervision", len(supervisionNames), 2},
	} {
		if tc.names != int(tc.last)+1 {
			t.Errorf("%s: %d names for %d values", tc.what, tc.names, tc.last+1)
		}
	}
}

// TestEveryRegisterShown: every person and household register but the
// registry's feeds an obligation of its page (or, for a household, is
// listed in unshownHouseholdGroups with a reason), and each obligation
// names the register's family. A register is shown when an entity whose
// only fact is in that register renders an obligation pointing at it.
func TestEveryRegisterShown(t *testing.T) {
	names := func(what string, n []string) {
		seen := map[string]bool{}
		for _, name := range n {
			if name == "" || seen[name] {
				t.Errorf("%s obligation name %q empty or twice", what, name)
			}
			seen[name] = true
		}
	}
	var pn, hn []string
	for _, o := range personObligations {
		pn = append(pn, o.name)
	}
	for _, o := range householdObligations {
		hn = append(hn, o.name)
	}
	names("person", pn)
	names("household", hn)

	for g := range nPersonGroups {
		var p person
		p.keys[g] = 1
		var shown []string
		for _, o := range personObligations {
			if f := o.render(&p).Fact; f != nil {
				shown = append(shown, o.name)
				if f.Family != personGroupFamily[g] {
					t.Errorf("person obligation %s shows register %d as family %s, want %s", o.name, g, f.Family, personGroupFamily[g])
				}
			}
		}
		switch {
		case g == pgRegistry && len(shown) > 0:
			t.Errorf("person obligations %v show the registry's fact; the registry is the person itself", shown)
		case g != pgRegistry && len(shown) == 0:
			t.Errorf("person register %d (%s) feeds no obligation (see the pg constants in person.go): add one to its domain's personObligations list", g, personGroupFamily[g])
		}
	}

	for g := range nHouseholdGroups {
		var h household
		h.keys[g] = 1
		var shown []string
		for _, o := range householdObligations {
			if f := o.render(&h).Fact; f != nil {
				shown = append(shown, o.name)
				if f.Family != householdGroupFamily[g] {
					t.Errorf("household obligation %s shows register %d as family %s, want %s", o.name, g, f.Family, householdGroupFamily[g])
				}
			}
		}
		why, unshown := unshownHouseholdGroups[g]
		switch {
		case g == hgRegistry && len(shown) > 0:
			t.Errorf("household obligations %v show the registry's fact; the registry is the household itself", shown)
		case g == hgRegistry && unshown:
			t.Errorf("unshownHouseholdGroups lists the registry, which no obligation is meant to show")
		case g != hgRegistry && unshown && len(shown) > 0:
			t.Errorf("household register %d (%s) is listed as unshown, yet obligations %v show it", g, householdGroupFamily[g], shown)
		case unshown && why == "":
			t.Errorf("household register %d (%s) is unshown without saying why", g, householdGroupFamily[g])
		case g != hgRegistry && !unshown && len(shown) == 0:
			t.Errorf("household register %d (%s) feeds no obligation (see the hg constants in household.go): add one to its domain's householdObligations list, or list it in unshownHouseholdGroups with why", g, householdGroupFamily[g])
		}
	}
	for g := range unshownHouseholdGroups {
		if g < 0 || g >= nHouseholdGroups {
			t.Errorf("unshownHouseholdGroups lists register %d, which households do not have", g)
		}
	}
}
