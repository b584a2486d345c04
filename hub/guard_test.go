package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// health reads /healthz.
func health(t *testing.T, h *hub.Hub) (int, string) {
	t.Helper()
	r, err := http.Get("http://" + h.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// waitHealth polls /healthz until ok says it is as wanted.
func waitHealth(t *testing.T, h *hub.Hub, what string, ok func(code int, body string) bool) string {
	t.Helper()
	deadline := time.Now().Add(hubtest.Patience)
	for {
		code, body := health(t, h)
		if ok(code, body) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never %s: last %d %s", what, code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamDrift: the hub notices when its log is tampered with — a
// transform that would forge facts into it, limits that drop its entries —
// and says so in /healthz, /readyz and /metrics until it is put right; at a
// restart it restores the configuration, but entries lost stay reported.
func TestStreamDrift(t *testing.T) {
	dir := t.TempDir()
	cfg := hub.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", TickEvery: -1, GuardEvery: 50 * time.Millisecond}
	h, nc, js := hubtest.Start(t, cfg)
	publishItems(t, nc, scenario.Village(2021))
	waitIdle(t, h)
	if code, body := health(t, h); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz before any tampering: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	logs, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	forged := logs.CachedInfo().Config
	forged.SubjectTransform = &jetstream.SubjectTransformConfig{Source: "x.>", Destination: fact.FactSubjectPrefix + ">"}
	forged.Subjects = append(forged.Subjects, "x.>")
	if _, err := js.UpdateStream(ctx, forged); err != nil {
		t.Fatalf("tampering (open trial mode lets any client): %v", err)
	}
	body := waitHealth(t, h, "reports the transform", func(code int, body string) bool {
		return code == http.StatusServiceUnavailable && strings.Contains(body, "subject transform x.>")
	})
	if !strings.Contains(body, `"drift"`) || !strings.Contains(body, "subjects is") {
		t.Errorf("healthz: %s", body)
	}
	r, err := http.Get("http://" + h.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Ready  bool       `json:"ready"`
		Status hub.Status `json:"status"`
	}
	_ = json.NewDecoder(r.Body).Decode(&ready)
	r.Body.Close()
	if r.StatusCode != http.StatusServiceUnavailable || ready.Ready || len(ready.Status.Drift) == 0 {
		t.Errorf("readyz with drift: %d %+v", r.StatusCode, ready)
	}
	r, err = http.Get("http://" + h.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if strings.Contains(string(m), "anzhi_stream_drift 0") || !strings.Contains(string(m), "anzhi_stream_drift ") {
		t.Errorf("metrics do not count the drift")
	}

	// Limits that drop entries: the configuration comes back at a restart,
	// the entries do not, and that stays reported.
	forged = logs.CachedInfo().Config
	forged.MaxMsgs = 2
	if _, err := js.UpdateStream(ctx, forged); err != nil {
		t.Fatalf("tampering: %v", err)
	}
	waitHealth(t, h, "reports the lost entries", func(code int, body string) bool {
		return code == http.StatusServiceUnavailable && strings.Contains(body, "are gone")
	})
	h.Close()
	h, _, _ = hubtest.Start(t, cfg)
	body = waitHealth(t, h, "reports the lost entries after a restart", func(code int, body string) bool {
		return code == http.StatusServiceUnavailable && strings.Contains(body, "are gone")
	})
	if strings.Contains(body, "transform") || strings.Contains(body, "max messages") {
		t.Errorf("after a restart the configuration should be restored, the loss still shown: %s", body)
	}
}

// TestEveryOwnedStreamGuarded: tampering with any stream the hub owns — the
// open intake, the view bucket the lead office reads — turns /healthz not
// ok, naming the stream.
func TestEveryOwnedStreamGuarded(t *testing.T) {
	for _, tc := range []struct {
		stream string
		tamper func(c *jetstream.StreamConfig)
		shows  string
	}{
		{fact.IntakeStream, func(c *jetstream.StreamConfig) { c.MaxMsgs = 1 }, "max messages is 1"},
		{fact.ViewStream, func(c *jetstream.StreamConfig) {
			c.RePublish = &jetstream.RePublish{Source: ">", Destination: "leak.>"}
		}, "republishes"},
		{fact.ViewStream, func(c *jetstream.StreamConfig) {
			c.SubjectTransform = &jetstream.SubjectTransformConfig{Source: "x.>", Destination: "$KV." + fact.ViewBucket + ".>"}
			c.Subjects = append(c.Subjects, "x.>")
		}, "subject transform"},
	} {
		t.Run(tc.stream+" "+tc.shows, func(t *testing.T) {
			h, _, js := hubtest.Start(t, hub.Config{HTTPAddr: "127.0.0.1:0", TickEvery: -1, GuardEvery: 50 * time.Millisecond})
			waitHealth(t, h, "ok", func(code int, body string) bool { return code == http.StatusOK })
			ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
			defer cancel()
			s, err := js.Stream(ctx, tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			c := s.CachedInfo().Config
			tc.tamper(&c)
			if _, err := js.UpdateStream(ctx, c); err != nil {
				t.Fatalf("tampering (open trial mode lets any client): %v", err)
			}
			waitHealth(t, h, "reports it", func(code int, body string) bool {
				return code == http.StatusServiceUnavailable && strings.Contains(body, tc.stream) && strings.Contains(body, tc.shows)
			})
		})
	}
}

// TestLostLogRefused: a hub whose log was deleted, while snapshots of a
// view folded from it remain, refuses to start rather than recreate it empty.
func TestLostLogRefused(t *testing.T) {
	dir := t.TempDir()
	h, nc, js := ingestHub(t, dir, nil)
	publishItems(t, nc, scenario.Village(2021))
	waitIdle(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if _, err := h.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctx, fact.LogStream); err != nil {
		t.Fatalf("deleting the log (open trial mode lets any client): %v", err)
	}
	h.Close()
	_, err := hub.Start(ctx, hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", TickEvery: -1})
	if !errors.Is(err, hub.ErrLostLog) {
		t.Fatalf("start after the log was deleted: %v, want ErrLostLog", err)
	}
}
