package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/subscribers"
)

// TestReplay: an auditor replays the log filtered by family, county,
// department and entity, with or without the ledger and the hub's events,
// as JSON lines or CSV; each entry comes with its log sequence and the
// stored CloudEvent.
func TestReplay(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	good1, _ := json.Marshal(enrolment(1))
	good2, _ := json.Marshal(enrolment(2))
	bad := enrolment(3)
	bad["level"] = "university"
	badJSON, _ := json.Marshal(bad)
	base := []string{"publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01"}
	for _, args := range [][]string{{"--id", "e1", "--data", string(good1)}, {"--id", "e2", "--data", string(good2)},
		{"--id", "e3", "--no-check", "--data", string(badJSON)}} {
		runCLI(ctx, append(base, args...)...)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	lines := func(args ...string) []subscribers.ReplayedEntry {
		t.Helper()
		r := runCLI(ctx, append([]string{"replay", "--nats-url", h.ClientURL()}, args...)...)
		if r.code != exitOK {
			t.Fatalf("replay %v: exit %d: %s", args, r.code, r.stderr)
		}
		return hubtest.JSONLines[subscribers.ReplayedEntry](t, strings.NewReader(r.stdout))
	}
	all := lines("--family", "edu.enrolment")
	if len(all) != 2 || all[0].Kind != "fact" || all[0].Seq >= all[1].Seq || all[0].Recorded.IsZero() {
		t.Fatalf("edu.enrolment: %+v, want the two accepted facts in log order", all)
	}
	var ev map[string]any
	if err := json.Unmarshal(all[0].Body, &ev); err != nil || ev["id"] != "e1" || ev["source"] != "/xianyang/edu" {
		t.Errorf("the first entry's body is not the stored CloudEvent: %s", all[0].Body)
	}
	if got := lines("--family", "edu.enrolment", "--include-rejected"); len(got) != 3 || got[2].Kind != "rejection" {
		t.Errorf("with the ledger: %d entries (last %q), want 3 ending with the rejection", len(got), got[len(got)-1].Kind)
	}
	if got := lines("--county", "610425"); len(got) != 0 {
		t.Errorf("county 610425: %d entries, want none", len(got))
	}
	if got := lines("--dept", "police"); len(got) != 0 {
		t.Errorf("dept police: %d entries, want none", len(got))
	}
	if got := lines("--entity", strings.Repeat("0", 63)+"2"); len(got) != 1 {
		t.Errorf("entity (person 2): %d entries, want 1", len(got))
	}
	if got := lines("--since", "2", "--until", "2", "--family", "edu.enrolment"); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("--since 2 --until 2: %+v", got)
	}
	if got := lines("--since", "2100-01-01"); len(got) != 0 {
		t.Errorf("--since 2100-01-01: %d entries", len(got))
	}
	if got := lines("--since", "2", "--until", "2100-01-01", "--family", "edu.enrolment"); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("--since 2 --until 2100-01-01: %+v", got)
	}
	if got := lines("--since", "2100-01-01", "--family", "edu.enrolment"); len(got) != 0 {
		t.Errorf("--since 2100-01-01: %d entries", len(got))
	}
	out := filepath.Join(t.TempDir(), "replay.csv")
	if r := runCLI(ctx, "replay", "--nats-url", h.ClientURL(), "--include-rejected", "-o", out); r.code != exitOK {
		t.Fatalf("replay -o csv: exit %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "log_seq" || rows[1][5] != "e1" || rows[3][2] != "rejection" {
		t.Errorf("CSV rows: %v", rows)
	}
	book := filepath.Join(t.TempDir(), "replay.xlsx")
	if r := runCLI(ctx, "replay", "--nats-url", h.ClientURL(), "--include-rejected", "-o", book); r.code != exitOK {
		t.Fatalf("replay -o xlsx: exit %d: %s", r.code, r.stderr)
	}
	x, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	xrows, err := x.GetRows("log")
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != len(rows) || xrows[1][5] != "e1" || xrows[3][2] != "rejection" {
		t.Errorf("XLSX rows %v, want the CSV's %v", xrows, rows)
	}
	if r := runCLI(ctx, "replay", "--nats-url", h.ClientURL(), "--since", "yesterday"); r.code != exitUsage {
		t.Errorf("--since yesterday: exit %d, want %d", r.code, exitUsage)
	}
}
