package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingFilesAreUsageErrors: a --data @file or a key file that cannot
// be read is a usage error (exit 2) naming the file, found before anything
// connects (the NATS URL here has no server). A ledger or events --file
// that cannot be read stays exit 1, as TestPublishFile says.
func TestMissingFilesAreUsageErrors(t *testing.T) {
	ctx := testContext(t)
	missing := filepath.Join(t.TempDir(), "没有这个文件")
	t.Setenv("ANZHI_PERSON_KEY", "00112233445566778899aabbccddeeff")
	noNATS := "nats://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
	}{
		{"publish --data @file", []string{"publish", "--nats-url", noNATS, "--dept", "edu", "--family", "edu.enrolment", "--time", "2024-09-01", "--data", "@" + missing + ".json"}},
		{"import --key-file", []string{"import", "--nats-url", noNATS, "--dept", "edu", "--family", "edu.enrolment", "--file", filepath.Join(ledgerDir, "edu-学生入学台账.csv"), "--key-file", missing + ".key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, tt.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, missing) || !strings.Contains(r.stderr, "no such file") {
				t.Errorf("exit %d, stderr %q; want %d naming %s", r.code, r.stderr, exitUsage, missing)
			}
		})
	}
}
