package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Rule is one policy rule of the guidance as data (rules.json).
type Rule struct {
	ID      string `json:"id"`    // R1, R2, …
	Title   string `json:"title"` // short Chinese title
	Entity  string `json:"entity"`
	Section string `json:"section"` // section of the guidance, e.g. 二(五)
	// AnnexRow is the row of the responsibility list the rule belongs to.
	AnnexRow int `json:"annex_row"`
	// Clause quotes the guidance's sentence the rule comes from.
	Clause string `json:"clause"`
	// Responsible are the departments a warning goes to (empty when the
	// rule decides per case: an infrastructure item's owner, a task's owner,
	// the silent department).
	Responsible []string `json:"responsible"`
	// DueDays is how long the responsible department has to act before the
	// warning escalates to the lead office.
	DueDays int             `json:"due_days"`
	Params  json.RawMessage `json:"params"`
}

// Due returns the due date of a warning raised at t.
func (r *Rule) Due(t time.Time) time.Time { return t.AddDate(0, 0, r.DueDays) }

// DecodeParams decodes the rule's parameters into v.
func (r *Rule) DecodeParams(v any) error {
	if err := json.Unmarshal(r.Params, v); err != nil {
		return fmt.Errorf("rule %s params: %w", r.ID, err)
	}
	return nil
}

// RuleBook is rules.json.
type RuleBook struct {
	Lead          string  `json:"lead"`
	EscalateTo    string  `json:"escalate_to"`
	FreshnessDays int     `json:"freshness_days"`
	Rules         []*Rule `json:"rules"`
	byID          map[string]*Rule
}

// Rule returns a rule by id.
func (b *RuleBook) Rule(id string) (*Rule, bool) {
	r, ok := b.byID[id]
	return r, ok
}

// ResponsibilityTask is one key task (重点任务) of a responsibility-list row.
type ResponsibilityTask struct {
	TaskID        string `json:"task_id"`
	TaskNo        int    `json:"task_no"`
	Text          string `json:"text"`
	Target        string `json:"target"`             // complete, basically_complete, significant_progress, long_term
	Deadline      string `json:"deadline,omitempty"` // YYYY-MM-DD; none for long-term tasks
	FinalDeadline string `json:"final_deadline,omitempty"`
	FinalTarget   string `json:"final_target,omitempty"`
}

// ResponsibilityRow is one row of the annex 责任清单.
type ResponsibilityRow struct {
	Row          int                  `json:"row"`
	Department   string               `json:"department"` // "county" for row 25
	Unit         string               `json:"unit"`
	Duty         string               `json:"duty"`
	DeadlineText string               `json:"deadline_text"`
	Tasks        []ResponsibilityTask `json:"tasks"`
}

func loadRules(c *Catalog) error {
	b, err := files.ReadFile("rules.json")
	if err != nil {
		return fmt.Errorf("read rules.json: %w", err)
	}
	var rb RuleBook
	if err := json.Unmarshal(b, &rb); err != nil {
		return fmt.Errorf("rules.json: %w", err)
	}
	rb.byID = map[string]*Rule{}
	for _, r := range rb.Rules {
		if _, dup := rb.byID[r.ID]; dup {
			return fmt.Errorf("rules.json: rule %s twice", r.ID)
		}
		for _, d := range r.Responsible {
			if _, ok := c.depts[d]; !ok {
				return fmt.Errorf("rules.json: rule %s names unknown department %q", r.ID, d)
			}
		}
		if part, ok := quotesGuidance(r.Clause); !ok {
			return fmt.Errorf("rules.json: rule %s does not quote the guidance: %q is not in it", r.ID, part)
		}
		rb.byID[r.ID] = r
	}
	c.rules = &rb
	b, err = files.ReadFile("responsibilities.json")
	if err != nil {
		return fmt.Errorf("read responsibilities.json: %w", err)
	}
	var rl struct {
		Rows []ResponsibilityRow `json:"rows"`
	}
	if err := json.Unmarshal(b, &rl); err != nil {
		return fmt.Errorf("responsibilities.json: %w", err)
	}
	for _, row := range rl.Rows {
		if _, ok := c.depts[row.Department]; !ok && row.Department != "county" {
			return fmt.Errorf("responsibilities.json: row %d names unknown department %q", row.Row, row.Department)
		}
	}
	// The typed deadlines are what the annex's 完成时限 says.
	if err := checkMilestones(rl.Rows); err != nil {
		return fmt.Errorf("responsibilities.json: %w", err)
	}
	c.responsibilities = rl.Rows
	return nil
}

// quotesGuidance checks that every part of a clause (parts are separated by
// "……" or ";") is verbatim in the guidance, and returns the first part that
// is not.
func quotesGuidance(clause string) (string, bool) {
	g := Guidance()
	for _, p := range strings.FieldsFunc(strings.ReplaceAll(clause, "……", ";"), func(r rune) bool { return r == ';' }) {
		if p = strings.TrimSuffix(p, "。"); p != "" && !strings.Contains(g, p) {
			return p, false
		}
	}
	return "", true
}

// Rules returns the rule book.
func (c *Catalog) Rules() *RuleBook { return c.rules }

// Responsibilities returns the responsibility list, row by row.
func (c *Catalog) Responsibilities() []ResponsibilityRow { return c.responsibilities }

// Guidance returns the text of the city's guidance the rules quote.
func Guidance() string {
	b, _ := files.ReadFile("guidance.txt")
	return string(b)
}
