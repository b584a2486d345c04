package hub

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// TestResubmitKeepsOrder: the hub's own events appended but not stored when
// an append fails (the log's storage full for a moment) are written again in
// the order they were submitted — once they came back reversed, which put a
// warning's resolution before its raising.
func TestResubmitKeepsOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	h, _, js := startInternal(t, Config{})
	t0 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	ls, _ := js.Stream(ctx, fact.LogStream)
	cfg := ls.CachedInfo().Config
	// The log's storage is full for a moment (quota, disk): appends fail.
	full := cfg
	full.MaxMsgs, full.Discard = 1, jetstream.DiscardNew
	if _, err := js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 1; i <= 3; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		m, _ := h.gate.tickMsg(at)
		h.gate.submit.push(submission{msg: m})
		want = append(want, "tick-"+at.Format(time.RFC3339))
	}
	time.Sleep(500 * time.Millisecond) // three failed rounds (backoff 100ms, 200ms, 400ms)
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ := ls.Info(ctx)
	var got []string
	for seq := uint64(2); seq <= info.State.LastSeq; seq++ {
		m, err := ls.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(m.Data, &ev)
		got = append(got, ev.ID)
	}
	if len(got) != len(want) {
		t.Fatalf("log holds %v after the ticks %v", got, want)
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("ticks in the log %v, submitted in order %v", got, want)
		}
	}
}
