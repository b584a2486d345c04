package hub_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
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

// TestEmbeddedServerHasNoPasswords: the embedded server's users are nkeys,
// so it never warns about plaintext passwords on start, and the hub still
// connects as itself (it judges a fact into the log).
func TestEmbeddedServerHasNoPasswords(t *testing.T) {
	var logs syncBuffer
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, enrolmentFact(testPersonKey)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	if st, err := h.Status(ctx); err != nil || st.LogLast == 0 {
		t.Fatalf("the hub wrote nothing to its log: %+v, %v", st, err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "nats-server") {
		t.Fatalf("the server's log was not captured:\n%s", out)
	}
	if strings.Contains(out, "Plaintext passwords") {
		t.Errorf("the embedded server warned of plaintext passwords:\n%s", out)
	}
}
