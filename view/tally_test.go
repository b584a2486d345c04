package view_test

import (
	"reflect"
	"testing"

	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestRateBases: every rate with a target has the count it is a share of.
func TestRateBases(t *testing.T) {
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	counts := v.City().Indicators.Counts
	for _, in := range cat.Indicators() {
		base, ok := view.RateBase(in.Rate)
		if _, counted := counts[base]; !ok || !counted {
			t.Errorf("rate %s: base %q (%v), not a count of the indicators", in.Rate, base, ok)
		}
	}
	if base, _ := view.RateBase("secure"); base != "households" {
		t.Errorf("secure is a share of %q, want households", base)
	}
}

// TestFundsAndTallies: the projects' funds by area, and the open warnings
// by rule and supervision state with the oldest named.
func TestFundsAndTallies(t *testing.T) {
	w := newRuleWorld(t)
	w.fold(
		scenario.Funds("drc", "P610424-XM01", "610424", "S610424-0001", "allocated", 1000000.5, "2021-01-10"),
		scenario.Funds("finance", "P610424-XM01", "610424", "S610424-0001", "disbursed", 400000.25, "2021-02-10"),
		scenario.Funds("drc", "P610424-XM01", "610424", "", "returned", 100000, "2021-03-10"),
		scenario.Funds("drc", "P610425-XM02", "610425", "", "allocated", 20, "2021-01-10"),
	)
	got := w.v.Funds("")
	want := []view.ProjectFunds{{ProjectID: "P610424-XM01", Area: "610424", Allocated: 90000050, Disbursed: 40000025},
		{ProjectID: "P610425-XM02", Area: "610425", Allocated: 2000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("funds %+v, want %+v", got, want)
	}
	if got := w.v.Funds("610425"); len(got) != 1 || got[0].ProjectID != "P610425-XM02" {
		t.Errorf("610425's funds %+v", got)
	}

	// Two households' members lapse (R7), one county each is answered.
	w.fold(scenario.Village(2021)...)
	for _, it := range scenario.Covered(scenario.Person(0), scenario.VillageHousehold, 2021, "lapsed") {
		w.fold(scenario.At(it, scenario.Day("2021-03-01")))
	}
	w.tick(scenario.Day("2021-06-01"))
	open := w.v.Warnings(view.WarningQuery{})
	if len(open) == 0 {
		t.Fatal("no warning open")
	}
	w.fold(scenario.Answer("ACK-9", "medins", "acknowledgement", open[0].ID, "610424", "2021-06-02"),
		scenario.Answer("WC-9", "medins", "rectified", open[0].ID, "610424", "2021-06-03"))
	tallies := w.v.WarningTallies("610424", scenario.Day("2021-04-01"))
	var r7 *view.RuleTally
	for i := range tallies {
		if tallies[i].Rule == open[0].Rule {
			r7 = &tallies[i]
		}
	}
	n := 0
	for _, x := range open {
		if x.Rule == open[0].Rule {
			n++
		}
	}
	if r7 == nil || r7.Open != n || r7.Acknowledged != 1 || r7.Rectified != 1 || r7.Unanswered != n-1 || r7.RaisedSince != n {
		t.Errorf("%s tally %+v, want %d open, 1 acknowledged and rectified, all raised since April", open[0].Rule, r7, n)
	}
	if got := w.v.WarningTallies("610424", scenario.Day("2021-07-01")); len(got) == 0 || got[0].RaisedSince != 0 {
		t.Errorf("raised since July: %+v", got)
	}
	if got := w.v.WarningTallies("610425", scenario.Day("2021-01-01")); len(got) != 0 {
		t.Errorf("610425 has no warning: %+v", got)
	}
	oldest := w.v.OldestWarnings("", 1)
	if len(oldest) != 1 || oldest[0].Message == "" {
		t.Errorf("the oldest warning: %+v", oldest)
	}
}
