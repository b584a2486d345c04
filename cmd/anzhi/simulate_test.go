package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulateCommandFile(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		out := filepath.Join(dir, "events.jsonl")
		stdout, _, err := execCmd(ctx, newSimulateCmd(&app{}), "--persons", "300", "--seed", "5", "--from", "2020-01", "--to", "2021-06", "-o", out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stdout, "wrote ") {
			t.Errorf("stdout %q", stdout)
		}
		if files[i], err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("the same seed wrote different files")
	}
	lines := bytes.Split(bytes.TrimSpace(files[0]), []byte("\n"))
	if len(lines) < 1000 {
		t.Fatalf("only %d events", len(lines))
	}
	for _, l := range lines {
		var ev struct {
			SpecVersion string          `json:"specversion"`
			Source      string          `json:"source"`
			Type        string          `json:"type"`
			Data        json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(l, &ev); err != nil || ev.SpecVersion != "1.0" || !strings.HasPrefix(ev.Source, "/xianyang/") || len(ev.Data) == 0 {
			t.Fatalf("line %s: %v", l, err)
		}
	}
}

func TestSimulateCommandPublish(t *testing.T) {
	h := startHub(t)
	ctx := testContext(t)
	stdout, _, err := execCmd(ctx, newSimulateCmd(&app{}), "--persons", "200", "--from", "2020-01", "--to", "2020-12",
		"--bad-rate", "0", "--nats-url", h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "invalid=0 failed=0 bad=0") || strings.Contains(stdout, "published=0 ") {
		t.Errorf("summary %q", stdout)
	}
	for _, tt := range []struct {
		args      []string
		withError string
	}{
		{[]string{"--scale", "national", "--nats-url", h.ClientURL()}, "write it with -o"},
		{[]string{"--scale", "moon", "-o", "-"}, "is not xianyang"},
		{[]string{"--from", "2020"}, "want YYYY-MM"},
		{[]string{"--rate", "fast"}, "--rate"},
	} {
		if _, _, err := execCmd(ctx, newSimulateCmd(&app{}), tt.args...); err == nil || !strings.Contains(err.Error(), tt.withError) {
			t.Errorf("simulate %v = %v, want an error with %q", tt.args, err, tt.withError)
		}
	}
}
