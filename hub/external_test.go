package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// TestExternalNATS runs the hub against a NATS server it does not own, as
// with --nats-url in production: facts published while the hub is down wait
// in the intake and are judged when it comes back, and closing the hub
// leaves the server and its streams alone.
func TestExternalNATS(t *testing.T) {
	ext, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ext.Shutdown)
	ctx := context.Background()
	start := func() *hub.Hub {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, hubtest.Patience)
		defer cancel()
		h, err := hub.Start(sctx, hub.Config{NATSURL: ext.ClientURL(), TickEvery: -1, PurgeEvery: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	nc, err := nats.Connect(ext.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := p.Publish(ctx, enrolmentFact(personKey(i))); err != nil {
				t.Fatalf("fact %d: %v", i, err)
			}
		}
	}

	h := start()
	publish(0, 20)
	waitIdle(t, h)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := logged(t, js, fact.FactSubjectPrefix+">"); len(got) != 20 {
		t.Fatalf("%d facts in the log, want 20", len(got))
	}

	// The hub is down; the server is not: departments go on publishing.
	publish(20, 50)
	if !nc.IsConnected() {
		t.Fatal("closing the hub closed the external server's connections")
	}
	if got := logged(t, js, fact.FactSubjectPrefix+">"); len(got) != 20 {
		t.Fatalf("%d facts in the log while the hub was down, want 20", len(got))
	}

	h = start()
	defer h.Close()
	waitIdle(t, h)
	got := logged(t, js, fact.FactSubjectPrefix+">")
	if len(got) != 50 {
		t.Fatalf("%d facts in the log after the hub came back, want 50", len(got))
	}
	keys := map[string]bool{}
	for _, m := range got {
		keys[m.Header.Get(fact.HeaderKey)] = true
	}
	if len(keys) != 50 {
		t.Errorf("%d distinct facts in the log, want 50", len(keys))
	}
	st, err := h.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LogLast != 50 {
		t.Errorf("status: %+v, want 50 log entries", st)
	}
}
