package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xianyang/anzhi/view"
)

// TestDemo runs the demo on a small simulated Xianyang, with identities on
// as in a real deployment: it loads, prints the summary, answers
// /api/v1/city to the lead office's token (and nobody without one), and
// stops cleanly when interrupted.
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
	info := waitReady(t, ready, "the demo", done, &stderr)
	out := stdout.String()
	for _, want := range []string{"accepted into the log", "rejected (ledger)", "early warnings open", "R4", "warnings over time",
		"2019 H1", "weekly clock ticks", "/api/v1/city", "R15", "R16", "responsibility list (责任清单)", "/tasks", "overdue",
		"joint meetings held", "/assessment", "/report/" + view.QuarterOf(time.Now().In(view.ChinaTime())) + ".html",
		"token      " + info.Token, "lead-office.creds"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if resp, err := http.Get(info.HTTPURL + "/api/v1/city"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/city without a token: %d, want 401", resp.StatusCode)
	}
	if info.Token == "" {
		t.Fatal("the ready file has no lead office token")
	}
	req, _ := http.NewRequest(http.MethodGet, info.HTTPURL+"/api/v1/city", nil)
	req.Header.Set("Authorization", "Bearer "+info.Token)
	resp, err := http.DefaultClient.Do(req)
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
	// The summary names the dashboard first, with a one-time sign-in link
	// that opens the city page as the lead office.
	var link string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(line, "anzhi demo") {
			if f[0] != "dashboard" || len(f) < 4 || f[1] != info.HTTPURL+"/" {
				t.Fatalf("the summary's first line is %q, want the dashboard's URL", line)
			}
			link = f[3]
			break
		}
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err = browser.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || !strings.Contains(string(body), "咸阳") {
		t.Errorf("the sign-in link %s: %d at %s, want the city page", link, resp.StatusCode, resp.Request.URL)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d after the interrupt, want %d:\n%s", code, exitOK, stderr.String())
		}
	case <-testContext(t).Done():
		t.Fatal("demo did not stop after the interrupt")
	}
}

// TestMain lets the test binary run as the anzhi command itself (for tests
// that send real signals): with ANZHI_RUN_MAIN set, it runs main with the
// arguments after "--".
func TestMain(m *testing.M) {
	if os.Getenv("ANZHI_RUN_MAIN") != "" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"anzhi"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// TestDemoStopsOnSIGINT runs the demo as a real process and interrupts it
// with SIGINT, as Ctrl-C does.
func TestDemoStopsOnSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ready := filepath.Join(t.TempDir(), "ready.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "demo", "--persons", "300", "--nats-listen", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--ready-file", ready)
	cmd.Env = append(os.Environ(), "ANZHI_RUN_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	info := waitReady(t, ready, "the demo process", done, &stderr)
	req, _ := http.NewRequest(http.MethodGet, info.HTTPURL+"/api/v1/city", nil)
	req.Header.Set("Authorization", "Bearer "+info.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/city: %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exited with %v after SIGINT, want 0:\n%s", err, stderr.String())
		}
	case <-testContext(t).Done():
		_ = cmd.Process.Kill()
		t.Fatal("demo did not stop after SIGINT")
	}
	if !strings.Contains(stderr.String(), "stopping the demo") {
		t.Errorf("no orderly stop in the log:\n%s", stderr.String())
	}
}
