package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/xianyang/anzhi/subscribers"
)

// exportFlags are the flags of anzhi export.
type exportFlags struct {
	natsURL string
	asOf    string
	output  string
}

const exportLong = `Export an auditors' ledger from the canonical log, as an XLSX workbook with
Chinese headers (one sheet a table) or as CSV (one file a table: FILE and
FILE-<table>.csv beside it).

  funds     资金台账: per project and per resettlement site, funds allocated
            (下达, less returns 收回) against disbursed (拨付), with the log
            sequences of the facts behind each line; and every movement.
  findings  问题整改台账: every audit (审计) and inspection (督查) finding in
            its latest state, overdue when not rectified by its due date.

--as-of cuts the log at what it had recorded then (a date, China time, the
whole day included; or an RFC 3339 time), so a ledger can be shown as it stood.`

func newExportCmd(a *app) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export funds|findings -o FILE.xlsx|FILE.csv",
		Short: "Export the funds or findings ledger for auditors (XLSX or CSV)",
		Long:  exportLong,
		Example: `  anzhi export funds --creds auditor.creds -o 资金台账.xlsx
  anzhi export findings --as-of 2024-06-30 -o findings.csv`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"funds", "findings"},
		RunE:      func(cmd *cobra.Command, args []string) error { return a.runExport(cmd.Context(), args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.StringVar(&f.asOf, "as-of", "", "the ledger as the log had it at this date or RFC 3339 time")
	fl.StringVarP(&f.output, "output", "o", "", "write to this file: .xlsx or .csv (required)")
	return cmd
}

// table is one sheet of an export: its name, its Chinese headers, its rows.
type table struct {
	name   string // the sheet, and the CSV file's suffix
	header []string
	rows   [][]any
}

func (a *app) runExport(ctx context.Context, what string, f exportFlags) error {
	if what != "funds" && what != "findings" {
		return usageErrorf("export %q: export funds or findings", what)
	}
	ext := strings.ToLower(filepath.Ext(f.output))
	if f.output == "" || ext != ".xlsx" && ext != ".csv" {
		return usageErrorf("-o FILE.xlsx or FILE.csv is required (got %q)", f.output)
	}
	seq, until, err := replayBound("as-of", f.asOf, true)
	if err != nil {
		return err
	}
	if seq > 0 {
		return usageErrorf("--as-of %s: give a date or an RFC 3339 time, not a log sequence", f.asOf)
	}
	nc, js, err := a.connectJS(ctx, f.natsURL, "anzhi-export")
	if err != nil {
		return err
	}
	defer nc.Close()
	var tables []table
	var n int
	switch what {
	case "funds":
		l, err := subscribers.ReadFunds(ctx, js, until)
		if err != nil {
			return explainRefusal(nc, fmt.Errorf("export funds: %w", err))
		}
		tables, n = fundsTables(l), len(l.Movements)
	case "findings":
		l, err := subscribers.ReadFindings(ctx, js, until, "")
		if err != nil {
			return explainRefusal(nc, fmt.Errorf("export findings: %w", err))
		}
		tables, n = findingsTables(l), len(l.Findings)
	}
	if ext == ".xlsx" {
		err = writeXLSX(f.output, tables)
	} else {
		err = writeCSVs(f.output, tables)
	}
	if err != nil {
		return fmt.Errorf("-o %s: %w", f.output, err)
	}
	fmt.Fprintf(a.stderr, "exported the %s ledger (%d %s) to %s\n", what, n, map[string]string{"funds": "movements", "findings": "findings"}[what], f.output)
	return nil
}

// yuan writes an amount in fen as yuan with two decimals, exactly.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// money is an amount in fen in a table: a number cell in yuan in a
// workbook, yuan with two decimals in CSV.
type money int64

func yuanCell(fen int64) any { return money(fen) }

func seqs(s []uint64) string {
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = strconv.FormatUint(n, 10)
	}
	return strings.Join(parts, " ")
}

func fundsTables(l *subscribers.FundsLedger) []table {
	lines := func(name, keyHeader string, ls []subscribers.FundsLine, named bool) table {
		t := table{name: name, header: []string{keyHeader, "名称", "区县", "下达资金(元, 扣除收回)", "拨付资金(元)", "未拨付(元)", "依据(日志序号)"}}
		if !named {
			t.header = append(t.header[:1:1], t.header[2:]...)
		}
		for _, x := range ls {
			row := []any{x.Key, x.Name, x.Area, yuanCell(x.Allocated), yuanCell(x.Disbursed), yuanCell(x.Undisbursed()), seqs(x.Facts)}
			if !named {
				row = append(row[:1:1], row[2:]...)
			}
			t.rows = append(t.rows, row)
		}
		return t
	}
	mv := table{name: "movements", header: []string{"日志序号", "记录时间", "发布部门", "事实ID", "项目编号", "项目名称", "区县", "安置点",
		"动作", "去向", "用途", "资金来源", "日期", "文号", "金额(元)"}}
	for _, m := range l.Movements {
		mv.rows = append(mv.rows, []any{m.Seq, m.Recorded.Format(time.RFC3339), m.Dept, m.FactID, m.ProjectID, m.ProjectName, m.Area,
			m.SiteID, m.Action, m.Target, m.Purpose, m.FundSource, m.DatedOn, m.DocumentNo, yuanCell(m.AmountFen)})
	}
	return []table{lines("projects", "项目编号", l.Projects, true), lines("sites", "安置点", l.Sites, false), mv}
}

func findingsTables(l *subscribers.FindingsLedger) []table {
	t := table{name: "findings", header: []string{"来源", "问题编号", "发现单位", "区县", "安置点", "项目", "责任单位", "类别", "严重程度",
		"整改状态", "发现日期", "整改时限", "整改日期", "涉及金额(元)", "报告文号", "逾期未整改 (截至 " + l.Day + ")", "说明", "依据(日志序号)"}}
	for _, f := range l.Findings {
		source := "审计"
		if f.Family == "inspect.finding" {
			source = "督查"
		}
		overdue := ""
		if f.Overdue {
			overdue = "是"
		}
		t.rows = append(t.rows, []any{source, f.FindingID, f.Dept, f.Area, f.SiteID, f.ProjectID, f.Responsible, f.Category, f.Severity,
			f.Status, f.FoundOn, f.DueOn, f.RectifiedOn, yuanCell(f.AmountFen), f.ReportNo, overdue, f.Note, seqs(f.Facts)})
	}
	return []table{t}
}

// writeXLSX writes the tables as the sheets of a workbook.
func writeXLSX(path string, tables []table) error {
	book := excelize.NewFile()
	defer book.Close()
	for i, t := range tables {
		if i == 0 {
			if err := book.SetSheetName("Sheet1", t.name); err != nil {
				return err
			}
		} else if _, err := book.NewSheet(t.name); err != nil {
			return err
		}
		sw, err := book.NewStreamWriter(t.name)
		if err != nil {
			return err
		}
		header := make([]any, len(t.header))
		for j, h := range t.header {
			header[j] = h
		}
		if err := sw.SetRow("A1", header); err != nil {
			return err
		}
		for j, row := range t.rows {
			cell, err := excelize.CoordinatesToCellName(1, j+2)
			if err != nil {
				return err
			}
			cells := make([]any, len(row))
			for k, v := range row {
				cells[k] = v
				if m, ok := v.(money); ok {
					cells[k], _ = strconv.ParseFloat(yuan(int64(m)), 64)
				}
			}
			if err := sw.SetRow(cell, cells); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return book.SaveAs(path)
}

// writeCSVs writes the first table to path and each other beside it, as
// path's name with -<table> before .csv.
func writeCSVs(path string, tables []table) error {
	for i, t := range tables {
		p := path
		if i > 0 {
			p = strings.TrimSuffix(path, filepath.Ext(path)) + "-" + t.name + ".csv"
		}
		if err := writeCSV(p, t); err != nil {
			return err
		}
	}
	return nil
}

func writeCSV(path string, t table) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(file)
	_ = w.Write(t.header)
	for _, row := range t.rows {
		rec := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case money:
				rec[i] = yuan(int64(x))
			default:
				rec[i] = fmt.Sprint(x)
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}
