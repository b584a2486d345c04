package report

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The workbook: a cover sheet (说明) and one sheet a ledger, each with its
// title in row 1 and its Chinese headers in row 2, both frozen and printed
// on every page (A4 landscape), numbers as numbers with their formats.
// Sheets are written through the workbook's cell API rather than its
// stream writer, whose sheets come out in an order that changes from one
// run to the next: the same report gives the same bytes.

// Rows of a ledger's sheet.
const (
	titleRow  = 1
	headerRow = 2
	firstRow  = 3 // the first row of data
)

// Number formats of the cells (Excel's own codes).
var (
	fmtInt    = "#,##0"
	fmtYuan   = "#,##0.00"
	fmtRate   = "0.00%"
	fmtDelta  = "+0.00;-0.00;0.00"
	fmtPoints = "0.00"
)

// xlsxStyles are the workbook's styles by use.
type xlsxStyles struct {
	title, header, text, wrap, integer, yuan, rate, delta, points int
}

func newStyles(book *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	border := []excelize.Border{{Type: "left", Color: "999999", Style: 1}, {Type: "right", Color: "999999", Style: 1},
		{Type: "top", Color: "999999", Style: 1}, {Type: "bottom", Color: "999999", Style: 1}}
	number := func(code string) *excelize.Style { return &excelize.Style{Border: border, CustomNumFmt: &code} }
	for _, x := range []struct {
		id    *int
		style *excelize.Style
	}{
		{&s.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 13}}},
		{&s.header, &excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}},
		{&s.text, &excelize.Style{Border: border}},
		{&s.wrap, &excelize.Style{Border: border, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.integer, number(fmtInt)},
		{&s.yuan, number(fmtYuan)},
		{&s.rate, number(fmtRate)},
		{&s.delta, number(fmtDelta)},
		{&s.points, number(fmtPoints)},
	} {
		id, err := book.NewStyle(x.style)
		if err != nil {
			return s, err
		}
		*x.id = id
	}
	return s, nil
}

// cellValue is what a workbook cell holds for a report cell, and its
// style.
func (s xlsxStyles) cellValue(c any) (any, int) {
	switch x := c.(type) {
	case nil:
		return nil, s.text
	case int:
		return x, s.integer
	case int64:
		return x, s.integer
	case Yuan:
		return float64(x) / 100, s.yuan
	case Rate:
		return float64(x), s.rate
	case Delta:
		return float64(x), s.delta
	case Points:
		return float64(x), s.points
	case string:
		if utf8.RuneCountInString(x) > 40 {
			return x, s.wrap
		}
		return x, s.text
	}
	return fmt.Sprint(c), s.text
}

// WriteXLSX writes the report as a workbook.
func (r *Report) WriteXLSX(w io.Writer) error {
	book := excelize.NewFile()
	defer book.Close()
	st, err := newStyles(book)
	if err != nil {
		return err
	}
	if err := book.SetSheetName("Sheet1", coverSheet); err != nil {
		return err
	}
	if err := r.writeCover(book, st); err != nil {
		return err
	}
	for _, t := range r.Tables() {
		if err := r.writeSheet(book, st, t); err != nil {
			return fmt.Errorf("sheet %s: %w", t.Sheet, err)
		}
	}
	book.SetActiveSheet(0)
	return book.Write(w)
}

// coverSheet is the name of the workbook's first sheet.
const coverSheet = "说明"

// writeCover writes the cover: the report's heading, then each section's
// summary lines and the sheets that hold its ledgers.
func (r *Report) writeCover(book *excelize.File, st xlsxStyles) error {
	sh := coverSheet
	if err := book.SetCellValue(sh, "A1", r.Title()); err != nil {
		return err
	}
	if err := book.SetCellStyle(sh, "A1", "A1", st.title); err != nil {
		return err
	}
	row := 3
	put := func(a, b string, style int) error {
		if err := book.SetSheetRow(sh, fmt.Sprintf("A%d", row), &[]any{a, b}); err != nil {
			return err
		}
		row++
		return book.SetCellStyle(sh, fmt.Sprintf("A%d", row-1), fmt.Sprintf("B%d", row-1), style)
	}
	for _, f := range r.Facts() {
		if err := put(f[0], f[1], st.text); err != nil {
			return err
		}
	}
	row++
	for _, s := range r.Sections {
		if err := put(s.Title, "", st.header); err != nil {
			return err
		}
		for _, line := range s.Summary {
			if err := put("", line, st.wrap); err != nil {
				return err
			}
		}
		for _, t := range s.Tables {
			if err := put("台账", fmt.Sprintf("%s: %s (%d 行)", t.Sheet, t.Title, len(t.Rows)), st.text); err != nil {
				return err
			}
		}
	}
	if err := book.SetColWidth(sh, "A", "A", 14); err != nil {
		return err
	}
	return book.SetColWidth(sh, "B", "B", 90)
}

// writeSheet writes a ledger's sheet.
func (r *Report) writeSheet(book *excelize.File, st xlsxStyles, t *Table) error {
	sh := sheetSafe(t.Sheet)
	if _, err := book.NewSheet(sh); err != nil {
		return err
	}
	last, err := excelize.ColumnNumberToName(max(len(t.Header), 1))
	if err != nil {
		return err
	}
	title := fmt.Sprintf("%s  %s  %s", t.Title, r.ScopeName, QuarterName(r.Quarter))
	if err := book.SetCellValue(sh, "A1", title); err != nil {
		return err
	}
	if err := book.SetCellStyle(sh, "A1", "A1", st.title); err != nil {
		return err
	}
	header := make([]any, len(t.Header))
	widths := make([]int, len(t.Header))
	for i, h := range t.Header {
		header[i] = h
		widths[i] = textWidth(h)
	}
	if err := book.SetSheetRow(sh, fmt.Sprintf("A%d", headerRow), &header); err != nil {
		return err
	}
	if err := book.SetCellStyle(sh, fmt.Sprintf("A%d", headerRow), fmt.Sprintf("%s%d", last, headerRow), st.header); err != nil {
		return err
	}
	for i, row := range t.Rows {
		for j, c := range row {
			cell, err := excelize.CoordinatesToCellName(j+1, firstRow+i)
			if err != nil {
				return err
			}
			val, style := st.cellValue(c)
			if val != nil {
				if err := book.SetCellValue(sh, cell, val); err != nil {
					return err
				}
			}
			if err := book.SetCellStyle(sh, cell, cell, style); err != nil {
				return err
			}
			if j < len(widths) {
				widths[j] = max(widths[j], textWidth(Text(c)))
			}
		}
	}
	if t.Note != "" {
		cell := fmt.Sprintf("A%d", firstRow+len(t.Rows)+1)
		if err := book.SetCellValue(sh, cell, "说明: "+t.Note); err != nil {
			return err
		}
	}
	for j, wd := range widths {
		col, _ := excelize.ColumnNumberToName(j + 1)
		if err := book.SetColWidth(sh, col, col, float64(min(max(wd, 6), 60))+2); err != nil {
			return err
		}
	}
	if err := book.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: headerRow, TopLeftCell: fmt.Sprintf("A%d", firstRow), ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: fmt.Sprintf("A%d", firstRow), ActiveCell: fmt.Sprintf("A%d", firstRow), Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	// A4 landscape, as wide as one page and as long as it takes.
	a4, landscape, wide, long, fit := 9, "landscape", 1, 0, true
	if err := book.SetPageLayout(sh, &excelize.PageLayoutOptions{Size: &a4, Orientation: &landscape, FitToWidth: &wide, FitToHeight: &long}); err != nil {
		return err
	}
	if err := book.SetSheetProps(sh, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	return book.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$%d:$%d", sh, titleRow, headerRow), Scope: sh})
}

// textWidth is how many columns a text takes: two for a wide (CJK)
// character.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
