package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/hub"
)

// TestAuditCommands: an auditor verifies the log, gets a proof of a fact
// and checks it offline, with a tampered copy refused; and proves that the
// tree extends a checkpoint kept earlier.
func TestAuditCommands(t *testing.T) {
	ctx := testContext(t)
	h, err := hub.Start(ctx, hub.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", TickEvery: -1, AuditEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	publish := func(id string, i int) {
		data, _ := json.Marshal(enrolment(i))
		if r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01",
			"--id", id, "--data", string(data)); r.code != exitOK {
			t.Fatalf("publish: %d %s", r.code, r.stderr)
		}
	}
	publish("e1", 1)
	publish("e2", 2)
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "hub.vkey")
	if err := os.WriteFile(key, []byte(h.AuditVerifierKey()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, old, err := h.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(dir, "old.txt")
	if err := os.WriteFile(oldFile, old, 0o644); err != nil {
		t.Fatal(err)
	}
	publish("e3", 3)
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	api := "http://" + h.HTTPAddr()
	r := runCLI(ctx, "audit", "prove", "2", "--api-url", api)
	if r.code != exitOK {
		t.Fatalf("prove: exit %d: %s", r.code, r.stderr)
	}
	proof := filepath.Join(dir, "proof.json")
	if err := os.WriteFile(proof, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(ctx, "audit", "check-proof", proof, "--key", key); r.code != exitOK || !strings.Contains(r.stdout, "ok: log entry 2") {
		t.Errorf("check-proof: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	tampered := strings.Replace(r.stdout, `"log_seq": 2`, `"log_seq": 3`, 1)
	tampered = strings.Replace(tampered, `"leaf_index": 1`, `"leaf_index": 2`, 1)
	if err := os.WriteFile(proof, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(ctx, "audit", "check-proof", proof, "--key", key); r.code != exitRefused {
		t.Errorf("check-proof of a tampered proof: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(ctx, "audit", "consistency", "--old", oldFile, "--key", key, "--api-url", api); r.code != exitOK || !strings.Contains(r.stdout, "extends the old one") {
		t.Errorf("consistency: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if _, _, err := h.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(ctx, "audit", "verify", "--nats-url", h.ClientURL(), "--key", key); r.code != exitOK || !strings.Contains(r.stdout, "verified: log entries 1 to") {
		t.Errorf("verify: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(ctx, "audit", "verify", "--nats-url", h.ClientURL()); r.code != exitUsage {
		t.Errorf("verify without --key: exit %d", r.code)
	}
}
