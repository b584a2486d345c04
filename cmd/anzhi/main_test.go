package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running
// command and the reads of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what one run of the command line gave.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs anzhi in-process with args.
func runCLI(ctx context.Context, args ...string) result {
	var stdout, stderr syncBuffer
	code := run(ctx, args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// testContext bounds a test's waiting (see hubtest.Patience: generous, so
// a loaded machine under the race detector does not fail it).
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hubtest.Patience)
	t.Cleanup(cancel)
	return ctx
}

// startHub starts a hub on a free port with its data in a temp directory.
func startHub(t *testing.T) *hub.Hub {
	t.Helper()
	h, err := hub.Start(testContext(t), hub.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", TickEvery: -1})
	if err != nil {
		t.Fatalf("hub.Start: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// waitReady waits until a long-running command (run in a goroutine or as a
// process) has written its ready file, and fails the test if the command
// ends first: done delivers its outcome.
func waitReady[T any](t *testing.T, path, what string, done <-chan T, stderr *syncBuffer) readyInfo {
	t.Helper()
	var info readyInfo
	waitFor(t, testContext(t), what+" to be ready", func() bool {
		select {
		case outcome := <-done:
			t.Fatalf("%s ended (%v) before it was ready:\n%s", what, outcome, stderr.String())
		default:
		}
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &info) == nil
	})
	return info
}

// waitFor polls cond until it holds or the test context ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestUsageErrors(t *testing.T) {
	ctx := testContext(t)
	for _, tt := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown subcommand", []string{"nope"}, `unknown command "nope"`},
		{"unknown flag", []string{"schemas", "list", "--nope"}, "unknown flag: --nope"},
		{"bad log level", []string{"--log-level", "loud", "version"}, "--log-level"},
		{"publish without --dept", []string{"publish", "--family", "edu.enrolment"}, `"dept" not set`},
		{"publish without a fact", []string{"publish", "--dept", "edu"}, "[file family]"},
		{"publish unknown dept", []string{"publish", "--dept", "school", "--family", "edu.enrolment"}, "not a department"},
		{"publish as the hub", []string{"publish", "--dept", "hub", "--family", "edu.enrolment"}, "the hub publishes its own events"},
		{"publish file and family", []string{"publish", "--dept", "edu", "--file", "x.jsonl", "--family", "edu.enrolment"}, "[file family]"},
		{"publish without data", []string{"publish", "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01"}, "--data"},
		{"publish unknown family", []string{"publish", "--dept", "edu", "--family", "edu.enrol", "--time", "2020-09-01", "--data", "{}"}, "did you mean"},
		{"publish bad time", []string{"publish", "--dept", "edu", "--family", "edu.enrolment", "--time", "1 Sept", "--data", "{}"}, "--time"},
		{"publish bad county", []string{"publish", "--dept", "edu", "--family", "edu.enrolment", "--county", "610101", "--time", "2020-09-01", "--data", "{}"}, "--county"},
		{"schemas show without type", []string{"schemas", "show"}, "accepts 1 arg"},
		{"rejections bad since", []string{"rejections", "--since", "yesterday"}, "--since"},
		{"rejections bad limit", []string{"rejections", "--limit", "0"}, "--limit"},
		{"rejections since and after", []string{"rejections", "--since", "2024-05-01T00:00:00+08:00", "--after", "7"}, "give one"},
		{"rejections bad dept", []string{"rejections", "--dept", "county/610101"}, "--dept"},
		{"hub with arguments", []string{"hub", "now"}, "unknown command"},
		{"unknown schemas subcommand", []string{"schemas", "bogus"}, `unknown command "bogus" for anzhi schemas`},
		{"import with an unknown encoding", []string{"import", "--dept", "edu", "--family", "edu.enrolment", "--file", "x.csv", "--encoding", "latin1", "--key-file", "/dev/null"}, "--encoding latin1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, tt.args...)
			if got, want := r.code, exitUsage; got != want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("stderr does not point to --help:\n%s", r.stderr)
			}
		})
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	r := runCLI(testContext(t), "--help")
	if got, want := r.code, exitOK; got != want {
		t.Fatalf("exit code %d, want %d", got, want)
	}
	for _, want := range []string{"Exit codes:", "0    ok", "1    runtime", "2    usage", "3    input refused", "130  interrupted"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not contain %q:\n%s", want, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(testContext(t), "version")
	if got, want := r.code, exitOK; got != want {
		t.Fatalf("exit code %d, want %d", got, want)
	}
	if !strings.HasPrefix(r.stdout, "anzhi ") {
		t.Errorf("version output %q does not start with anzhi", r.stdout)
	}
}

func TestSchemas(t *testing.T) {
	ctx := testContext(t)
	t.Run("list", func(t *testing.T) {
		r := runCLI(ctx, "schemas", "list")
		if got, want := r.code, exitOK; got != want {
			t.Fatalf("exit code %d, want %d; stderr: %s", got, want, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if got, want := len(lines)-1, 46; got != want {
			t.Errorf("%d families listed, want %d:\n%s", got, want, r.stdout)
		}
		if !strings.Contains(r.stdout, "anzhi.edu.enrolment.v1") {
			t.Errorf("edu.enrolment's type is missing:\n%s", r.stdout)
		}
	})
	t.Run("list --json", func(t *testing.T) {
		r := runCLI(ctx, "schemas", "list", "--json")
		var rows []familyInfo
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
			t.Fatalf("output is not a JSON array: %v\n%s", err, r.stdout)
		}
		if got, want := len(rows), 46; got != want {
			t.Errorf("%d families, want %d", got, want)
		}
	})
	for _, name := range []string{"edu.enrolment", "anzhi.edu.enrolment.v1"} {
		t.Run("show "+name, func(t *testing.T) {
			r := runCLI(ctx, "schemas", "show", name)
			if got, want := r.code, exitOK; got != want {
				t.Fatalf("exit code %d, want %d; stderr: %s", got, want, r.stderr)
			}
			var schema map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &schema); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			if got, want := schema["$id"], "https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json"; got != want {
				t.Errorf("$id = %v, want %v", got, want)
			}
		})
	}
	for _, tt := range []struct{ name, want string }{
		{"nope", "anzhi schemas list"},
		{"edu.enrolement", "did you mean edu.enrolment"},
		{"anzhi.hr.employ.v1", "hr.employment"},
	} {
		t.Run("show "+tt.name, func(t *testing.T) {
			r := runCLI(ctx, "schemas", "show", tt.name)
			if got, want := r.code, exitUsage; got != want {
				t.Fatalf("exit code %d, want %d", got, want)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, tt.name) {
				t.Errorf("stderr does not name %q and %q:\n%s", tt.name, tt.want, r.stderr)
			}
		})
	}
	t.Run("departments", func(t *testing.T) {
		r := runCLI(ctx, "schemas", "departments")
		if got, want := r.code, exitOK; got != want {
			t.Fatalf("exit code %d, want %d", got, want)
		}
		for _, want := range []string{"edu", "市教育局", "edu.enrolment", "county/<code>"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output does not contain %q:\n%s", want, r.stdout)
			}
		}
	})
}

func TestHubCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	ready := filepath.Join(t.TempDir(), "ready.json")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"hub", "--data", t.TempDir(), "--nats-listen", "127.0.0.1:0",
			"--http", "127.0.0.1:0", "--ready-file", ready}, &stdout, &stderr)
	}()
	info := waitReady(t, ready, "the hub", done, &stderr)
	if !strings.HasPrefix(info.NATSURL, "nats://127.0.0.1:") || !strings.HasPrefix(info.HTTPURL, "http://127.0.0.1:") {
		t.Fatalf("ready file: %+v", info)
	}
	resp, err := http.Get(info.HTTPURL + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	_ = resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusOK; got != want {
		t.Errorf("GET /healthz: status %d, want %d", got, want)
	}
	for _, want := range []string{info.NATSURL, info.HTTPURL, "anzhi publish"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, stderr.String())
		}
	}

	cancel()
	select {
	case code := <-done:
		if got, want := code, exitOK; got != want {
			t.Errorf("exit code %d, want %d:\n%s", got, want, stderr.String())
		}
	case <-testContext(t).Done():
		t.Fatal("hub did not stop after the cancellation")
	}
	if !strings.Contains(stderr.String(), "hub stopped") {
		t.Errorf("log does not say the hub stopped:\n%s", stderr.String())
	}
}

func TestExitCode(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name    string
		ctx     context.Context
		started bool
		err     error
		want    int
	}{
		{"ok", live, true, nil, exitOK},
		{"runtime", live, true, errors.New("boom"), exitRuntime},
		{"cobra refused", live, false, errors.New(`unknown flag: --x`), exitUsage},
		{"usage", live, true, usageErrorf("bad"), exitUsage},
		{"refused", live, true, refusedErrorf("bad"), exitRefused},
		{"invalid fact", live, true, fmt.Errorf("wrapped: %w", &fact.ValidationError{}), exitRefused},
		{"interrupted", done, true, fmt.Errorf("publish: %w", context.Canceled), exitInterrupted},
		{"interrupted, refused", done, true, refusedErrorf("bad"), exitRefused},
		{"interrupted, other error", done, true, errors.New("boom"), exitInterrupted},
		{"interrupted, finished cleanly", done, true, nil, exitOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := exitCode(tt.ctx, tt.started, tt.err), tt.want; got != want {
				t.Errorf("exitCode = %d, want %d", got, want)
			}
		})
	}
}

func TestInterrupted(t *testing.T) {
	h := startHub(t)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(`{}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", path)
	if got, want := r.code, exitInterrupted; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
	}
	if !strings.Contains(r.stderr, "summary: lines=0") {
		t.Errorf("stderr has no summary:\n%s", r.stderr)
	}
}

// TestKeepErr: a failed Close or Flush of an output file becomes the
// command's error unless the command already failed.
func TestKeepErr(t *testing.T) {
	full := errors.New("no space left on device")
	earlier := errors.New("publish failed")
	write := func(prior, finish error) (err error) {
		defer keepErr(&err, "--report", func() error { return finish })
		return prior
	}
	for _, tt := range []struct {
		name          string
		prior, finish error
		want          error
		msg           string
	}{
		{"close fails", nil, full, full, "--report: no space left on device"},
		{"earlier error kept", earlier, full, earlier, "publish failed"},
		{"close ok", nil, nil, nil, ""},
		{"close ok after an error", earlier, nil, earlier, "publish failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := write(tt.prior, tt.finish)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil && err.Error() != tt.msg {
				t.Errorf("message %q, want %q", err, tt.msg)
			}
		})
	}
}
