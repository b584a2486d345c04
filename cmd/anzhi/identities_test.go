package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
)

// TestIdentitiesCommand: a department publishes through a hub that enforces
// identities with its own .creds and gets its verdict; without credentials
// the command says the hub wants them; the table is what SECURITY.md shows.
func TestIdentitiesCommand(t *testing.T) {
	ctx := testContext(t)
	dir := filepath.Join(t.TempDir(), "ids")
	r := runCLI(ctx, "identities", "init", "--out", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, "identities in "+dir) {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(ctx, "identities", "init", "--out", dir); r.code != exitUsage || !strings.Contains(r.stderr, "already exist") {
		t.Errorf("init again: exit %d, stderr %s; want a usage error saying they exist", r.code, r.stderr)
	}
	ids, err := identities.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.Start(ctx, hub.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", TickEvery: -1, Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	good, _ := json.Marshal(enrolment(1))
	base := []string{"publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01",
		"--id", "enrol-1", "--data", string(good)}
	r = runCLI(ctx, append(base, "--creds", filepath.Join(dir, "edu.creds"))...)
	if r.code != exitOK || !strings.Contains(r.stdout, "accepted: enrol-1 at log seq") {
		t.Errorf("publishing with edu.creds: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(ctx, base...)
	if r.code == exitOK || !strings.Contains(r.stderr, "--creds") {
		t.Errorf("publishing without credentials: exit %d, stderr %s; want an error naming --creds", r.code, r.stderr)
	}
	r = runCLI(ctx, "identities", "table")
	if r.code != exitOK || !strings.Contains(r.stdout, "| county-610424 | county | county-610424 |") {
		t.Errorf("table: exit %d\n%s", r.code, r.stdout)
	}
	if r := runCLI(ctx, "identities", "token", "lead-office", "--identities", dir); r.code != exitOK || !strings.HasPrefix(r.stdout, "anzhi_") {
		t.Errorf("token: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	} else if _, ok := ids.TokenIdentity(strings.TrimSpace(r.stdout)); !ok {
		t.Errorf("the token printed is not recognised")
	} else {
		// The CLI's HTTP reads send it; without it the hub says 401 and
		// the CLI names the flag.
		api := []string{"view", "warnings", "--api-url", "http://" + h.HTTPAddr()}
		if r := runCLI(ctx, api...); r.code != exitRuntime || !strings.Contains(r.stderr, "401") || !strings.Contains(r.stderr, "--token") {
			t.Errorf("view warnings without a token: exit %d, stderr %s", r.code, r.stderr)
		}
		if r := runCLI(ctx, append(api, "--token", strings.TrimSpace(r.stdout))...); r.code != exitOK || !strings.Contains(r.stdout, "无预警") {
			t.Errorf("view warnings with the lead office's token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(ctx, "identities", "token", "lead-office", "--revoke", "--identities", dir); r.code != exitOK || !strings.Contains(r.stdout, "revoked 1 token(s) of lead-office") {
		t.Errorf("token --revoke: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "edu.creds"))
	if r := runCLI(ctx, "identities", "reissue", "edu", "--identities", dir); r.code != exitOK || !strings.Contains(r.stdout, "reissued edu") {
		t.Errorf("reissue: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "edu.creds")); string(after) == string(before) {
		t.Error("reissue left edu.creds as it was")
	}
	if err := h.ReloadIdentities(); err != nil {
		t.Errorf("reload after reissue: %v", err)
	}
	r = runCLI(ctx, append(base[:len(base)-2], "--id", "enrol-2", "--data", string(good), "--creds", filepath.Join(dir, "edu.creds"))...)
	if r.code != exitOK {
		t.Errorf("publishing with the reissued edu.creds: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(ctx, "identities", "token", "nobody", "--identities", dir); r.code != exitUsage {
		t.Errorf("token for an unknown identity: exit %d, want %d", r.code, exitUsage)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "operator.nk")); err != nil {
		t.Errorf("operator seed: %v", err)
	}
}
