package schemas

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestEveryRuleMatchesTheContract: a warning names its rule in the data
// of warning.raised and warning.resolved (defs.json#/$defs/rule); a rule of
// the rule book the pattern refused would be raised by the view and never
// written to the log.
func TestEveryRuleMatchesTheContract(t *testing.T) {
	b, err := files.ReadFile("catalog/defs.json")
	if err != nil {
		t.Fatal(err)
	}
	var defs struct {
		Defs map[string]struct {
			Pattern string `json:"pattern"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &defs); err != nil {
		t.Fatal(err)
	}
	re, err := regexp.Compile(defs.Defs["rule"].Pattern)
	if err != nil {
		t.Fatalf("defs.json rule pattern: %v", err)
	}
	cat := MustLoad()
	for _, r := range cat.Rules().Rules {
		if !re.MatchString(r.ID) {
			t.Errorf("rule %s does not match defs.json's rule pattern %s: its warnings could not be logged", r.ID, re)
		}
	}
	for _, bad := range []string{"R0", "R", "r4", "R4a", "R1000"} {
		if re.MatchString(bad) {
			t.Errorf("the rule pattern takes %q", bad)
		}
	}
}
