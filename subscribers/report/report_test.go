package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers/report"
	"github.com/xianyang/anzhi/view"
)

// world folds items into a fresh view, then ticks its clock to at.
func world(t *testing.T, cat *schemas.Catalog, at time.Time, items ...scenario.Item) *view.View {
	t.Helper()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	es, err := scenario.Entries(cat, items)
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		es[i].Seq = uint64(i + 1)
		v.Apply(&es[i])
	}
	b, _ := json.Marshal(map[string]any{"clock": "clock", "at": at.Format(time.RFC3339), "period": "minute"})
	v.Apply(&fact.Entry{Seq: uint64(len(es) + 1), Family: "hub.tick", Area: cat.City.Code, Source: "/xianyang/hub",
		ID: "tick-" + at.Format(time.RFC3339), Time: at, Recorded: at, Data: b})
	return v
}

// Sites and households of the scenario besides the village (乾县 610424):
// one in 礼泉县 (610425) whose insurance lapses.
const (
	otherSite = "S610425-0001"
	otherHH   = "H610425-000001"
)

// firstQuarter is what happened by the end of 2021Q1: the village, a site
// in 610425 whose member's insurance lapsed in February, the plan in
// force (a meeting every quarter through 2021Q1, every county's 2021
// scheme at 35% but 610425's at 20%), 1,000,000.50 yuan allocated to a
// project of 610424.
func firstQuarter() []scenario.Item {
	items := append(scenario.Village(2021), scenario.Site(otherSite, "610425", 1, 1))
	items = append(items, scenario.Household(otherHH, otherSite, 2021, []scenario.Member{{Key: scenario.Person(9), Born: 1970, Labour: "full"}})...)
	for _, it := range scenario.Covered(scenario.Person(9), otherHH, 2021, "lapsed") {
		items = append(items, scenario.At(it, scenario.Day("2021-02-01")))
	}
	items = append(items, scenario.Plan("2021Q1", 2021, "610425/2021")...)
	items = append(items, scenario.Scheme("610425", 2021, 0.2, "2021-02-15"),
		scenario.PlanTask("RL09-1", "hrss", "2021-05-31", "complete", scenario.Day("2021-01-10")),
		scenario.Funds("drc", "P610424-XM01", "610424", scenario.VillageSite, "allocated", 1000000.50, "2021-01-20"),
	)
	return items
}

// secondQuarter is what 2021Q2 added: the lapsed insurance renewed in
// May (R7 holds again, 610425's household is secure), progress on RL09-1 short of done
// (overdue from June), a joint meeting assigning an issue to 610424,
// 400,000.25 yuan disbursed to the project and 20 yuan allocated to one of
// 610425, and two problems fed back — one about the lapsed insurance's
// warning, acknowledged and then rectified, one about a site no one
// answered.
func secondQuarter(warning string) []scenario.Item {
	var renewed []scenario.Item
	for _, it := range scenario.Covered(scenario.Person(9), otherHH, 2021, "enrolled") {
		renewed = append(renewed, scenario.At(it, scenario.Day("2021-05-01")))
	}
	return append(renewed, []scenario.Item{
		scenario.Progress("RL09-1", "hrss", "in_progress", 80, "2021-05-20"),
		scenario.Meeting("2021Q2", "2021-06-20", scenario.Issue{No: 1, Owner: "county/610424", Due: "2021-12-31"}),
		scenario.Funds("finance", "P610424-XM01", "610424", scenario.VillageSite, "disbursed", 400000.25, "2021-05-10"),
		scenario.Funds("drc", "P610425-XM02", "610425", "", "allocated", 20, "2021-06-01"),
		scenario.Problem("FK-1", "county/610425", "610425", "2021-04-10", "搬迁户医保中断", "warning_id", warning),
		scenario.Answer("QS-1", "medins", "acknowledgement", warning, "610425", "2021-04-12"),
		scenario.Answer("WC-1", "medins", "rectified", warning, "610425", "2021-04-30"),
		scenario.Problem("FK-2", "county/610425", "610425", "2021-05-05", "安置点配套资金缺口", "site_id", otherSite),
	}...)
}

// scenarioViews returns the views of 2021Q2 (at 2021-06-30 20:00 CST) and
// of 2021Q1 (at its last minute), and the R7 warning the problem is about.
func scenarioViews(t *testing.T, cat *schemas.Catalog) (cur, prev *view.View, r7 string) {
	t.Helper()
	prev = world(t, cat, time.Date(2021, 3, 31, 15, 59, 0, 0, time.UTC), firstQuarter()...)
	ws := prev.Warnings(view.WarningQuery{Rule: "R7", County: "610425"})
	if len(ws) != 1 {
		t.Fatalf("R7 warnings of 610425 at 2021Q1's end: %+v", ws)
	}
	r7 = ws[0].ID
	cur = world(t, cat, time.Date(2021, 6, 30, 12, 0, 0, 0, time.UTC), append(firstQuarter(), secondQuarter(r7)...)...)
	return cur, prev, r7
}

func buildReport(t *testing.T, cat *schemas.Catalog, cur, prev *view.View, county string) *report.Report {
	t.Helper()
	r, err := report.Build(cat, report.Input{Quarter: "2021Q2", View: cur, Previous: prev, Closed: true,
		AsOf: time.Date(2021, 6, 30, 15, 59, 59, 0, time.UTC), County: county})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportDeterministic: the same views give the same bytes in every
// format.
func TestReportDeterministic(t *testing.T) {
	cat := schemas.MustLoad()
	cur, prev, _ := scenarioViews(t, cat)
	for _, f := range report.Formats() {
		var a, b bytes.Buffer
		if err := buildReport(t, cat, cur, prev, "").Write(&a, f); err != nil {
			t.Fatal(err)
		}
		if err := buildReport(t, cat, cur, prev, "").Write(&b, f); err != nil {
			t.Fatal(err)
		}
		if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: two reports of the same views differ (%d and %d bytes)", f, a.Len(), b.Len())
		}
		if dir := os.Getenv("ANZHI_REPORT_OUT"); dir != "" {
			_ = os.WriteFile(dir+"/report."+string(f), a.Bytes(), 0o644)
		}
	}
}

// TestReportBadInput: a quarter, format or county that does not exist is
// ErrInvalid, naming it.
func TestReportBadInput(t *testing.T) {
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   report.Input
		want string
	}{
		{report.Input{Quarter: "2025Q5", View: v}, "2025Q5"},
		{report.Input{Quarter: "2025Q4", View: v, County: "610400"}, "610400"},
		{report.Input{Quarter: "2025Q4", View: v, County: "999999"}, "999999"},
		{report.Input{Quarter: "2025Q4"}, "no view"},
	} {
		_, err := report.Build(cat, tc.in)
		if !errors.Is(err, report.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrInvalid naming %s", tc.in, err, tc.want)
		}
	}
	if _, err := report.ParseFormat("pdf"); !errors.Is(err, report.ErrInvalid) || !strings.Contains(err.Error(), "pdf") {
		t.Errorf("format pdf: %v", err)
	}
	var b bytes.Buffer
	r, err := report.Build(cat, report.Input{Quarter: "2025Q4", View: v})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Write(&b, "pdf"); !errors.Is(err, report.ErrInvalid) {
		t.Errorf("write as pdf: %v", err)
	}
}
