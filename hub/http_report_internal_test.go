package hub

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/subscribers/report"
	"github.com/xianyang/anzhi/view"
)

// TestPastQuarterReportedAsItStood: the report of a quarter that has
// ended is read from the recorded cut at its end, so one built after more
// facts arrived is byte for byte the one built before, and differs from
// the current quarter's. The log's recorded times are the wall clock's, so
// the test moves the past quarter's end (cutOfQuarter) between two batches
// of facts.
func TestPastQuarterReportedAsItStood(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	h, nc, _ := startInternal(t, Config{})
	current := view.QuarterOf(time.Now().In(view.ChinaTime()))
	curStart, _, _ := view.ParseQuarter(current)
	past := view.QuarterOf(curStart.AddDate(0, 0, -1))
	pastStart, _, _ := view.ParseQuarter(past)
	year := pastStart.Year()
	day := func(t time.Time) string { return t.Format(time.DateOnly) }

	publish := func(at time.Time, items ...scenario.Item) {
		t.Helper()
		if err := scenario.Publish(ctx, nc, items); err != nil {
			t.Fatal(err)
		}
		if err := h.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
		if err := h.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// What the hub knew by the past quarter's end.
	first := append(scenario.Village(year), scenario.Plan(past, year)...)
	first = append(first, scenario.Funds("drc", "P610424-XM01", "610424", scenario.VillageSite, "allocated", 1000, day(pastStart.AddDate(0, 0, 10))),
		scenario.Problem("FK-PAST", "county/610424", "610424", day(pastStart.AddDate(0, 0, 20)), "安置点道路破损"))
	publish(pastStart.AddDate(0, 0, 60), first...)
	end := time.Now()
	time.Sleep(20 * time.Millisecond) // the next batch is stored after the quarter's end
	a := newAPI(h)
	a.cutOfQuarter = func(q string, last time.Time) time.Time {
		if q == past {
			return end
		}
		return last
	}

	// Facts after it, then the report; more facts, the report again.
	publish(curStart.AddDate(0, 0, 1),
		scenario.Funds("finance", "P610424-XM01", "610424", scenario.VillageSite, "disbursed", 600, day(pastStart.AddDate(0, 0, 30))),
		scenario.Problem("FK-LATE", "county/610424", "610424", day(pastStart.AddDate(0, 0, 40)), "迟报的问题"))
	build := func(quarter string, f report.Format) []byte {
		t.Helper()
		b, _, err := a.buildReport(ctx, quarter, "", f)
		if err != nil {
			t.Fatalf("%s %s: %v", quarter, f, err)
		}
		return b
	}
	before := map[report.Format][]byte{}
	for _, f := range report.Formats() {
		before[f] = build(past, f)
	}
	publish(curStart.AddDate(0, 0, 2),
		scenario.Funds("drc", "P610424-XM01", "610424", scenario.VillageSite, "allocated", 5000, day(pastStart.AddDate(0, 0, 50))),
		scenario.Problem("FK-LATER", "county/610424", "610424", day(pastStart.AddDate(0, 0, 50)), "更迟报的问题"))
	for _, f := range report.Formats() {
		if after := build(past, f); !bytes.Equal(after, before[f]) {
			t.Errorf("%s report of %s changed after later facts (%d bytes, then %d)", f, past, len(before[f]), len(after))
		}
	}
	md := string(before[report.Markdown])
	for _, want := range []string{"FK-PAST", "1,000.00", "季度已结束"} {
		if !bytes.Contains(before[report.Markdown], []byte(want)) {
			t.Errorf("the %s report lacks %q", past, want)
		}
	}
	for _, late := range []string{"FK-LATE", "FK-LATER", "600.00", "6,000.00"} {
		if bytes.Contains(before[report.Markdown], []byte(late)) {
			t.Errorf("the %s report holds %q, which arrived after its end", past, late)
		}
	}
	now := build(current, report.Markdown)
	if bytes.Equal(now, before[report.Markdown]) {
		t.Fatalf("the current quarter's report is the past quarter's")
	}
	for _, want := range []string{"FK-LATE", "FK-LATER", "6,000.00", "本季度尚未结束"} {
		if !bytes.Contains(now, []byte(want)) {
			t.Errorf("the %s report lacks %q", current, want)
		}
	}
	// The current quarter compares with the past one as it stood: the
	// allocation of 5,000 arrived after, so the quarter added it.
	if want := "| 610424 | 乾县 | 6,000.00 | 600.00 | 5,400.00 | 10.00% | 5,000.00 | 600.00 |"; !bytes.Contains(now, []byte(want)) {
		t.Errorf("the current report's funds of 610424 are not %s:\n%s", want, grep(string(now), "| 610424 | 乾县 | 6"))
	}
	if t.Failed() {
		t.Log(md)
	}
}

// grep returns the lines of s that contain sub.
func grep(s, sub string) string {
	var out bytes.Buffer
	for _, line := range bytes.Split([]byte(s), []byte("\n")) {
		if bytes.Contains(line, []byte(sub)) {
			fmt.Fprintf(&out, "%s\n", line)
		}
	}
	return out.String()
}
