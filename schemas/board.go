package schemas

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// AssessmentLine is one line of a county's score for its follow-up work
// (board.json): a rate of indicators.json, or one of the lines the board
// computes (AssessmentTasksOnTime, AssessmentWarningsSupervised).
type AssessmentLine struct {
	Line   string  `json:"line"`
	Rate   string  `json:"rate,omitempty"`
	Weight float64 `json:"weight"`
	// Target of a computed line; a rate line takes its indicator's.
	Target float64 `json:"target,omitempty"`
}

// Lines of the assessment the board computes rather than reads as a rate.
const (
	AssessmentTasksOnTime        = "tasks_on_time"
	AssessmentWarningsSupervised = "warnings_supervised"
)

// Board is how the task board reads the responsibility list (board.json).
type Board struct {
	// Links are the rates each annex task moves, by task id.
	Links map[string][]string `json:"links"`
	// Assessment scores a county's follow-up work.
	Assessment struct {
		FollowupShare float64          `json:"followup_share"`
		Lines         []AssessmentLine `json:"lines"`
	} `json:"assessment"`
}

// Board returns how the task board reads the responsibility list.
func (c *Catalog) Board() *Board { return c.board }

func loadBoard(c *Catalog) error {
	b, err := files.ReadFile("board.json")
	if err != nil {
		return fmt.Errorf("read board.json: %w", err)
	}
	var bd Board
	if err := json.Unmarshal(b, &bd); err != nil {
		return fmt.Errorf("board.json: %w", err)
	}
	tasks := map[string]bool{}
	for _, row := range c.responsibilities {
		for _, t := range row.Tasks {
			tasks[t.TaskID] = true
		}
	}
	rates := map[string]Indicator{}
	for _, in := range c.indicators {
		rates[in.Rate] = in
	}
	for id, rs := range bd.Links {
		if !tasks[id] {
			return fmt.Errorf("board.json: links name %s, which is not a task of the responsibility list", id)
		}
		for _, r := range rs {
			if _, ok := rates[r]; !ok {
				return fmt.Errorf("board.json: task %s moves %q, which is not a rate of indicators.json", id, r)
			}
		}
	}
	sum := 0.0
	seen := map[string]bool{}
	for i := range bd.Assessment.Lines {
		l := &bd.Assessment.Lines[i]
		if seen[l.Line] {
			return fmt.Errorf("board.json: assessment line %s twice", l.Line)
		}
		seen[l.Line] = true
		switch {
		case l.Rate != "":
			in, ok := rates[l.Rate]
			if !ok {
				return fmt.Errorf("board.json: assessment line %s reads %q, which is not a rate of indicators.json", l.Line, l.Rate)
			}
			l.Target = in.Target
		case !slices.Contains([]string{AssessmentTasksOnTime, AssessmentWarningsSupervised}, l.Line):
			return fmt.Errorf("board.json: assessment line %s is neither a rate nor %s or %s", l.Line, AssessmentTasksOnTime, AssessmentWarningsSupervised)
		case l.Target <= 0 || l.Target > 1:
			return fmt.Errorf("board.json: assessment line %s: target %v is not a share", l.Line, l.Target)
		}
		if l.Weight <= 0 {
			return fmt.Errorf("board.json: assessment line %s: weight %v must be positive", l.Line, l.Weight)
		}
		sum += l.Weight
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("board.json: assessment weights sum to %v, not 1", sum)
	}
	// The follow-up work weighs at least what R19 asks.
	var r19 struct {
		Weight float64 `json:"weight"`
	}
	if r, ok := c.rules.Rule("R19"); ok {
		if err := r.DecodeParams(&r19); err != nil {
			return fmt.Errorf("board.json: %w", err)
		}
	}
	if bd.Assessment.FollowupShare < r19.Weight {
		return fmt.Errorf("board.json: followup_share %v is below the %v R19 asks", bd.Assessment.FollowupShare, r19.Weight)
	}
	c.board = &bd
	return nil
}
