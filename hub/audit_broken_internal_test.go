package hub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/audit"
)

// TestAuditTreeStopsForGood: once an entry comes out of order the tree
// stops — it keeps nothing more in memory, and the hub signs no checkpoint
// (a tree that disagrees with the log must never be signed).
func TestAuditTreeStopsForGood(t *testing.T) {
	a := &auditTrail{tree: audit.NewTree(), ready: true, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	msg := &nats.Msg{Subject: "anzhi.fact.edu.enrolment.610424", Data: []byte(`{}`)}
	a.stored(1, msg)
	a.stored(3, msg) // 2 is missing
	if err := a.failure(); !errors.Is(err, errAuditNotReady) {
		t.Fatalf("after an entry out of order: failure %v, want the tree stopped", err)
	}
	for seq := uint64(4); seq < 100; seq++ {
		a.stored(seq, msg)
	}
	if a.tree.Size() != 1 || len(a.pending) != 0 {
		t.Errorf("a stopped tree grew: size %d, %d pending", a.tree.Size(), len(a.pending))
	}
	if _, err := a.checkpoint(context.Background()); !errors.Is(err, errAuditNotReady) {
		t.Errorf("a stopped tree was signed: %v", err)
	}
	// While rebuilding, a failed rebuild stops it too: nothing piles up.
	b := &auditTrail{log: a.log}
	b.stored(1, msg)
	b.mu.Lock()
	b.stop(errors.New("the log lacks entries 1 to 5"))
	b.mu.Unlock()
	b.stored(2, msg)
	if len(b.pending) != 0 {
		t.Errorf("%d leaf hashes pile up after a failed rebuild", len(b.pending))
	}
}
