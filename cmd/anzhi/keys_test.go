package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/publishers/ledger"
)

func TestKeysNew(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "person.key")

	r := runCLI(ctx, "keys", "new", "-o", key)
	if r.code != exitOK || !strings.Contains(r.stderr, "wrote a new person key to "+key) {
		t.Fatalf("keys new: exit %d\n%s", r.code, r.stderr)
	}
	first := readKeyFile(t, key)

	// Never overwritten without --force: exit 2, the key as it was.
	r = runCLI(ctx, "keys", "new", "-o", key)
	if r.code != exitUsage || !strings.Contains(r.stderr, key+" exists") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("keys new over an existing key: exit %d\n%s", r.code, r.stderr)
	}
	if got := readKeyFile(t, key); got != first {
		t.Error("keys new without --force changed the key")
	}

	// With --force: a new key, and mode 0600 even over a file others could read.
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if r = runCLI(ctx, "keys", "new", "-o", key, "--force"); r.code != exitOK {
		t.Fatalf("keys new --force: exit %d\n%s", r.code, r.stderr)
	}
	if got := readKeyFile(t, key); got == first {
		t.Error("keys new --force wrote the same key")
	}

	for _, args := range [][]string{{"keys", "new"}, {"keys", "new", "-o", dir, "--force"}} {
		if r := runCLI(ctx, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("keys new left files behind: %v", entries)
	}
}

// readKeyFile checks a key file as keys new writes it (mode 0600, 64 hex
// digits and a newline, read by import as 32 bytes) and returns its text.
func readKeyFile(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSuffix(string(b), "\n")
	if raw, err := hex.DecodeString(text); err != nil || len(raw) != 32 || len(text)+1 != len(b) {
		t.Errorf("%s holds %q, want 64 hex digits and a newline", path, b)
	}
	if k, err := ledger.LoadKey(path); err != nil || len(k) != 32 {
		t.Errorf("import reads %s as %d bytes, %v", path, len(k), err)
	}
	return string(b)
}

// TestKeysNewForImport: the key keys new makes is what import takes, from
// --key-file or from ANZHI_PERSON_KEY, and both give the same person keys
// (the second import adds nothing).
func TestKeysNewForImport(t *testing.T) {
	h := startHub(t)
	ctx := testContext(t)
	key := filepath.Join(t.TempDir(), "person.key")
	if r := runCLI(ctx, "keys", "new", "-o", key); r.code != exitOK {
		t.Fatalf("keys new: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv(ledger.KeyEnv, "")
	args := []string{"import", "--dept", "edu", "--family", "edu.enrolment", "--file", filepath.Join(ledgerDir, "edu-学生入学台账.csv"),
		"--nats-url", h.ClientURL(), "--json"}
	r := runCLI(ctx, append(args, "--key-file", key)...)
	if r.code != exitRefused || !strings.Contains(r.stdout, `"duplicates":0`) || strings.Contains(r.stdout, `"published":0`) {
		t.Fatalf("import --key-file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, _ := os.ReadFile(key)
	t.Setenv(ledger.KeyEnv, string(b))
	r = runCLI(ctx, args...)
	if r.code != exitRefused || !strings.Contains(r.stdout, `"published":0`) {
		t.Fatalf("import with %s: exit %d, want every fact a duplicate\n%s%s", ledger.KeyEnv, r.code, r.stdout, r.stderr)
	}
}
