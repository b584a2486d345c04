package main

import (
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
	"github.com/xianyang/anzhi/schemas"
)

// lastFactSeq returns the log sequence of the last accepted edu.enrolment
// fact in 610424.
func lastFactSeq(t *testing.T, h *hub.Hub) uint64 {
	t.Helper()
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, fact.FactSubjectPrefix+"edu.enrolment.610424")
	if err != nil {
		t.Fatal(err)
	}
	return m.Sequence
}

// TestPublishWait: publish waits for the hub's verdict — accepted at the
// fact's log sequence, refused (unchecked bad data, an id reused for other
// data) with every reason and exit 3, a republished fact accepted at the
// original's sequence.
func TestPublishWait(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	good, _ := json.Marshal(enrolment(1))
	badData := enrolment(2)
	badData["level"] = "university"
	bad, _ := json.Marshal(badData)
	otherData := enrolment(1)
	otherData["school_id"] = "QX-OTHER"
	other, _ := json.Marshal(otherData)
	base := []string{"publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01"}

	r := runCLI(ctx, append(base, "--id", "enrol-1", "--data", string(good))...)
	at := lastFactSeq(t, h)
	if want := fmt.Sprintf("accepted: enrol-1 at log seq %d\n", at); r.code != exitOK || !strings.Contains(r.stdout, want) {
		t.Fatalf("accepted: exit %d, stdout %q, want %q; stderr %s", r.code, r.stdout, want, r.stderr)
	}
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
	}{
		{"again", []string{"--id", "enrol-1", "--data", string(good)}, exitOK,
			[]string{"duplicate enrol-1", fmt.Sprintf("accepted: enrol-1 at log seq %d\n", at)}},
		{"no-check, schema", []string{"--id", "enrol-2", "--no-check", "--data", string(bad)}, exitRefused,
			[]string{"published enrol-2", "refused: enrol-2\n", "  schema /data/level: value must be one of"}},
		{"id conflict", []string{"--id", "enrol-1", "--data", string(other)}, exitRefused,
			[]string{"refused: enrol-1\n", "  id_conflict /id: id \"enrol-1\" from /xianyang/edu was already used for a different fact"}},
		{"no wait", []string{"--id", "enrol-3", "--data", string(good), "--wait=false"}, exitOK,
			[]string{"published enrol-3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, append(base, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, r.stdout)
				}
			}
			if tt.name == "no wait" && strings.Contains(r.stdout, "accepted:") {
				t.Errorf("--wait=false waited:\n%s", r.stdout)
			}
			if tt.code == exitRefused && !strings.Contains(r.stderr, "anzhi rejections") {
				t.Errorf("stderr does not point to the ledger:\n%s", r.stderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := runCLI(ctx, append(base, "--id", "enrol-2", "--no-check", "--data", string(bad), "--json")...)
		var got receiptJSON
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != exitRefused {
			t.Fatalf("exit %d, stdout %q: %v", r.code, r.stdout, err)
		}
		if v := got.Verdict; v == nil || v.Status != fact.VerdictRefused || v.Accepted || len(v.Reasons) != 1 || v.Reasons[0].Reason != schemas.ReasonSchema {
			t.Fatalf("verdict %+v", got.Verdict)
		}
	})

	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		lines := []string{
			event(t, "enrol-11", "/xianyang/edu", enrolment(11)),
			event(t, "enrol-1", "/xianyang/edu", otherData), // the id of another fact
			event(t, "enrol-12", "/xianyang/edu", enrolment(12)),
		}
		file := filepath.Join(dir, "f.jsonl")
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// The verdicts are awaited by default for a file too.
		r := runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", file)
		if r.code != exitRefused {
			t.Errorf("exit %d, want %d; stderr:\n%s", r.code, exitRefused, r.stderr)
		}
		for _, want := range []string{"summary: lines=3 published=3", "verdicts: accepted=2 duplicates=0 refused=1\n",
			"refused: line 2: enrol-1\n  id_conflict /id:"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("report does not contain %q:\n%s", want, r.stderr)
			}
		}
		// Again: every line already judged, the same verdicts.
		r = runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", file, "--wait", "--json")
		var sum fileSummary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Verdicts == nil {
			t.Fatalf("stdout %q: %v", r.stdout, err)
		}
		if v := sum.Verdicts; v.Accepted != 2 || v.Refused != 1 || len(v.RefusedIn) != 1 || v.RefusedIn[0].Line != 2 || r.code != exitRefused {
			t.Errorf("again: exit %d, verdicts %+v", r.code, v)
		}
		// --wait=false stops at the intake's receipts: every line was stored, exit 0.
		r = runCLI(ctx, "publish", "--nats-url", h.ClientURL(), "--dept", "edu", "--file", file, "--wait=false")
		if r.code != exitOK || strings.Contains(r.stderr, "verdicts:") || !strings.Contains(r.stderr, "summary: lines=3") {
			t.Errorf("--wait=false: exit %d, want %d and no verdicts; stderr:\n%s", r.code, exitOK, r.stderr)
		}
	})
}

// TestPublishWaitTimeout: with no hub judging the intake, publish says so
// once --wait-timeout has passed, and fails.
func TestPublishWaitTimeout(t *testing.T) {
	ctx := testContext(t)
	bare, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Shutdown()
	nc, err := nats.Connect(bare.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := hub.EnsureStreams(ctx, js, cat, hub.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(enrolment(1))
	start := time.Now()
	r := runCLI(ctx, "publish", "--nats-url", bare.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01",
		"--data", string(good), "--wait-timeout", "1s")
	if r.code != exitRuntime || !strings.Contains(r.stderr, "gave no verdict within 1s") {
		t.Errorf("exit %d, stderr %q; want %d and a word about the missing verdict", r.code, r.stderr, exitRuntime)
	}
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("took %v to give up", d)
	}
	if r := runCLI(ctx, "publish", "--nats-url", bare.ClientURL(), "--dept", "edu", "--family", "edu.enrolment", "--time", "2020-09-01",
		"--data", string(good), "--wait-timeout", "0s"); r.code != exitUsage {
		t.Errorf("--wait-timeout 0s: exit %d, want %d", r.code, exitUsage)
	}
}
