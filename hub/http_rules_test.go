package hub_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestHTTPRules: /api/v1/rules reads the rule book with each rule's state;
// R15, R16 and R19 show as pending until they are evaluated.
func TestHTTPRules(t *testing.T) {
	_, _, _, base := httpHub(t)
	r := do(t, http.MethodGet, base+"/api/v1/rules")
	if r.code != http.StatusOK {
		t.Fatalf("GET /api/v1/rules: %d %s", r.code, r.body)
	}
	conforms(t, "rules", "RuleBook", r.body)
	var book struct {
		Lead  string `json:"lead"`
		Rules []struct {
			ID          string          `json:"id"`
			State       string          `json:"state"`
			Responsible []string        `json:"responsible"`
			PerInstance string          `json:"responsible_per_instance"`
			Params      json.RawMessage `json:"params"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(r.body, &book); err != nil {
		t.Fatal(err)
	}
	if want := len(schemas.MustLoad().Rules().Rules); book.Lead == "" || len(book.Rules) != want || want < 21 {
		t.Fatalf("lead %q, %d rules, want the rule book's %d", book.Lead, len(book.Rules), want)
	}
	state := map[string]string{}
	for _, rule := range book.Rules {
		state[rule.ID] = rule.State
		if rule.ID == "R12" && (rule.PerInstance == "" || len(rule.Params) < 10) {
			t.Errorf("R12: per instance %q, params %s", rule.PerInstance, rule.Params)
		}
		if rule.ID == "R7" && (len(rule.Responsible) != 1 || rule.Responsible[0] != "medins") {
			t.Errorf("R7 responsible %v, want [medins]", rule.Responsible)
		}
	}
	for id, want := range map[string]string{"R1": "evaluated", "R12": "evaluated", "R18": "evaluated",
		"R15": "evaluated", "R16": "evaluated", "R19": "evaluated"} {
		if state[id] != want {
			t.Errorf("%s is %q, want %q", id, state[id], want)
		}
	}
	if r := do(t, http.MethodGet, base+"/api/v1/rules?rule=R1"); r.code != http.StatusBadRequest {
		t.Errorf("GET /api/v1/rules?rule=R1: %d, want 400", r.code)
	}
}
