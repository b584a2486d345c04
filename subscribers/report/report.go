// Package report builds the quarterly report for the joint meeting
// (联席会议): the pack of ledgers (台账) the lead office brings to it — the
// indicators against their targets and against last quarter, the
// 两不愁三保障 table, the warnings and their supervision, the overdue tasks,
// the problems fed back and how each was handled, the funds, the
// departments' freshness and rejections, and the counties' assessment —
// read from a view of the quarter, and written as an XLSX workbook (one
// sheet a ledger), a printable HTML page, or Markdown. The same view gives
// the same bytes: nothing in a report depends on the wall clock.
//
// The report does not cut the log itself: the hub passes the view a
// quarter is reported on (for a quarter that has ended, the recorded cut
// at its end) and the previous quarter's.
package report

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// ErrInvalid marks a report that cannot be built as asked: a quarter,
// format or county that does not exist.
var ErrInvalid = errors.New("invalid report request")

// Format is how a report is written.
type Format string

// Formats of a report.
const (
	XLSX     Format = "xlsx"
	HTML     Format = "html"
	Markdown Format = "md"
)

// Formats returns the formats a report is written in.
func Formats() []Format { return []Format{XLSX, HTML, Markdown} }

// ParseFormat reads a format as a file extension spells it (xlsx, html,
// md).
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: format %q: want xlsx, html or md", ErrInvalid, s)
}

// ContentType is the media type of a report in the format.
func (f Format) ContentType() string {
	switch f {
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case HTML:
		return "text/html; charset=utf-8"
	}
	return "text/markdown; charset=utf-8"
}

// FileName is the name a report of a quarter (and county, "" for the
// city) is saved under: anzhi-report-2025Q4[-610424].xlsx.
func FileName(quarter, county string, f Format) string {
	name := "anzhi-report-" + quarter
	if county != "" {
		name += "-" + county
	}
	return name + "." + string(f)
}

// Input is what a report is built from.
type Input struct {
	// Quarter is the quarter reported on, spelt 2025Q4.
	Quarter string
	// View is the view the quarter is reported on: for a quarter that has
	// ended, the recorded cut at its last instant; for the current one, the
	// live view.
	View *view.View
	// Previous is the previous quarter's view (its cut at its end), for the
	// figures against last quarter; nil, or a view that has folded nothing
	// (the log began after that quarter), leaves those out.
	Previous *view.View
	// AsOf is the instant View stands at and Closed whether the quarter
	// has ended (View is then the cut at AsOf).
	AsOf   time.Time
	Closed bool
	// County narrows the report to one county ("" for the whole city).
	County string
}

// Report is a built report: its heading and its sections, each a ledger or
// a few, in the order they are printed.
type Report struct {
	Quarter string
	// Scope is the county reported on, or the city's code; ScopeName its
	// name.
	Scope, ScopeName string
	City             string // the city's name
	AsOf             time.Time
	Closed           bool
	Seq              uint64    // the last log sequence the view folded
	Clock            time.Time // the view's recorded clock
	Sections         []Section
}

// Section is a part of the report: a heading, a few lines summing it up,
// its charts and its tables.
type Section struct {
	Title   string
	Summary []string
	Charts  []Chart
	Tables  []*Table
}

// Table is one ledger: a sheet of the workbook, a table of the page.
type Table struct {
	// Sheet names the workbook's sheet (at most 31 characters).
	Sheet  string
	Title  string
	Header []string
	// Rows hold cells of the types of cells.go: string, int, int64, Yuan,
	// Rate, Delta, Points; nil for an empty cell.
	Rows [][]any
	Note string
}

// Chart is a bar chart of a section (HTML only): one bar a label.
type Chart struct {
	Title string
	Bars  []Bar
	// Rate marks values that are shares (0…1, shown as percentages);
	// Target, when set, is drawn as a line.
	Rate   bool
	Target float64
	// Money marks values in yuan.
	Money bool
}

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value float64
	// Grade colours it: green, amber, red, or "" for the neutral colour.
	Grade string
	// Note, when set, is shown in place of the value (无数据).
	Note string
}

// Write writes the report in a format.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case XLSX:
		return r.WriteXLSX(w)
	case HTML:
		return r.WriteHTML(w)
	case Markdown:
		return r.WriteMarkdown(w)
	}
	return fmt.Errorf("%w: format %q: want xlsx, html or md", ErrInvalid, f)
}

// Title is the report's title.
func (r *Report) Title() string {
	return fmt.Sprintf("%s易地扶贫搬迁后续扶持工作联席会议季度报告", r.ScopeName)
}

// QuarterName is the quarter as a heading says it: 2025年第4季度.
func QuarterName(q string) string {
	if len(q) != 6 {
		return q
	}
	return q[:4] + "年第" + q[5:] + "季度"
}

// state says how the view stands: the quarter's end or to date.
func (r *Report) state() string {
	if r.Closed {
		return "季度已结束: 按季末记录截面 (其后到达的数据不计入)"
	}
	return "本季度尚未结束: 按当前数据"
}

// Facts are the report's heading as label and value pairs: the cover
// sheet, the page's heading.
func (r *Report) Facts() [][2]string {
	scope := r.ScopeName
	if r.Scope != "" {
		scope += " (" + r.Scope + ")"
	}
	out := [][2]string{
		{"报告", r.Title()},
		{"季度", QuarterName(r.Quarter) + " (" + r.Quarter + ")"},
		{"范围", scope},
		{"数据截至", timeText(r.AsOf)},
		{"口径", r.state()},
		{"日志序号", fmt.Sprint(r.Seq)},
		{"视图时钟", timeText(r.Clock)},
	}
	return out
}

// timeText writes a time in China Standard Time to the second ("" for
// zero).
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(view.ChinaTime()).Format("2006-01-02 15:04:05") + " (北京时间)"
}

// Build builds the report of a quarter from its view.
func Build(cat *schemas.Catalog, in Input) (*Report, error) {
	if _, _, ok := view.ParseQuarter(in.Quarter); !ok {
		return nil, fmt.Errorf("%w: quarter %q: not a quarter (e.g. 2025Q4)", ErrInvalid, in.Quarter)
	}
	if in.View == nil {
		return nil, fmt.Errorf("%w: no view to report on", ErrInvalid)
	}
	r := &Report{Quarter: in.Quarter, Scope: cat.City.Code, ScopeName: cat.City.Name, City: cat.City.Name, AsOf: in.AsOf,
		Closed: in.Closed}
	if in.County != "" {
		c, ok := cat.County(in.County)
		if !ok {
			return nil, fmt.Errorf("%w: county %q: not a county of %s", ErrInvalid, in.County, cat.City.Name)
		}
		r.Scope, r.ScopeName = c.Code, c.Name
	}
	st := in.View.Stats()
	r.Seq, r.Clock = st.Seq, st.Clock
	if in.Previous != nil && in.Previous.Stats().Seq == 0 {
		// The log began after the previous quarter: nothing to compare.
		in.Previous = nil
	}
	b := newBuilder(cat, in)
	r.Sections = []Section{b.indicators(), b.secure(), b.warnings(), b.tasks(), b.feedback(), b.funds(), b.departments(), b.assessment()}
	return r, nil
}

// Tables returns every table of the report, in order.
func (r *Report) Tables() []*Table {
	var out []*Table
	for _, s := range r.Sections {
		out = append(out, s.Tables...)
	}
	return out
}

// sheetSafe replaces what a sheet name may not hold.
func sheetSafe(s string) string {
	return strings.NewReplacer(":", "-", "\\", "-", "/", "-", "?", "", "*", "", "[", "(", "]", ")").Replace(s)
}
