package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// TestPublish runs the example against an embedded hub: four facts stored,
// the bad one refused locally and by the hub for the same two reasons; a
// second run publishes nothing new.
func TestPublish(t *testing.T) {
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	key := []byte("a test key of sixteen bytes or more")

	var out bytes.Buffer
	if err := publish(ctx, nc, key, &out); err != nil {
		t.Fatalf("publish: %v\n%s", err, out.String())
	}
	got := out.String()
	if n := strings.Count(got, "stored    registry."); n != 5 {
		t.Errorf("%d stored receipts, want 5 (four facts and the unchecked one):\n%s", n, got)
	}
	for _, want := range []string{
		"refused before sending: registry.person\n  schema /data/birth_year:",
		"  schema /data/labour_capacity:",
		"refused by the hub (intake 5):\n  schema /data/birth_year:",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "61042419780312003X") {
		t.Errorf("output shows a raw ID-card number:\n%s", got)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if facts, rejected := hubtest.LogCounts(t, nc); facts != 4 || rejected != 1 {
		t.Errorf("log: %d facts and %d rejections, want 4 and 1", facts, rejected)
	}

	// Again: the same ids, so JetStream recognises every fact.
	out.Reset()
	if err := publish(ctx, nc, key, &out); err != nil {
		t.Fatalf("second publish: %v\n%s", err, out.String())
	}
	if got := out.String(); strings.Count(got, "duplicate ") != 5 || !strings.Contains(got, "the hub judged it already") {
		t.Errorf("second run:\n%s", got)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if facts, rejected := hubtest.LogCounts(t, nc); facts != 4 || rejected != 1 {
		t.Errorf("log after the second run: %d facts and %d rejections, want 4 and 1", facts, rejected)
	}
}
