package hub

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/scenario"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDamagedMarkRewritesTheBucket: a "materialized" mark the hub cannot read
// (clients may not write the bucket, so only damage puts one there) does not
// stop the hub from starting: it says so and writes the whole view again.
func TestDamagedMarkRewritesTheBucket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	dir := t.TempDir()
	h, nc, _ := startInternal(t, Config{DataDir: dir})
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitMaterialized(ctx); err != nil {
		t.Fatal(err)
	}
	last := h.view.Seq()
	if _, err := h.mat.kv.Put(ctx, fact.MaterializedKey, []byte(`{"log_seq":"many"}`)); err != nil {
		t.Fatal(err)
	}
	h.Close()

	logs := &lockedBuffer{}
	h, _, _ = startInternal(t, Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err := h.WaitMaterialized(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for !strings.Contains(logs.String(), "view bucket caught up with the log") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "view bucket mark unreadable") || !strings.Contains(out, "from=1 to=") {
		t.Errorf("a damaged mark did not lead to a logged full rewrite (log at %d):\n%s", last, out)
	}
}
