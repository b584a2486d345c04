package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/subscribers"
)

// enrolment returns valid edu.enrolment data for the n-th child.
func enrolment(n int) map[string]any {
	return map[string]any{
		"person_key":   fmt.Sprintf("%064x", n),
		"household_id": "H610424-000123",
		"action":       "enrolled",
		"school_id":    "QX-CGXX",
		"level":        "primary",
		"grade":        3,
		"school_year":  "2020-2021",
		"effective_on": "2020-09-01",
	}
}

// event encodes a structured CloudEvent of edu.enrolment as one JSONL line.
func event(t *testing.T, id, source string, data map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := data["person_key"].(string)
	return string(fact.Encode(nil, &fact.Outgoing{
		ID: id, Source: source, Type: "anzhi.edu.enrolment.v1", Subject: subject,
		Time: time.Date(2020, 9, 1, 8, 0, 0, 0, time.UTC), Data: raw,
	}))
}

// logState waits for the hub to be idle and returns how many facts and
// rejections the canonical log holds.
func logState(t *testing.T, ctx context.Context, h *hub.Hub) (facts, rejections int) {
	t.Helper()
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(fact.FactSubjectPrefix+">"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range info.State.Subjects {
		facts += int(n)
	}
	rs, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return facts, len(rs)
}

func TestPublishOne(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	dataFile := filepath.Join(t.TempDir(), "fact.json")
	b, _ := json.Marshal(enrolment(1))
	if err := os.WriteFile(dataFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := enrolment(2)
	delete(invalid, "effective_on")
	bad, _ := json.Marshal(invalid)
	base := []string{"publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01"}

	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		stdout    string // in stdout
		stderr    string // in stderr
		wantFacts int    // in the log afterwards
	}{
		{"valid", []string{"--data", "@" + dataFile}, exitOK, "published edu.enrolment-", "", 1},
		{"again", []string{"--data", "@" + dataFile}, exitOK, "duplicate edu.enrolment-", "", 1},
		{"invalid", []string{"--data", string(bad)}, exitRefused, "", "schema /data/effective_on: required field is missing", 1},
		{"invalid --json", []string{"--data", string(bad), "--json"}, exitRefused, `"pointer":"/data/effective_on"`, "nothing was sent", 1},
		{"not JSON", []string{"--data", "{"}, exitRefused, "", "/data", 1},
		{"county mismatch", []string{"--data", "@" + dataFile, "--county", "610402"}, exitRefused, "", "county", 1},
		{"explicit id, RFC 3339", []string{"--data", "@" + dataFile, "--id", "enrol-1", "--time", "2020-09-01T08:00:00+08:00", "--json"},
			exitOK, `"id":"enrol-1","subject":"edu.enrolment.610424"`, "", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, append(base, tt.args...)...)
			if got, want := r.code, tt.code; got != want {
				t.Errorf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", got, want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.stdout, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, r.stderr)
			}
			facts, rejections := logState(t, ctx, h)
			if got, want := facts, tt.wantFacts; got != want {
				t.Errorf("%d facts in the log, want %d", got, want)
			}
			if got, want := rejections, 0; got != want {
				t.Errorf("%d rejections in the log, want %d (invalid facts must not be sent)", got, want)
			}
		})
	}
}

func TestPublishCannotConnect(t *testing.T) {
	r := runCLI(testContext(t), "publish", "--nats-url", "nats://127.0.0.1:1", "--dept", "edu",
		"--family", "edu.enrolment", "--time", "2020-09-01", "--data", "{}")
	if got, want := r.code, exitRuntime; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
	}
	if !strings.Contains(r.stderr, "connect to NATS") {
		t.Errorf("stderr does not explain:\n%s", r.stderr)
	}
}

func TestPublishFile(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	dir := t.TempDir()
	schemaInvalid := enrolment(5)
	schemaInvalid["grade"] = 12
	mixed := []string{
		event(t, "enrol-1", "/xianyang/edu", enrolment(1)), // line 1
		`{"specversion":"1.0","id":"enrol-broken",`,        // line 2: malformed
		event(t, "enrol-2", "/xianyang/edu", enrolment(2)), // line 3
		"", // line 4: blank, skipped
		event(t, "enrol-5", "/xianyang/edu", schemaInvalid),                   // line 5: grade out of range
		event(t, "enrol-6", "/xianyang/civil", enrolment(6)),                  // line 6: another department
		event(t, "enrol-7", "/xianyang/edu", enrolment(7)),                    // line 7
		`{"id":"enrol-8","data":"` + strings.Repeat("x", maxLineBytes) + `"}`, // line 8: too long
		`[1,2,3]`, // line 9: not an object
	}
	valid := []string{
		event(t, "enrol-11", "/xianyang/edu", enrolment(11)),
		event(t, "enrol-12", "/xianyang/edu", enrolment(12)),
	}
	write := func(name string, lines []string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mixedFile, validFile := write("mixed.jsonl", mixed), write("valid.jsonl", valid)

	for _, tt := range []struct {
		name      string
		file      string
		code      int
		summary   string
		verdicts  string   // the hub's verdicts, which publish waits for by default
		badLines  []string // report lines that must be present
		wantFacts int
	}{
		{"mixed", mixedFile, exitRefused, "summary: lines=8 published=3 duplicates=0 invalid=5 failed=0",
			"verdicts: accepted=3 duplicates=0 refused=0",
			[]string{"line 2: -: -: body is not a JSON CloudEvent", "line 5: enrol-5: /data/grade:",
				"line 6: enrol-6: /source: source \"/xianyang/civil\" is not /xianyang/edu", "line 8: -: -: line is longer than",
				"line 9: -: -: body is JSON but not an object"}, 3},
		{"mixed again", mixedFile, exitRefused, "summary: lines=8 published=0 duplicates=3 invalid=5 failed=0",
			"verdicts: accepted=3 duplicates=0 refused=0", nil, 3},
		{"valid", validFile, exitOK, "summary: lines=2 published=2 duplicates=0 invalid=0 failed=0",
			"verdicts: accepted=2 duplicates=0 refused=0", nil, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			report := filepath.Join(dir, tt.name+".report")
			r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", tt.file, "--report", report)
			if got, want := r.code, tt.code; got != want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
			}
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) < 2 {
				t.Fatalf("report has no summary and verdicts:\n%s", b)
			}
			if got, want := strings.Join(lines[len(lines)-2:], "\n"), tt.summary+"\n"+tt.verdicts; got != want {
				t.Errorf("report ends %q, want %q; report:\n%s", got, want, b)
			}
			if got, want := strings.TrimSpace(r.stdout), tt.summary+"\n"+tt.verdicts; got != want {
				t.Errorf("stdout %q, want the summary and verdicts %q", got, want)
			}
			for _, want := range tt.badLines {
				if !strings.Contains(string(b), want) {
					t.Errorf("report does not contain %q:\n%s", want, b)
				}
			}
			for _, l := range lines[:len(lines)-2] {
				for _, good := range []string{"line 1:", "line 3:", "line 4:", "line 7:"} {
					if strings.HasPrefix(l, good) {
						t.Errorf("report names a good line: %s", l)
					}
				}
			}
			facts, rejections := logState(t, ctx, h)
			if got, want := facts, tt.wantFacts; got != want {
				t.Errorf("%d facts in the log, want %d", got, want)
			}
			if got, want := rejections, 0; got != want {
				t.Errorf("%d rejections in the log, want %d", got, want)
			}
		})
	}

	t.Run("json summary, report on stderr", func(t *testing.T) {
		r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", mixedFile, "--json")
		if got, want := r.code, exitRefused; got != want {
			t.Errorf("exit code %d, want %d", got, want)
		}
		var sum fileSummary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
			t.Fatalf("stdout is not a JSON summary: %v\n%s", err, r.stdout)
		}
		if sum.Verdicts == nil || sum.Verdicts.Accepted != 3 || sum.Verdicts.Refused != 0 {
			t.Errorf("JSON summary's verdicts %+v, want 3 accepted and none refused", sum.Verdicts)
		}
		sum.Verdicts = nil
		if got, want := sum, (fileSummary{Lines: 8, Duplicates: 3, Invalid: 5}); got != want {
			t.Errorf("summary %+v, want %+v", got, want)
		}
		if !strings.Contains(r.stderr, "line 5: enrol-5: /data/grade:") || !strings.Contains(r.stderr, "summary: lines=8") {
			t.Errorf("stderr does not hold the report:\n%s", r.stderr)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", filepath.Join(dir, "nope.jsonl"))
		if got, want := r.code, exitRuntime; got != want {
			t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
		}
	})
}

func TestLineReader(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want []string // "!" marks a line too long
	}{
		{"empty", "", nil},
		{"no final newline", "a\nbb", []string{"a", "bb"}},
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}},
		{"blank lines", "\n\na\n", []string{"", "", "a"}},
		{"exactly max", "12345678901234567890\n", []string{"12345678901234567890"}},
		{"exactly max with crlf", "12345678901234567890\r\nx", []string{"12345678901234567890", "x"}},
		{"one byte too long", "123456789012345678901\nok\n", []string{"!", "ok"}},
		{"far too long", strings.Repeat("x", 100) + "\nok\n", []string{"!", "ok"}},
		{"too long at the end", "ok\n" + strings.Repeat("x", 50), []string{"ok", "!"}},
		{"byte order mark", "\xef\xbb\xbfa\n\xef\xbb\xbfb\n", []string{"a", "\xef\xbb\xbfb"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The smallest buffer bufio allows, so that long lines come in pieces.
			lr := &lineReader{r: bufio.NewReaderSize(strings.NewReader(tt.in), 16), max: 20}
			var got []string
			for {
				line, tooLong, err := lr.next()
				if err != nil {
					break
				}
				if tooLong {
					got = append(got, "!")
					continue
				}
				got = append(got, string(line))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got, want := lr.n, len(tt.want); got != want {
				t.Errorf("line count %d, want %d", got, want)
			}
		})
	}
}

// TestPublishSimulatedFile replays a simulated world's JSONL with --dept "*":
// each line is published as the department of its source; the simulator's
// bad events are refused line by line, everything else reaches the log.
func TestPublishSimulatedFile(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	file := filepath.Join(t.TempDir(), "world.jsonl")
	var simOut, stderr syncBuffer
	if code := run(ctx, []string{"simulate", "--persons", "200", "--bad-rate", "0.01", "-o", file}, &simOut, &stderr); code != exitOK {
		t.Fatalf("simulate: exit %d\n%s", code, stderr.String())
	}
	report := filepath.Join(t.TempDir(), "report.txt")
	var stdout syncBuffer
	code := run(ctx, []string{"publish", "--nats-url", h.ClientURL(), "--dept", "*", "--file", file, "--report", report, "--json"}, &stdout, &stderr)
	var sum struct {
		Lines, Published, Invalid, Failed int
	}
	if err := json.Unmarshal([]byte(stdout.String()), &sum); err != nil {
		t.Fatalf("summary %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	if sum.Published == 0 || sum.Invalid == 0 || sum.Failed != 0 || sum.Published+sum.Invalid != sum.Lines {
		t.Fatalf("summary %+v (exit %d)\n%s", sum, code, stderr.String())
	}
	if code != exitRefused {
		t.Errorf("exit %d with invalid lines, want %d", code, exitRefused)
	}
	// Only the simulator's deliberately bad events are refused: a county
	// government's fact with no county field goes on its own county.
	rep, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rep), "on its own county token") {
		t.Errorf("county governments' facts refused for their county token:\n%s", rep)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.View().Stats().Facts; got < uint64(sum.Published) {
		t.Errorf("view folded %d facts, %d were published", got, sum.Published)
	}
}

// TestPublishingWithoutAHub: publish, import and simulate against a NATS
// server where no hub ever ran fail at once, saying so, instead of waiting
// out every fact's retries one by one.
func TestPublishingWithoutAHub(t *testing.T) {
	ctx := testContext(t)
	bare, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Shutdown()
	url := bare.ClientURL()
	t.Setenv("ANZHI_PERSON_KEY", "00112233445566778899aabbccddeeff")
	file := filepath.Join(t.TempDir(), "facts.jsonl")
	if err := os.WriteFile(file, []byte(`{"specversion":"1.0"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"publish", "--nats-url", url, "--dept", "edu", "--family", "edu.enrolment", "--time", "2024-09-01", "--data", `{"person_key":"` + strings.Repeat("ab", 32) + `","household_id":"H610424-000123","action":"enrolled","school_id":"SC610424-001","level":"primary","effective_on":"2024-09-01"}`},
		{"publish", "--nats-url", url, "--dept", "edu", "--file", file},
		{"import", "--nats-url", url, "--dept", "edu", "--family", "edu.enrolment", "--file", filepath.Join(ledgerDir, "edu-学生入学台账.csv")},
		{"simulate", "--nats-url", url, "--persons", "50"},
	} {
		start := time.Now()
		r := runCLI(ctx, args...)
		if r.code != exitRuntime || !strings.Contains(r.stderr, "no anzhi intake") {
			t.Errorf("%s: exit %d, stderr %q; want %d and a word about the missing hub", args[0], r.code, r.stderr, exitRuntime)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %v to fail", args[0], d)
		}
	}
}
