package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// publishRaw publishes a body on a subject with plain JetStream, as a
// department system that does not use package publishers would.
func publishRaw(t *testing.T, ctx context.Context, h *hub.Hub, subject, body string) {
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
	if _, err := js.Publish(ctx, subject, []byte(body)); err != nil {
		t.Fatalf("publish on %s: %v", subject, err)
	}
}

// unknownType is a structured CloudEvent of a type the catalog lacks.
const unknownType = `{"specversion":"1.0","id":"bad-1","source":"/xianyang/edu","type":"anzhi.edu.graduation.v1",` +
	`"subject":"s","time":"2020-09-01T00:00:00Z","datacontenttype":"application/json","data":{}}`

func TestRejections(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	publishRaw(t, ctx, h, "edu.enrolment.610424", unknownType)
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	url := h.ClientURL()

	for _, tt := range []struct {
		name string
		args []string
		want []string // in stdout; "no rejections": all of stdout
	}{
		{"all", nil, []string{"rejection 1 ", "department  edu", "subject     edu.enrolment.610424", "id          bad-1",
			`unknown_type /type: type "anzhi.edu.graduation.v1" is not in the catalog`}},
		{"dept edu", []string{"--dept", "edu"}, []string{"bad-1"}},
		{"dept civil", []string{"--dept", "civil"}, []string{"no rejections"}},
		{"after it", []string{"--after", "1"}, []string{"no rejections"}},
		{"since long ago", []string{"--since", "2000-01-01T00:00:00Z"}, []string{"bad-1"}},
		{"since a date long ago", []string{"--since", "2000-01-01"}, []string{"bad-1"}},
		{"since a date to come", []string{"--since", "2999-01-01"}, []string{"no rejections"}},
		{"since a time to come", []string{"--since", "2999-01-01T00:00:00+08:00"}, []string{"no rejections"}},
		// tomorrow in China time, as --since reads a plain date (a UTC date is already today there after 16:00 UTC)
		{"since tomorrow", []string{"--since", time.Now().In(view.ChinaTime()).AddDate(0, 0, 1).Format(time.DateOnly)}, []string{"no rejections"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, append([]string{"rejections", "--nats-url", url}, tt.args...)...)
			if got, want := r.code, exitOK; got != want {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
			}
			if slices.Contains(tt.want, "no rejections") && r.stdout != "no rejections\n" {
				t.Errorf("stdout is not just \"no rejections\":\n%s", r.stdout)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, r.stdout)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := runCLI(ctx, "rejections", "--nats-url", url, "--json")
		if got, want := r.code, exitOK; got != want {
			t.Fatalf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if got, want := len(lines), 1; got != want {
			t.Fatalf("%d lines, want %d:\n%s", got, want, r.stdout)
		}
		var rej subscribers.LoggedRejection
		if err := json.Unmarshal([]byte(lines[0]), &rej); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if got, want := rej.ID, "bad-1"; got != want {
			t.Errorf("id %q, want %q", got, want)
		}
		if got, want := rej.Seq, uint64(1); got != want {
			t.Errorf("seq %d, want %d", got, want)
		}
		if len(rej.Violations) == 0 || rej.Violations[0].Reason != schemas.ReasonUnknownType {
			t.Errorf("violations %+v, want %s first", rej.Violations, schemas.ReasonUnknownType)
		}
	})

	t.Run("limit pages", func(t *testing.T) {
		publishRaw(t, ctx, h, "edu.enrolment.610424", strings.Replace(unknownType, "bad-1", "bad-2", 1))
		if err := h.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		r := runCLI(ctx, "rejections", "--nats-url", url, "--limit", "1")
		if !strings.Contains(r.stdout, "bad-1") || strings.Contains(r.stdout, "bad-2") {
			t.Errorf("--limit 1 did not show exactly the first:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "--after 1") {
			t.Errorf("stderr does not say how to page on:\n%s", r.stderr)
		}
	})
}

func TestRejectionsFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	h := startHub(t)
	// Three already in the ledger: all are shown, whatever --limit says
	// (once only the first page was, and the rest never).
	for _, id := range []string{"old-1", "old-2", "old-3"} {
		publishRaw(t, ctx, h, "edu.enrolment.610424", strings.Replace(unknownType, "bad-1", id, 1))
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"rejections", "--nats-url", h.ClientURL(), "--dept", "edu", "--follow", "--json", "--limit", "1"}, &stdout, &stderr)
	}()
	waitFor(t, ctx, "the ledger so far", func() bool { return strings.Contains(stdout.String(), `"id":"old-3"`) })
	publishRaw(t, ctx, h, "edu.enrolment.610424", unknownType)
	publishRaw(t, ctx, h, "civil.assistance.610424", strings.Replace(unknownType, "/xianyang/edu", "/xianyang/civil", 1))
	waitFor(t, ctx, "the new one", func() bool { return strings.Contains(stdout.String(), `"id":"bad-1"`) })
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if got, want := <-done, exitOK; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if got, want := len(lines), 4; got != want {
		t.Fatalf("%d rejections, want %d (only edu's):\n%s", got, want, stdout.String())
	}
	var last uint64
	for _, line := range lines {
		var rej subscribers.LoggedRejection
		if err := json.Unmarshal([]byte(line), &rej); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if got, want := rej.Department, "edu"; got != want {
			t.Errorf("department %q, want %q", got, want)
		}
		if rej.Seq <= last {
			t.Errorf("log sequence %d after %d: out of order or missing", rej.Seq, last)
		}
		last = rej.Seq
	}
}

func TestRejectionsNoHub(t *testing.T) {
	r := runCLI(testContext(t), "rejections", "--nats-url", "nats://127.0.0.1:1")
	if got, want := r.code, exitRuntime; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
	}
}
