package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// TestReport: anzhi report writes the quarterly report from the hub's API
// in each format, to -o, to standard output, or under its own name; a
// county's holds that county; bad flags are usage errors, a quarter the
// hub refuses a runtime error carrying its reason.
func TestReport(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, HTTPAddr: "127.0.0.1:0"})
	api := []string{"--api-url", "http://" + h.HTTPAddr()}
	items := append(scenario.Village(2021), scenario.Funds("drc", "P610424-XM01", "610424", scenario.VillageSite, "allocated", 88.8, "2021-03-01"))
	if err := scenario.Publish(ctx, nc, items); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 6, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	quarter := view.QuarterOf(time.Now().In(view.ChinaTime()))

	md := filepath.Join(dir, "r.md")
	if r := runCLI(ctx, append([]string{"report", "--format", "md", "-o", md}, api...)...); r.code != exitOK || !strings.Contains(r.stderr, md) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(md); !strings.Contains(string(b), "| 610424 | 乾县 | 88.80 |") || !strings.Contains(string(b), quarter) {
		t.Errorf("the Markdown report:\n%.600s", b)
	}

	xlsx := filepath.Join(dir, "乾县.xlsx")
	if r := runCLI(ctx, append([]string{"report", "--quarter", quarter, "--county", "610424", "-o", xlsx}, api...)...); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	book, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatalf("the workbook -o names (its format from the extension): %v", err)
	}
	rows, _ := book.GetRows("两不愁三保障")
	book.Close()
	if len(rows) < 4 || rows[2][0] != "610424" || len(rows[3]) != 0 {
		t.Errorf("610424's 两不愁三保障: %q, want its one row (then the sheet's note)", rows)
	}

	if r := runCLI(ctx, append([]string{"report", "-o", "-", "--format", "html"}, api...)...); r.code != exitOK || !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") {
		t.Errorf("-o -: exit %d, %.100s", r.code, r.stdout)
	}
	t.Chdir(dir)
	if r := runCLI(ctx, append([]string{"report", "--county", "610425"}, api...)...); r.code != exitOK {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "anzhi-report-"+quarter+"-610425.xlsx")); err != nil {
		t.Errorf("the report under its own name: %v", err)
	}

	for _, args := range [][]string{{"--quarter", "2025Q5"}, {"--format", "pdf"}, {"--county", "610400"}, {"--county", "999999"}, {"extra"}} {
		if r := runCLI(ctx, append(append([]string{"report"}, args...), api...)...); r.code != exitUsage {
			t.Errorf("report %v: exit %d, want %d: %s", args, r.code, exitUsage, r.stderr)
		}
	}
	if r := runCLI(ctx, append([]string{"report", "--quarter", "2099Q1", "-o", "-"}, api...)...); r.code != exitRuntime || !strings.Contains(r.stderr, "has not begun") {
		t.Errorf("a quarter not begun: exit %d: %s", r.code, r.stderr)
	}
}
