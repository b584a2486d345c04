package hub

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
)

// TestCatchUpWithUnacknowledgedEntries: an entry the log stored whose
// acknowledgement the gate never got (a timeout, a dropped connection) is
// still folded into the view and indexed once the gate resumes from the
// log — before, the view missed it for good.
func TestCatchUpWithUnacknowledgedEntries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var lost atomic.Int32
	h, nc, _ := startInternal(t, Config{loseAck: func(seq uint64) bool { return seq == 2 && lost.Add(1) == 1 }})
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	var keys []uint64
	for i := 1; i <= 3; i++ {
		f := publishers.Fact{Family: "edu.enrolment", ID: fmt.Sprintf("catchup-%d", i), Time: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
			Data: map[string]any{"person_key": fmt.Sprintf("%064x", i), "household_id": "H610424-000123", "action": "enrolled",
				"school_id": "SC610424-001", "level": "primary", "effective_on": "2024-09-01"}}
		if _, err := p.Publish(ctx, f); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fact.Key("/xianyang/edu", f.ID))
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if lost.Load() == 0 {
		t.Fatal("no acknowledgement was lost: the test did not test")
	}
	if got := h.view.Stats().Facts; got != 3 {
		t.Errorf("the view folded %d facts, want 3", got)
	}
	for i, k := range keys {
		if seq, _, ok := h.gate.keys.resolve(k); !ok || seq != uint64(i+1) {
			t.Errorf("key index: fact %d at %d (%v), want %d", i+1, seq, ok, i+1)
		}
	}
	st, err := h.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LogLast != 3 || st.Folded != 3 {
		t.Errorf("status %+v, want 3 entries logged and folded", st)
	}
}
