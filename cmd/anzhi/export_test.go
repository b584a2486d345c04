package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestExport: the funds ledger adds up allocations, returns and
// disbursements per project and site with the facts behind each line, as
// the log had it at a cut; the findings ledger shows each finding in its
// latest state, overdue or not.
func TestExport(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	publish := func(dept, family, id, at string, data map[string]any) {
		t.Helper()
		b, _ := json.Marshal(data)
		r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", dept, "--family", family, "--time", at, "--id", id, "--data", string(b))
		if r.code != exitOK {
			t.Fatalf("publish %s: exit %d: %s", id, r.code, r.stderr)
		}
	}
	funds := func(project, action, target string, amount float64, on string) map[string]any {
		d := map[string]any{"project_id": project, "area": "610424", "action": action, "amount_yuan": amount, "target": target,
			"purpose": "infrastructure", "fund_source": "municipal", "dated_on": on, "project_name": "安置点供水"}
		if target == "resettlement_site" {
			d["site_id"] = "S610424-0001"
		}
		return d
	}
	publish("finance", "finance.funds", "f1", "2021-03-01", funds("P610424-A1", "allocated", "resettlement_site", 500000, "2021-03-01"))
	publish("finance", "finance.funds", "f2", "2021-04-01", funds("P610424-A1", "disbursed", "resettlement_site", 120000.55, "2021-04-01"))
	publish("finance", "finance.funds", "f3", "2021-04-02", funds("P610424-B2", "allocated", "other_area", 1000, "2021-04-02"))
	publish("finance", "finance.funds", "f4", "2021-04-03", funds("P610424-B2", "returned", "other_area", 1000, "2021-04-03"))
	finding := func(status, due, rectified string) map[string]any {
		d := map[string]any{"finding_id": "A-2021-7", "area": "610424", "responsible": "county/610424", "category": "delayed",
			"severity": "medium", "status": status, "found_on": "2021-03-01", "due_on": due}
		if rectified != "" {
			d["rectified_on"] = rectified
		}
		return d
	}
	publish("audit", "audit.finding", "a1", "2021-03-01", finding("open", "2021-06-30", ""))
	publish("inspect", "inspect.finding", "i1", "2021-05-01", map[string]any{"finding_id": "D-9", "area": "610424",
		"responsible": "hrss", "category": "policy_not_implemented", "severity": "high", "status": "open", "found_on": "2021-05-01",
		"due_on": "2021-07-31"})
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	cut := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	publish("finance", "finance.funds", "f5", "2021-05-01", funds("P610424-A1", "disbursed", "resettlement_site", 10000, "2021-05-01"))
	publish("audit", "audit.finding", "a2", "2021-06-20", finding("rectified", "2021-06-30", "2021-06-18"))
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	export := func(args ...string) {
		t.Helper()
		r := runCLI(ctx, append([]string{"export", "--nats-url", h.ClientURL()}, args...)...)
		if r.code != exitOK {
			t.Fatalf("export %v: exit %d: %s", args, r.code, r.stderr)
		}
	}

	// Now, as a workbook.
	book := filepath.Join(dir, "资金台账.xlsx")
	export("funds", "-o", book)
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "projects,sites,movements" {
		t.Errorf("sheets %v", got)
	}
	rows, _ := f.GetRows("projects")
	want := [][]string{
		{"项目编号", "名称", "区县", "下达资金(元, 扣除收回)", "拨付资金(元)", "未拨付(元)", "依据(日志序号)"},
		{"P610424-A1", "安置点供水", "610424", "500000", "130000.55", "369999.45"},
		{"P610424-B2", "安置点供水", "610424", "0", "0", "0"},
	}
	if len(rows) != len(want) {
		t.Fatalf("projects sheet: %v", rows)
	}
	for i, w := range want {
		if got := rows[i][:len(w)]; strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("projects row %d: %v, want %v", i, got, w)
		}
	}
	if facts := strings.Fields(rows[1][6]); len(facts) != 3 {
		t.Errorf("P610424-A1 rests on %v, want its three facts' log sequences", facts)
	}
	if sites, _ := f.GetRows("sites"); len(sites) != 2 || sites[1][0] != "S610424-0001" || sites[1][3] != "130000.55" {
		t.Errorf("sites sheet: %v", sites)
	}
	if mv, _ := f.GetRows("movements"); len(mv) != 6 {
		t.Errorf("movements: %d rows, want a header and 5", len(mv))
	}

	// As of the cut, as CSV: the last disbursement is not there yet.
	out := filepath.Join(dir, "funds.csv")
	export("funds", "--as-of", cut, "-o", out)
	projects := readCSV(t, out)
	if len(projects) != 3 || projects[1][4] != "120000.55" || projects[1][5] != "379999.45" {
		t.Errorf("projects as of the cut: %v", projects)
	}
	if mv := readCSV(t, filepath.Join(dir, "funds-movements.csv")); len(mv) != 5 {
		t.Errorf("movements as of the cut: %d rows, want a header and 4", len(mv))
	}

	// Findings now: the audit finding is rectified; the inspection finding,
	// due 2021-07-31, is overdue (the ledger's day is today).
	out = filepath.Join(dir, "findings.csv")
	export("findings", "-o", out)
	fs := readCSV(t, out)
	if len(fs) != 3 {
		t.Fatalf("findings: %v", fs)
	}
	byID := map[string][]string{fs[1][1]: fs[1], fs[2][1]: fs[2]}
	if a := byID["A-2021-7"]; a == nil || a[0] != "审计" || a[9] != "rectified" || a[12] != "2021-06-18" || a[15] != "" || len(strings.Fields(a[17])) != 2 {
		t.Errorf("the audit finding: %v, want rectified on 2021-06-18, not overdue, two facts", a)
	}
	if d := byID["D-9"]; d == nil || d[0] != "督查" || d[9] != "open" || d[15] != "是" {
		t.Errorf("the inspection finding: %v, want open and overdue", d)
	}
	// As of the cut the audit finding was still open, and past its due date.
	export("findings", "--as-of", cut, "-o", out)
	fs = readCSV(t, out)
	for _, row := range fs[1:] {
		if row[1] == "A-2021-7" && (row[9] != "open" || row[15] != "是") {
			t.Errorf("the audit finding as of the cut: %v, want open and overdue", row)
		}
	}

	// Refusals.
	for _, args := range [][]string{{"budget", "-o", "x.xlsx"}, {"funds"}, {"funds", "-o", "x.pdf"}, {"funds", "--as-of", "soon", "-o", "x.csv"},
		{"funds", "--as-of", "12", "-o", "x.csv"}} {
		if r := runCLI(ctx, append([]string{"export", "--nats-url", h.ClientURL()}, args...)...); r.code != exitUsage {
			t.Errorf("export %v: exit %d, want %d (usage): %s", args, r.code, exitUsage, r.stderr)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
