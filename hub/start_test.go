package hub_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// TestStartRefusesClearly: a hub that cannot start says why, at once, and
// leaves nothing running (it once panicked on every such error, hiding it).
func TestStartRefusesClearly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	inUse := t.TempDir()
	other, _, _ := hubtest.Start(t, hub.Config{DataDir: inUse, TickEvery: -1})
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  hub.Config
		want string
	}{
		{"HTTP port in use", hub.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", HTTPAddr: busy.Addr().String()}, busy.Addr().String()},
		{"NATS port in use", hub.Config{DataDir: t.TempDir(), NATSListen: busy.Addr().String()}, "cannot listen on " + busy.Addr().String()},
		{"data directory of a running hub", hub.Config{DataDir: inUse, NATSListen: "127.0.0.1:0"}, "is in use by process"},
		{"data directory is a file", hub.Config{DataDir: file, NATSListen: "127.0.0.1:0"}, "not a directory"},
		{"NATS URL with no server", hub.Config{NATSURL: "nats://" + busy.Addr().String()}, "connect to NATS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.TickEvery = -1
			ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
			defer cancel()
			start := time.Now()
			h, err := hub.Start(ctx, tt.cfg)
			if err == nil {
				h.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			// Refused at once, not after the embedded server's 30 s wait to
			// be ready or a connection's retries; the bound leaves a loaded
			// machine all the time a prompt refusal can need.
			if d := time.Since(start); d > 25*time.Second {
				t.Errorf("took %v to refuse", d)
			}
		})
	}
	// The running hub on inUse is unharmed and its directory is free again
	// once it stops.
	if _, err := other.Status(context.Background()); err != nil {
		t.Fatalf("the running hub: %v", err)
	}
	other.Close()
	h, err := hub.Start(context.Background(), hub.Config{DataDir: inUse, NATSListen: "127.0.0.1:0", TickEvery: -1})
	if err != nil {
		t.Fatalf("restart on the freed directory: %v", err)
	}
	h.Close()
}
