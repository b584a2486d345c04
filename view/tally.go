package view

import (
	"sort"
	"time"
)

// Tallies of the open warnings for a report: how many of each rule are in
// each supervision state, and the oldest still open — read without
// describing every warning, so that they stay cheap with hundreds of
// thousands open.

// RuleTally is the open warnings of one rule in an area by supervision
// state.
type RuleTally struct {
	Rule string `json:"rule"`
	Open int    `json:"open"`
	// Unanswered, Acknowledged and Escalated split Open by supervision
	// state (open, acknowledged, escalated).
	Unanswered   int `json:"unanswered"`
	Acknowledged int `json:"acknowledged"`
	Escalated    int `json:"escalated"`
	// Rectified counts those whose rectification is reported (not yet
	// confirmed by the facts: the warning is still open).
	Rectified int `json:"rectification_reported"`
	// RaisedSince counts those the hub raised at or after the time asked.
	RaisedSince int `json:"raised_since"`
}

// WarningTallies returns the open warnings of an area (a county's code,
// the city's for the city's own, "" for all) by rule, in rule order; only
// rules with a warning open appear.
func (v *View) WarningTallies(area string, since time.Time) []RuleTally {
	v.mu.RLock()
	defer v.mu.RUnlock()
	by := map[RuleID]*RuleTally{}
	for k, w := range v.warnings {
		if area != "" && v.entityArea(k) != area {
			continue
		}
		t := by[k.rule]
		if t == nil {
			t = &RuleTally{Rule: k.rule.String()}
			by[k.rule] = t
		}
		t.Open++
		switch w.sup {
		case 0:
			t.Unanswered++
		case 1:
			t.Acknowledged++
		default:
			t.Escalated++
		}
		if w.rect {
			t.Rectified++
		}
		if !w.raised.Time().Before(since) {
			t.RaisedSince++
		}
	}
	rules := make([]RuleID, 0, len(by))
	for r := range by {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i] < rules[j] })
	out := make([]RuleTally, 0, len(rules))
	for _, r := range rules {
		out = append(out, *by[r])
	}
	return out
}

// OldestWarnings returns up to n open warnings of an area ("" for all)
// that the hub raised first, oldest first (ties by warning id); only those
// are described.
func (v *View) OldestWarnings(area string, n int) []Warning {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var ws []*warning
	for k, w := range v.warnings {
		if area == "" || v.entityArea(k) == area {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].raised != ws[j].raised {
			return ws[i].raised < ws[j].raised
		}
		return warningID(ws[i].key.rule, ws[i].id) < warningID(ws[j].key.rule, ws[j].id)
	})
	out := make([]Warning, 0, min(n, len(ws)))
	for _, w := range ws[:min(n, len(ws))] {
		out = append(out, v.describe(w))
	}
	return out
}
