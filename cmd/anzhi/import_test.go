package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// execCmd runs a command built by a constructor with args.
func execCmd(ctx context.Context, cmd *cobra.Command, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

const ledgerDir = "../../testdata/ledgers"

func TestImportCommand(t *testing.T) {
	h := startHub(t)
	ctx := testContext(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "person.key")
	if err := os.WriteFile(keyFile, []byte("00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ANZHI_PERSON_KEY", "")
	ledgerFile := filepath.Join(ledgerDir, "edu-学生入学台账.csv")

	// No key: a clear error before anything is read or sent.
	_, _, err := execCmd(ctx, newImportCmd(&app{}), "--dept", "edu", "--family", "edu.enrolment", "--file", ledgerFile, "--nats-url", h.ClientURL())
	if err == nil || !strings.Contains(err.Error(), "no person key") {
		t.Fatalf("without a key: %v", err)
	}

	// With a key file: good rows published, bad rows in the report, exit 3.
	report := filepath.Join(dir, "report.txt")
	stdout, _, err := execCmd(ctx, newImportCmd(&app{}), "--dept", "edu", "--family", "edu.enrolment", "--file", ledgerFile,
		"--nats-url", h.ClientURL(), "--key-file", keyFile, "--report", report)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitRefused {
		t.Fatalf("import: %v, want exit code %d", err, exitRefused)
	}
	if want := "summary: rows=16 published=11 duplicates=0 invalid=5 failed=0\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "row 14: 年级: ") || !strings.HasPrefix(lines[5], "summary: ") {
		t.Errorf("report:\n%s", b)
	}

	// Again with the key in the environment: nothing new.
	t.Setenv("ANZHI_PERSON_KEY", "00112233445566778899aabbccddeeff")
	stdout, _, _ = execCmd(ctx, newImportCmd(&app{}), "--dept", "edu", "--family", "edu.enrolment", "--file", ledgerFile,
		"--nats-url", h.ClientURL(), "--report", report, "--json")
	if !strings.Contains(stdout, `"published":0,"duplicates":11`) {
		t.Errorf("re-import summary %s", stdout)
	}
}

func TestImportCommandUsage(t *testing.T) {
	ctx := testContext(t)
	t.Setenv("ANZHI_PERSON_KEY", "00112233445566778899aabbccddeeff")
	out, _, err := execCmd(ctx, newImportCmd(&app{}), "--family", "hr.training", "--show-mapping")
	if err != nil || !strings.Contains(out, "family: hr.training") {
		t.Fatalf("--show-mapping: %v\n%s", err, out)
	}
	mapping := filepath.Join(t.TempDir(), "map.yaml")
	b, _ := os.ReadFile("../../publishers/ledger/mappings/hr.training.yaml")
	if err := os.WriteFile(mapping, b, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args      []string
		withError string
	}{
		{[]string{"--dept", "hrss", "--family", "hr.employment", "--file", "x.xlsx", "--mapping", mapping}, "is for hr.training"},
		{[]string{"--dept", "water", "--family", "infra.water", "--file", "x.xlsx"}, "no built-in mapping"},
		{[]string{"--dept", "hrss", "--family", "edu.enrolment", "--file", "x.csv"}, "hrss may not publish edu.enrolment"},
		{[]string{"--family", "hr.training"}, "--dept and --file are required"},
		{[]string{"--dept", "hrss", "--family", "hr.training", "--file", "missing.xlsx"}, "missing.xlsx"},
	}
	for _, tt := range tests {
		_, _, err := execCmd(ctx, newImportCmd(&app{}), tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.withError) {
			t.Errorf("import %v = %v, want an error with %q", tt.args, err, tt.withError)
		}
	}
}
