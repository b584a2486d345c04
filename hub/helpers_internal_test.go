package hub

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// patience bounds the waits of the package's own tests, as
// hubtest.Patience does for the others: generous, so a loaded machine under
// the race detector does not fail them.
const patience = 5 * time.Minute

// startInternal starts a hub for the package's own tests (which cannot use
// internal/hubtest: it imports this package) with its data in a temporary
// directory, a random port, no automatic ticks or snapshots unless cfg says
// otherwise, and a client; all stop when the test ends.
func startInternal(t *testing.T, cfg Config) (*Hub, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.NATSListen == "" {
		cfg.NATSListen = "127.0.0.1:0"
	}
	if cfg.TickEvery == 0 {
		cfg.TickEvery = -1
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = -1
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	h, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return h, nc, js
}
