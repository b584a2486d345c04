package hub

import (
	"net/http"

	"github.com/xianyang/anzhi/view"
)

// apiRules is the body of /api/v1/rules: the rule book (rules.json) as the
// view applies it.
type apiRules struct {
	Lead       string           `json:"lead"`
	EscalateTo string           `json:"escalate_to"`
	Rules      []view.RuleState `json:"rules"`
}

// rules answers GET /api/v1/rules: every rule with its state (evaluated,
// or pending: not evaluated yet, so never warned about), its params and
// its responsible units.
func (a *api) rules(*http.Request) (any, error) {
	book := a.cat.Rules()
	return apiRules{Lead: book.Lead, EscalateTo: book.EscalateTo, Rules: view.RuleStates(a.cat)}, nil
}
