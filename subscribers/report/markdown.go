package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown for quick reading: the
// heading, then each section's summary and its ledgers as tables, with the
// same figures as the workbook and the page (the charts are left out).
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\n%s\n\n", r.Title(), QuarterName(r.Quarter))
	for _, f := range r.Facts()[1:] {
		fmt.Fprintf(bw, "- %s: %s\n", f[0], mdCell(f[1]))
	}
	for _, s := range r.Sections {
		fmt.Fprintf(bw, "\n## %s\n\n", s.Title)
		for _, line := range s.Summary {
			fmt.Fprintf(bw, "%s\n\n", line)
		}
		for _, t := range s.Tables {
			fmt.Fprintf(bw, "### %s\n\n", t.Title)
			writeMarkdownTable(bw, t)
			if t.Note != "" {
				fmt.Fprintf(bw, "\n说明: %s\n", t.Note)
			}
			bw.WriteString("\n")
		}
	}
	return bw.Flush()
}

func writeMarkdownTable(w *bufio.Writer, t *Table) {
	if len(t.Rows) == 0 {
		w.WriteString("无\n")
		return
	}
	cells := make([]string, len(t.Header))
	for i, h := range t.Header {
		cells[i] = mdCell(h)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	for i := range t.Header {
		cells[i] = "---"
		if numericColumn(t, i) {
			cells[i] = "---:"
		}
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(cells, "|"))
	for _, row := range t.Rows {
		out := make([]string, len(t.Header))
		for i := range out {
			if i < len(row) {
				out[i] = mdCell(Text(row[i]))
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(out, " | "))
	}
}

// mdCell escapes what would break a Markdown table's cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", "").Replace(s)
}

// numericColumn reports whether a table's column holds numbers (every cell
// a number or empty, and one at least).
func numericColumn(t *Table, col int) bool {
	n := 0
	for _, row := range t.Rows {
		if col >= len(row) || row[col] == nil {
			continue
		}
		if !numeric(row[col]) {
			return false
		}
		n++
	}
	return n > 0
}
