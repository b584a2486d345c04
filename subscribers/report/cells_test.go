package report_test

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers/report"
	"github.com/xianyang/anzhi/view"
)

// row is a row a ledger must hold: found by its first cells (key, as the
// page writes them), equal cell by cell.
type row struct {
	sheet string
	key   []string
	cells []any
}

// written is a report in its three formats.
type written struct {
	book   *excelize.File
	tables map[string][][]string // the page's tables by sheet: rows of cell text
	md     string
}

func writeAll(t *testing.T, r *report.Report) written {
	t.Helper()
	var x, h, m bytes.Buffer
	for f, b := range map[report.Format]*bytes.Buffer{report.XLSX: &x, report.HTML: &h, report.Markdown: &m} {
		if err := r.Write(b, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	book, err := excelize.OpenReader(&x)
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	t.Cleanup(func() { book.Close() })
	return written{book: book, tables: pageTables(t, h.Bytes()), md: m.String()}
}

// pageTables parses the page and returns its ledgers' body rows, by the
// sheet each names (data-sheet).
func pageTables(t *testing.T, b []byte) map[string][][]string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the page does not parse: %v", err)
	}
	out := map[string][][]string{}
	var walk func(n *html.Node, sheet string, rows *[][]string)
	walk = func(n *html.Node, sheet string, rows *[][]string) {
		if n.Type == html.ElementNode && n.Data == "table" {
			for _, a := range n.Attr {
				if a.Key == "data-sheet" {
					sheet = a.Val
					list := [][]string{}
					rows = &list
				}
			}
		}
		if n.Type == html.ElementNode && n.Data == "tr" && sheet != "" && n.Parent != nil && n.Parent.Data == "tbody" {
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "td" {
					cells = append(cells, textOf(c))
				}
			}
			*rows = append(*rows, cells)
			out[sheet] = *rows
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, sheet, rows)
		}
	}
	walk(doc, "", nil)
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// find returns the first row whose leading cells are key.
func find(rows [][]string, key []string) ([]string, int, bool) {
	for i, r := range rows {
		if len(r) >= len(key) && slices.Equal(r[:len(key)], key) {
			return r, i, true
		}
	}
	return nil, 0, false
}

// numFormats are the number formats the workbook gives each kind of cell.
var numFormats = map[string]string{"int": "#,##0", "yuan": "#,##0.00", "rate": "0.00%", "delta": "+0.00;-0.00;0.00", "points": "0.00"}

// rawOf is what the workbook holds for a cell, as a number or text, and
// the number format it must carry ("" for text).
func rawOf(c any) (num float64, text string, isNum bool, format string) {
	switch x := c.(type) {
	case nil:
		return 0, "", false, ""
	case string:
		return 0, x, false, ""
	case int:
		return float64(x), "", true, numFormats["int"]
	case int64:
		return float64(x), "", true, numFormats["int"]
	case report.Yuan:
		return float64(x) / 100, "", true, numFormats["yuan"]
	case report.Rate:
		return float64(x), "", true, numFormats["rate"]
	case report.Delta:
		return float64(x), "", true, numFormats["delta"]
	case report.Points:
		return float64(x), "", true, numFormats["points"]
	}
	panic(fmt.Sprintf("cell %T", c))
}

// check holds each row against the workbook (raw values and number
// formats, cell by cell), the page (the text of each cell) and the
// Markdown (the row's line).
func (w written) check(t *testing.T, rows []row) {
	t.Helper()
	for _, want := range rows {
		texts := make([]string, len(want.cells))
		for i, c := range want.cells {
			texts[i] = report.Text(c)
		}
		// The workbook: data from row 3, raw values.
		sheetRows, err := w.book.GetRows(want.sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Errorf("sheet %s: %v", want.sheet, err)
			continue
		}
		got, i, ok := find(sheetRows[min(2, len(sheetRows)):], want.key)
		if !ok {
			t.Errorf("sheet %s: no row %v", want.sheet, want.key)
		}
		for j, c := range want.cells {
			if !ok {
				break
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+3)
			raw := ""
			if j < len(got) {
				raw = got[j]
			}
			num, text, isNum, format := rawOf(c)
			switch {
			case isNum:
				v, err := strconv.ParseFloat(raw, 64)
				if err != nil || math.Abs(v-num) > 1e-9 {
					t.Errorf("sheet %s %s (%s of %v): %q, want %v", want.sheet, cell, report.Text(c), want.key, raw, num)
				}
			case raw != text:
				t.Errorf("sheet %s %s (%v): %q, want %q", want.sheet, cell, want.key, raw, text)
			}
			if format != "" {
				id, _ := w.book.GetCellStyle(want.sheet, cell)
				st, err := w.book.GetStyle(id)
				if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != format {
					t.Errorf("sheet %s %s: number format %v, want %s", want.sheet, cell, st.CustomNumFmt, format)
				}
			}
		}
		// The page.
		page, _, ok := find(w.tables[want.sheet], want.key)
		if !ok || !slices.Equal(page, texts) {
			t.Errorf("page table %s row %v:\n got %q\nwant %q", want.sheet, want.key, page, texts)
		}
		// Markdown.
		if line := "| " + strings.Join(texts, " | ") + " |"; !strings.Contains(w.md, line+"\n") {
			t.Errorf("Markdown has no line %s", line)
		}
	}
}

// published counts the facts a unit publishes among items.
func published(dept string, items []scenario.Item) int64 {
	n := int64(0)
	for _, it := range items {
		if it.Dept == dept {
			n++
		}
	}
	return n
}

// TestReportCellByCell: the 2021Q2 report of the scripted scenario, its
// figures checked cell by cell in the workbook read back, in the page
// parsed, and in the Markdown; every sheet frozen below its Chinese
// headers.
func TestReportCellByCell(t *testing.T) {
	cat := schemas.MustLoad()
	cur, prev, r7 := scenarioViews(t, cat)
	r := buildReport(t, cat, cur, prev, "")
	w := writeAll(t, r)

	var rl09 view.TaskView
	for _, x := range cur.Tasks(view.TaskQuery{Dept: "hrss"}) {
		if x.TaskID == "RL09-1" {
			rl09 = x
		}
	}
	if !strings.HasPrefix(rl09.Warning, "W-R15-") {
		t.Fatalf("RL09-1 is not overdue with a warning: %+v", rl09)
	}
	title := func(rule string) string {
		x, _ := cat.Rules().Rule(rule)
		return x.Title
	}
	boardRow := func(unit string) row {
		n := map[string]int{}
		rows := cur.Tasks(view.TaskQuery{Dept: unit})
		for _, x := range rows {
			n[x.Board]++
		}
		cells := []any{unit, cur.Departments()[0].Name}
		for _, d := range cur.Departments() {
			if d.Code == unit {
				cells[1] = d.Name
			}
		}
		for _, s := range view.TaskStatuses() {
			cells = append(cells, n[s])
		}
		return row{"任务汇总", []string{unit}, append(cells, len(rows))}
	}
	all := append(firstQuarter(), secondQuarter(r7)...)
	oldest := cur.OldestWarnings("", 1)[0]

	w.check(t, []row{
		// Indicators against targets and against last quarter.
		{"指标台账", []string{"610425", "礼泉县", "insured"}, []any{"610425", "礼泉县", "insured", "基本医保与大病保险参保率",
			report.Rate(1), report.Rate(1), "达标", report.Rate(0), report.Delta(100), "R7"}},
		{"指标台账", []string{"610425", "礼泉县", "enrolled"}, []any{"610425", "礼泉县", "enrolled", "适龄儿童入学率",
			nil, report.Rate(1), "无数据", nil, nil, "R6"}},
		{"指标台账", []string{"610425", "礼泉县", "infrastructure_complete"}, []any{"610425", "礼泉县", "infrastructure_complete", "八项配套全部到位的安置点",
			report.Rate(0), report.Rate(1), "未达标", report.Rate(0), report.Delta(0), "R12"}},
		{"指标台账", []string{"610400", "咸阳市 (合计)", "secure"}, []any{"610400", "咸阳市 (合计)", "secure", "两不愁三保障户占比",
			report.Rate(1), report.Rate(1), "达标", report.Rate(0.5), report.Delta(50), ""}},
		{"指标台账", []string{"610400", "咸阳市 (合计)", "training_to_employment_6m"}, []any{"610400", "咸阳市 (合计)", "training_to_employment_6m",
			"培训后6个月内就业率", nil, report.Rate(0.5), "无数据", nil, nil, "R5"}},
		// 两不愁三保障 and its parts.
		{"两不愁三保障", []string{"610425"}, []any{"610425", "礼泉县", 1, 1, 1, report.Rate(1), report.Rate(0), report.Delta(100),
			0, 0, nil, 1, report.Rate(1), 1, 1, report.Rate(1), 0, 0, 0}},
		{"两不愁三保障", []string{"610424"}, []any{"610424", "乾县", 1, 3, 1, report.Rate(1), report.Rate(1), report.Delta(0),
			1, 1, report.Rate(1), 3, report.Rate(1), 1, 1, report.Rate(1), 0, 0, 0}},
		{"两不愁三保障", []string{"610400"}, []any{"610400", "咸阳市 (合计)", 2, 4, 2, report.Rate(1), report.Rate(0.5), report.Delta(50),
			1, 1, report.Rate(1), 4, report.Rate(1), 2, 2, report.Rate(1), 0, 0, 0}},
		{"两不愁三保障", []string{"610402"}, []any{"610402", "秦都区", 0, 0, 0, nil, nil, nil, 0, 0, nil, 0, nil, 0, 0, nil, 0, 0, 0}},
		// Warnings by rule and supervision state, the quarter month by
		// month, the oldest open.
		{"预警督办", []string{"R15"}, []any{"R15", title("R15"), 1, 1, 0, 0, 0, 1}},
		{"预警督办", []string{"R19"}, []any{"R19", title("R19"), 1, 1, 0, 0, 0, 1}},
		{"督办流量", []string{"2021-04"}, []any{"2021-04", 0, 0, 1, 0, 1, 0}},
		{"督办流量", []string{"2021-05"}, []any{"2021-05", 0, 0, 0, 0, 0, 0}},
		{"督办流量", []string{"合计"}, []any{"合计", 0, 0, 1, 0, 1, 0}},
		{"最久未结预警", []string{oldest.ID}, []any{oldest.ID, oldest.Rule, oldest.EntityID, "礼泉县", "市农业农村局", "2021-06-30", "2021-09-28",
			"待签收", "", oldest.Message}},
		// Overdue tasks by department, the board by unit.
		{"逾期任务", []string{"hrss", "市人社局", "RL09-1"}, []any{"hrss", "市人社局", "RL09-1", "责任清单任务RL09-1", "是", "2021-05-31", "完成",
			"推进中", 80, "2021-05-20", "2021-05-31 到期完成未达到", rl09.Warning}},
		boardRow("hrss"), boardRow("county/610424"), boardRow("drc"),
		// Problems fed back and how each was handled.
		{"问题反馈", []string{"FK-1"}, []any{"FK-1", "county/610425", "礼泉县人民政府", "礼泉县", "2021-04-10", "严重", "预警", r7, "搬迁户医保中断",
			"已整改", "2021-04-12 市医保局 签收; 2021-04-30 市医保局 已整改"}},
		{"问题反馈", []string{"FK-2"}, []any{"FK-2", "county/610425", "礼泉县人民政府", "礼泉县", "2021-05-05", "严重", "安置点", otherSite,
			"安置点配套资金缺口", "未回应", ""}},
		{"问题反馈汇总", []string{"county/610425"}, []any{"county/610425", "礼泉县人民政府", "610425", "礼泉县", 2, 2, 1, 0, 0, 1}},
		{"问题反馈汇总", []string{"合计"}, []any{"合计", "", "", "", 2, 2, 1, 0, 0, 1}},
		// Funds by county and project, in total and in the quarter.
		{"资金-区县", []string{"610424"}, []any{"610424", "乾县", report.Yuan(100000050), report.Yuan(40000025), report.Yuan(60000025),
			report.Rate(0.4), report.Yuan(0), report.Yuan(40000025)}},
		{"资金-区县", []string{"610402"}, []any{"610402", "秦都区", report.Yuan(0), report.Yuan(0), report.Yuan(0), nil, report.Yuan(0), report.Yuan(0)}},
		{"资金-区县", []string{"610400"}, []any{"610400", "咸阳市 (合计)", report.Yuan(100002050), report.Yuan(40000025), report.Yuan(60002025),
			report.Rate(0.4), report.Yuan(2000), report.Yuan(40000025)}},
		{"资金-项目", []string{"P610424-XM01"}, []any{"P610424-XM01", "610424", "乾县", report.Yuan(100000050), report.Yuan(40000025),
			report.Yuan(60000025), report.Rate(0.4), report.Yuan(0), report.Yuan(40000025)}},
		{"资金-项目", []string{"P610425-XM02"}, []any{"P610425-XM02", "610425", "礼泉县", report.Yuan(2000), report.Yuan(0), report.Yuan(2000),
			report.Rate(0), report.Yuan(2000), report.Yuan(0)}},
		// Departments' freshness and rejections.
		{"部门更新", []string{"medins"}, []any{"medins", "市医保局", published("medins", all), published("medins", all) - published("medins", firstQuarter()),
			int64(0), int64(0), report.Rate(0), "2021-05-01 08:00", 60, ""}},
		{"部门更新", []string{"audit"}, []any{"audit", "市审计局", int64(0), int64(0), int64(0), int64(0), nil, "", nil, ""}},
		// The assessment, line by line.
		// Scores are out of the lines that measure something (no one
		// trained six months before, no warning open: those lines are left
		// out), so 乾县 scores full marks in both quarters.
		{"考核汇总", []string{"1"}, []any{1, "610424", "乾县", report.Points(100), report.Points(100), report.Delta(0), report.Rate(0.35),
			"AS-610424-2021", report.Points(35), ""}},
		{"考核汇总", []string{"2"}, []any{2, "610425", "礼泉县", report.Points(80), report.Points(46.67), report.Delta(33.33), report.Rate(0.2),
			"AS-610425-2021", report.Points(16), "礼泉县2021年考核方案中易地扶贫搬迁后续扶持权重20%, 低于30%"}},
		{"考核明细", []string{"610424", "乾县", "tasks_on_time"}, []any{"610424", "乾县", "tasks_on_time", "责任清单任务按期推进率",
			report.Rate(1), report.Rate(1), report.Rate(0.1), report.Points(10), "1/1"}},
		{"考核明细", []string{"610425", "礼泉县", "secure"}, []any{"610425", "礼泉县", "secure", "两不愁三保障户占比",
			report.Rate(1), report.Rate(1), report.Rate(0.15), report.Points(15), "secure"}},
	})

	// R7 holds again: no row of it; the totals add up.
	rows, _ := w.book.GetRows("预警督办", excelize.Options{RawCellValue: true})
	if _, _, ok := find(rows, []string{"R7"}); ok {
		t.Error("R7 holds again, yet 预警督办 has a row of it")
	}
	open := len(cur.Warnings(view.WarningQuery{}))
	// The one acknowledged (R7's) was resolved: every open one waits.
	w.check(t, []row{{"预警督办", []string{"合计"}, []any{"合计", "", open, open, 0, 0, 0, open}}})

	// Every sheet: after the cover, one a ledger, frozen below its title
	// and Chinese headers, the headers as the ledger names them.
	sheets := w.book.GetSheetList()
	var want []string
	for _, tb := range r.Tables() {
		want = append(want, tb.Sheet)
	}
	if sheets[0] != "说明" || !slices.Equal(sheets[1:], want) {
		t.Errorf("sheets %v, want 说明 then %v", sheets, want)
	}
	for _, tb := range r.Tables() {
		panes, err := w.book.GetPanes(tb.Sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.TopLeftCell != "A3" {
			t.Errorf("sheet %s: panes %+v (%v), want frozen below row 2", tb.Sheet, panes, err)
		}
		rows, _ := w.book.GetRows(tb.Sheet)
		if len(rows) < 2 || !slices.Equal(rows[1], tb.Header) {
			t.Errorf("sheet %s: headers %q, want %q", tb.Sheet, rows[1], tb.Header)
		}
		for _, h := range tb.Header {
			if !strings.ContainsFunc(h, func(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }) {
				t.Errorf("sheet %s: header %q is not Chinese", tb.Sheet, h)
			}
		}
		if got := len(w.tables[tb.Sheet]); got != max(len(tb.Rows), 1) {
			t.Errorf("page table %s: %d rows, want %d", tb.Sheet, got, len(tb.Rows))
		}
	}
	cover, _ := w.book.GetRows("说明")
	if len(cover) < 4 || cover[0][0] != r.Title() || cover[2][1] != r.Title() {
		t.Errorf("the cover: %q", cover)
	}
}

// TestCountyReport: a county's report holds only that county.
func TestCountyReport(t *testing.T) {
	cat := schemas.MustLoad()
	cur, prev, _ := scenarioViews(t, cat)
	r := buildReport(t, cat, cur, prev, "610425")
	w := writeAll(t, r)
	if r.Scope != "610425" || !strings.HasPrefix(r.Title(), "礼泉县") {
		t.Errorf("scope %s, title %s", r.Scope, r.Title())
	}
	for sheet, col := range map[string]int{"指标台账": 0, "两不愁三保障": 0, "资金-区县": 0, "资金-项目": 1, "考核汇总": 1, "考核明细": 0} {
		rows, _ := w.book.GetRows(sheet, excelize.Options{RawCellValue: true})
		if len(rows) < 3 {
			t.Errorf("sheet %s: no rows", sheet)
		}
		for _, x := range rows[2:] {
			if len(x) > col && x[0] != "" && x[col] != "610425" && !strings.HasPrefix(x[0], "说明") {
				t.Errorf("sheet %s holds %v", sheet, x)
			}
		}
	}
	for sheet, want := range map[string]int{"两不愁三保障": 1, "资金-项目": 1, "部门更新": 1, "考核汇总": 1, "问题反馈": 2, "任务汇总": 2} {
		if got := len(w.tables[sheet]); got != want {
			t.Errorf("page table %s: %d rows, want %d: %v", sheet, got, want, w.tables[sheet])
		}
	}
	if strings.Contains(w.md, "610424") || strings.Contains(w.md, "乾县") {
		t.Error("the county's report names another county")
	}
	w.check(t, []row{
		{"两不愁三保障", []string{"610425"}, []any{"610425", "礼泉县", 1, 1, 1, report.Rate(1), report.Rate(0), report.Delta(100),
			0, 0, nil, 1, report.Rate(1), 1, 1, report.Rate(1), 0, 0, 0}},
		{"考核汇总", []string{"2"}, []any{2, "610425", "礼泉县", report.Points(80), report.Points(46.67), report.Delta(33.33), report.Rate(0.2),
			"AS-610425-2021", report.Points(16), "礼泉县2021年考核方案中易地扶贫搬迁后续扶持权重20%, 低于30%"}},
		{"部门更新", []string{"county/610425"}, []any{"county/610425", "礼泉县人民政府", published("county/610425", append(firstQuarter(), secondQuarter("W-R7-0000000000000000")...)),
			published("county/610425", secondQuarter("")), int64(0), int64(0), report.Rate(0), "2021-05-05 08:00", 56, ""}},
	})
}

// TestPageLoadsNothing: the page holds no script, no link to another
// resource, no address but the SVG namespace.
func TestPageLoadsNothing(t *testing.T) {
	cat := schemas.MustLoad()
	cur, prev, _ := scenarioViews(t, cat)
	var b bytes.Buffer
	if err := buildReport(t, cat, cur, prev, "").WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := strings.ReplaceAll(b.String(), `xmlns="http://www.w3.org/2000/svg"`, "")
	for _, bad := range []string{"<script", "<link", "src=", "http://", "https://", "url(", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	for _, want := range []string{"@page", "size: A4", "break-before: page", "<svg", "两不愁三保障户占比"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
