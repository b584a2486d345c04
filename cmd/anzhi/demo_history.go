package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xianyang/anzhi/view"
)

// halfYear is a half-year of the supervision history (督办台账): the view's
// months (view.View.History) added up, 2019 H1 being January to June 2019.
type halfYear struct {
	label string
	view.HistoryMonth
}

// halfYears adds an area's history up by half-year, from the first
// half-year with a step to the last, quiet ones included, and returns the
// total beside them. A month the view names otherwise than 2021-06 is left
// out.
func halfYears(months []view.HistoryMonth) (rows []halfYear, total view.HistoryMonth) {
	first := 0
	for _, m := range months {
		k, ok := halfYearOf(m.Month)
		if !ok {
			continue
		}
		if len(rows) == 0 {
			first = k
		}
		for first+len(rows) <= k {
			n := first + len(rows)
			rows = append(rows, halfYear{label: fmt.Sprintf("%d H%d", n/2, n%2+1)})
		}
		if k >= first { // the view gives its months in order
			addMonth(&rows[k-first].HistoryMonth, m)
			addMonth(&total, m)
		}
	}
	return rows, total
}

// halfYearOf numbers the half-year of a month (2021-06): year*2 + half-1.
func halfYearOf(month string) (int, bool) {
	y, m, ok := strings.Cut(month, "-")
	year, err1 := strconv.Atoi(y)
	mon, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || mon < 1 || mon > 12 {
		return 0, false
	}
	return year*2 + (mon-1)/6, true
}

func addMonth(sum *view.HistoryMonth, m view.HistoryMonth) {
	sum.Raised += m.Raised
	sum.Escalated += m.Escalated
	sum.Acknowledged += m.Acknowledged
	sum.Actions += m.Actions
	sum.Rectified += m.Rectified
	sum.Resolved += m.Resolved
}

// printHalfYears writes the history by half-year as a table, with its total.
func printHalfYears(w io.Writer, rows []halfYear, total view.HistoryMonth) {
	fmt.Fprintf(w, "warnings over time   raised  escalated  acknowledged  actions  rectified  resolved\n")
	row := func(label string, m view.HistoryMonth) {
		fmt.Fprintf(w, "  %-16s %8d %10d %13d %8d %10d %9d\n", label, m.Raised, m.Escalated, m.Acknowledged, m.Actions, m.Rectified, m.Resolved)
	}
	for _, r := range rows {
		row(r.label, r.HistoryMonth)
	}
	row("total", total)
}
