package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/xianyang/anzhi/view"
)

// The kinds of a table's cells beyond text and integers, each written the
// same way in every format: the workbook holds the number with a number
// format, the page and Markdown the text Text gives.

// Yuan is an amount in fen, shown in yuan with two decimals.
type Yuan int64

// Rate is a share from 0 to 1, shown as a percentage with two decimals.
type Rate float64

// Delta is a change of a rate in percentage points (a Rate difference × 100),
// shown signed with two decimals.
type Delta float64

// Points are a score, shown with two decimals.
type Points float64

// delta is the change from prev to cur of two rates, in percentage
// points, rounded to two decimals.
func delta(cur, prev float64) Delta { return Delta(math.Round((cur-prev)*10000) / 100) }

// Text writes a cell as the page and Markdown show it.
func Text(c any) string {
	switch x := c.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return view.Thousands(int64(x))
	case int64:
		return view.Thousands(x)
	case Yuan:
		return yuanText(int64(x))
	case Rate:
		return strconv.FormatFloat(float64(x)*100, 'f', 2, 64) + "%"
	case Delta:
		s := strconv.FormatFloat(float64(x), 'f', 2, 64)
		if x > 0 {
			s = "+" + s
		}
		if s == "-0.00" {
			s = "0.00"
		}
		return s
	case Points:
		return strconv.FormatFloat(float64(x), 'f', 2, 64)
	}
	return fmt.Sprint(c)
}

// numeric reports whether a cell is a number (right-aligned).
func numeric(c any) bool {
	switch c.(type) {
	case int, int64, Yuan, Rate, Delta, Points:
		return true
	}
	return false
}

// yuanText writes fen as yuan with thousands separators and two decimals,
// exactly.
func yuanText(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%s.%02d", sign, view.Thousands(fen/100), fen%100)
}
