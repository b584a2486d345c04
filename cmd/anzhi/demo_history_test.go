package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/view"
)

// TestHalfYears: the view's months add up by half-year, quiet half-years
// between busy ones are shown, and the total is every month's.
func TestHalfYears(t *testing.T) {
	for _, c := range []struct {
		name   string
		months []view.HistoryMonth
		labels []string
		raised []int64
		total  view.HistoryMonth
	}{
		{"none", nil, nil, nil, view.HistoryMonth{}},
		{"one month", []view.HistoryMonth{{Month: "2021-06", Raised: 3, Resolved: 1}}, []string{"2021 H1"}, []int64{3},
			view.HistoryMonth{Raised: 3, Resolved: 1}},
		{"a quiet half-year between", []view.HistoryMonth{{Month: "2019-01", Raised: 5, Escalated: 1}, {Month: "2019-06", Raised: 2},
			{Month: "2020-07", Raised: 1, Acknowledged: 4, Actions: 3, Rectified: 2}},
			[]string{"2019 H1", "2019 H2", "2020 H1", "2020 H2"}, []int64{7, 0, 0, 1},
			view.HistoryMonth{Raised: 8, Escalated: 1, Acknowledged: 4, Actions: 3, Rectified: 2}},
		{"a month not named as the view names them", []view.HistoryMonth{{Month: "June", Raised: 9}, {Month: "2022-12", Raised: 1}},
			[]string{"2022 H2"}, []int64{1}, view.HistoryMonth{Raised: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, total := halfYears(c.months)
			if len(rows) != len(c.labels) {
				t.Fatalf("%d rows %+v, want %v", len(rows), rows, c.labels)
			}
			for i, r := range rows {
				if r.label != c.labels[i] || r.Raised != c.raised[i] {
					t.Errorf("row %d: %s raised %d, want %s raised %d", i, r.label, r.Raised, c.labels[i], c.raised[i])
				}
			}
			if total != c.total {
				t.Errorf("total %+v, want %+v", total, c.total)
			}
			var b bytes.Buffer
			printHalfYears(&b, rows, total)
			if lines := strings.Count(b.String(), "\n"); lines != len(rows)+2 {
				t.Errorf("%d lines printed, want a heading, %d rows and the total:\n%s", lines, len(rows), b.String())
			}
		})
	}
}
