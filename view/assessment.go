package view

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// The counties' assessment: R19 (the follow-up work weighs at least 30% of
// each county's assessment of poverty-alleviation results) and a score of
// each county's follow-up work, line by line (weights in board.json).

// countyYear packs a county (by catalog index) and a year into a warning's
// index.
func countyYear(county int, year int) uint32 { return uint32(county)<<8 | uint32(year-2000) }

func (k wkey) countyYear() (county int, year int) { return int(k.idx >> 8), int(k.idx&0xff) + 2000 }

// yearsJudged are the years R19 judges: from its params' first to the
// recorded clock's (a year's missing scheme only once it was due), once the
// plan runs in the system: the list in force, or a county's scheme.
func (v *View) yearsJudged() (from, to int, ok bool) {
	if !(v.plan.InForce || len(v.plan.Schemes) > 0) || v.clock.IsZero() || v.p.schemeFromYear == 0 {
		return 0, 0, false
	}
	to = v.clock.Year()
	return v.p.schemeFromYear, to, to >= v.p.schemeFromYear
}

// schemeDue is the end of the day a year's scheme is due by.
func (v *View) schemeDue(year int) time.Time {
	return time.Date(year, time.Month(v.p.schemeByMonth), v.p.schemeByDay, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
}

// evalScheme is R19: each county publishes its assessment scheme by the
// year's first quarter, the follow-up work weighing at least 30% of it.
func (v *View) evalScheme(k wkey, detail bool) finding {
	ci, year := k.countyYear()
	from, to, ok := v.yearsJudged()
	if !ok || ci >= len(v.plan.counties) || year < from || year > to {
		return finding{}
	}
	county := v.plan.counties[ci]
	s := v.plan.Schemes[county+"/"+strconv.Itoa(year)]
	if s != nil && s.followup() >= v.p.schemeWeight-1e-9 {
		return finding{}
	}
	name := v.areaOf(county).name
	if s == nil {
		if v.clock.Before(v.schemeDue(year)) {
			return finding{} // not due yet
		}
		f := finding{broken: true, since: v.schemeDue(year)}
		if detail {
			f.message = fmt.Sprintf("%s未按期发布%d年脱贫攻坚成效考核方案", name, year)
		}
		return f
	}
	since := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Published != 0 && s.Published.Time().After(since) {
		since = s.Published.Time()
	}
	f := finding{broken: true, since: since}
	if detail {
		f.message = fmt.Sprintf("%s%d年考核方案中易地扶贫搬迁后续扶持权重%.0f%%, 低于%.0f%%", name, year, s.followup()*100, v.p.schemeWeight*100)
		f.evidence = []Evidence{{Family: "plan.assessment", Key: s.Reg.key, Subject: s.ID, Time: s.Reg.eff.Time()}}
	}
	return f
}

// AssessmentView is a county's score for its follow-up work, line by line.
type AssessmentView struct {
	County string `json:"county"`
	Name   string `json:"name"`
	// Quarter and AsOf say which state it was scored on: the view's clock.
	Quarter string    `json:"quarter"`
	AsOf    time.Time `json:"as_of"`
	// Score is out of 100: the lines' points over the measured lines'
	// weight.
	Score float64          `json:"score"`
	Lines []AssessmentLine `json:"lines"`
	// Weight is the follow-up work's share of the county's assessment: its
	// scheme's for the year, or board.json's followup_share when it has
	// published none (WeightFrom says which).
	Weight     float64 `json:"followup_weight"`
	WeightFrom string  `json:"weight_from"` // scheme id, or "default"
	// Contribution is Score × Weight: the points the follow-up work brings
	// to the county's assessment out of 100.
	Contribution float64 `json:"contribution"`
	// Scheme problems R19 finds, if any.
	Finding string `json:"finding,omitempty"`
	Rank    int    `json:"rank"`
}

// AssessmentLine is one line of a score: which indicator, its value, its
// target, its weight and the points it earns.
type AssessmentLine struct {
	Line   string  `json:"line"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Weight float64 `json:"weight"`
	Points float64 `json:"points"`
	// Basis says what the value counts (e.g. 12 of 14 tasks not overdue).
	Basis string `json:"basis"`
	// Measured is false for a line with nothing to measure: it earns no
	// points and the score is out of the measured lines' weight.
	Measured bool `json:"measured"`
}

// Assessments scores every county on the view's state, best first.
func (v *View) Assessments() []AssessmentView {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]AssessmentView, 0, len(v.plan.counties))
	for _, c := range v.plan.counties {
		out = append(out, v.assess(c))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].County < out[j].County
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// assess scores one county.
func (v *View) assess(county string) AssessmentView {
	a := v.areaOf(county)
	out := AssessmentView{County: county, Name: a.name, Quarter: QuarterOf(v.clock), AsOf: v.clock, Lines: []AssessmentLine{}}
	rates := indicators(&a.c)
	board := v.cat.Board()
	measuredWeight := 0.0
	for _, l := range board.Assessment.Lines {
		line := AssessmentLine{Line: l.Line, Target: l.Target, Weight: l.Weight}
		switch l.Line {
		case schemas.AssessmentTasksOnTime:
			n, ok := 0, 0
			for _, i := range v.plan.byUnit["county/"+county] {
				u := v.plan.Units[i]
				t := v.plan.Tasks[u.Task]
				if t.Owner == "" || t.Withdrawn || !v.judged(t) || !v.plan.answers(t, u.Unit) {
					continue
				}
				n++
				if v.stateOf(t, u.Unit).board != TaskOverdue {
					ok++
				}
			}
			line.Value, line.Measured = rate(int64(ok), int64(n)), n > 0
			line.Basis = fmt.Sprintf("%d/%d", ok, n)
		case schemas.AssessmentWarningsSupervised:
			// Open warnings acknowledged before they escalated.
			open, acked := 0, 0
			for k, w := range v.warnings {
				if v.entityArea(k) != county {
					continue
				}
				open++
				if w.level == 0 && w.sup == 1 {
					acked++
				}
			}
			line.Value, line.Measured = rate(int64(acked), int64(open)), open > 0
			line.Basis = fmt.Sprintf("%d/%d", acked, open)
		default:
			line.Value, line.Measured = rates.Rates[l.Rate], measured(&a.c, l.Rate)
			line.Basis = l.Rate
		}
		if line.Measured {
			line.Points = round2(l.Weight * 100 * math.Min(1, line.Value/line.Target))
			out.Score += line.Points
			measuredWeight += l.Weight
		} else {
			line.Basis = "无数据 " + line.Basis
		}
		out.Lines = append(out.Lines, line)
	}
	// A line with nothing to measure (no tasks, no warnings open, no one
	// trained) neither earns nor loses points: the others share its weight.
	if measuredWeight > 0 {
		out.Score = round2(out.Score / measuredWeight)
	}
	out.Weight, out.WeightFrom = board.Assessment.FollowupShare, "default"
	year := v.clock.Year()
	if s := v.plan.Schemes[county+"/"+strconv.Itoa(year)]; s != nil {
		out.Weight, out.WeightFrom = s.followup(), s.ID
	}
	if ci := indexOf(v.plan.counties, county); ci >= 0 {
		if w := v.warnings[wkey{rule: 19, kind: entCounty, idx: countyYear(ci, year)}]; w != nil {
			out.Finding = v.eval(w.key, true).message
		}
	}
	out.Contribution = round2(out.Score * out.Weight)
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}
