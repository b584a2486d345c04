package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the demo on a small simulated Xianyang: it loads, prints the
// summary, answers /api/v1/city, and stops cleanly when interrupted.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	ready := filepath.Join(t.TempDir(), "ready.json")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--persons", "400", "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
			"--ready-file", ready}, &stdout, &stderr)
	}()
	var info readyInfo
	waitFor(t, testContext(t), "the demo to load", func() bool {
		select {
		case code := <-done:
			t.Fatalf("demo exited with %d before it was ready:\n%s", code, stderr.String())
		default:
		}
		b, err := os.ReadFile(ready)
		return err == nil && json.Unmarshal(b, &info) == nil
	})
	out := stdout.String()
	for _, want := range []string{"accepted into the log", "rejected (ledger)", "early warnings open", "R4", "/api/v1/city"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	resp, err := http.Get(info.HTTPURL + "/api/v1/city")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/city: %d %s", resp.StatusCode, body)
	}
	var city struct {
		Indicators struct {
			Counts map[string]int64 `json:"counts"`
		} `json:"indicators"`
	}
	if err := json.Unmarshal(body, &city); err != nil {
		t.Fatal(err)
	}
	if got := city.Indicators.Counts["persons"]; got < 350 || got > 450 {
		t.Errorf("city persons = %d, want ≈400", got)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d after the interrupt, want %d:\n%s", code, exitOK, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of the interrupt")
	}
}
