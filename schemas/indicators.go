package schemas

import (
	"encoding/json"
	"fmt"
)

// Indicator is a rate shown against the guidance's target (indicators.json).
type Indicator struct {
	Rate   string  `json:"rate"`
	Target float64 `json:"target"`
	Amber  float64 `json:"amber"`
	Rule   string  `json:"rule,omitempty"`
}

// Grade is how a value stands against the target: green at or above it,
// amber within Amber below it, red further below.
func (i Indicator) Grade(v float64) string {
	switch {
	case v >= i.Target-1e-9:
		return "green"
	case v >= i.Target-i.Amber-1e-9:
		return "amber"
	}
	return "red"
}

// Indicators returns the indicators with targets, in the order shown.
func (c *Catalog) Indicators() []Indicator { return append([]Indicator(nil), c.indicators...) }

func loadIndicators(c *Catalog) error {
	b, err := files.ReadFile("indicators.json")
	if err != nil {
		return fmt.Errorf("read indicators.json: %w", err)
	}
	var doc struct {
		Indicators []Indicator `json:"indicators"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("indicators.json: %w", err)
	}
	for _, in := range doc.Indicators {
		if in.Target <= 0 || in.Target > 1 || in.Amber < 0 {
			return fmt.Errorf("indicators.json: %s: target %v and amber %v must be shares", in.Rate, in.Target, in.Amber)
		}
		if in.Rule != "" {
			if _, ok := c.rules.Rule(in.Rule); !ok {
				return fmt.Errorf("indicators.json: %s names unknown rule %s", in.Rate, in.Rule)
			}
		}
	}
	c.indicators = doc.Indicators
	return nil
}
