package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/publishers"
)

// TestMain lets the test binary run as a child hub process for the crash
// test: with ANZHI_CHILD_HUB set to a data directory, it runs a hub there
// until killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ANZHI_CHILD_HUB"); dir != "" {
		runChildHub(dir, os.Getenv("ANZHI_CHILD_LISTEN"), os.Getenv("ANZHI_CHILD_READY"))
		return
	}
	os.Exit(m.Run())
}

func runChildHub(dir, listen, ready string) {
	every, _ := strconv.Atoi(os.Getenv("ANZHI_CHILD_SNAPSHOT_EVERY"))
	purge, _ := time.ParseDuration(os.Getenv("ANZHI_CHILD_PURGE_EVERY"))
	cfg := hub.Config{DataDir: dir, NATSListen: listen, TickEvery: 200 * time.Millisecond,
		SnapshotEvery: every, PurgeEvery: purge, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if ids := os.Getenv("ANZHI_CHILD_IDENTITIES"); ids != "" {
		set, err := identities.Load(ids)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child hub:", err)
			os.Exit(1)
		}
		cfg.Identities = set
	}
	h, err := hub.Start(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child hub:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(ready, []byte(h.ClientURL()), 0o600); err != nil {
		os.Exit(1)
	}
	select {} // until killed
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startChild starts the test binary as a hub process on dir; extra
// environment (ANZHI_CHILD_PURGE_EVERY=1h, say) tunes it.
func startChild(t *testing.T, dir, listen string, snapshotEvery int, env ...string) *exec.Cmd {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ANZHI_CHILD_HUB="+dir, "ANZHI_CHILD_LISTEN="+listen, "ANZHI_CHILD_READY="+ready,
		"ANZHI_CHILD_SNAPSHOT_EVERY="+strconv.Itoa(snapshotEvery))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("child hub not ready in 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKillDuringIngest kills a hub process with SIGKILL while departments
// publish, at several moments, restarts it on the same directory, and checks
// that every fact JetStream acknowledged to a publisher reached the view and
// that the view's digest equals a clean rebuild's.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	dir := t.TempDir()
	listen := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var mu sync.Mutex
	acked := map[uint64]bool{} // fact keys acknowledged by the intake
	next := 0
	const rounds, perRound = 3, 3000
	for round := 0; round < rounds; round++ {
		child := startChild(t, dir, listen, 2000) // snapshots every 2000 entries: kills land before, during and after them
		nc, err := nats.Connect("nats://"+listen, nats.MaxReconnects(0))
		if err != nil {
			t.Fatal(err)
		}
		// Kill the hub once this many of the round's facts are acknowledged:
		// it is then judging, appending, folding and checkpointing.
		killAt := perRound/3 + round*perRound/4
		var roundAcked int
		b := killingBatch(ctx, t, nc, child, killAt, &mu, acked, &roundAcked)
		start := time.Now()
		for i := 0; i < perRound; i++ {
			if _, err := b.Add(trainingFact(next)); err != nil {
				break
			}
			next++
		}
		_ = child.Process.Signal(syscall.SIGKILL) // in case the loop ended early
		_, _ = b.Wait()                           // publishes after the kill fail: they were never acknowledged
		nc.Close()
		_ = child.Wait()
		t.Logf("round %d: %d added, killed after %d acknowledged (%d in all), took %v", round, perRound, killAt, roundAcked, time.Since(start).Round(time.Millisecond))
	}
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n == 0 {
		t.Fatal("nothing was acknowledged")
	}
	// Restart on the same directory (snapshot + tail), then rebuild from
	// scratch: same view, and every acknowledged fact is in it.
	digest := func(rebuild bool) string {
		h, _, _ := ingestHub(t, dir, func(c *hub.Config) { c.Rebuild = rebuild; c.SnapshotEvery = -1 })
		defer h.Close()
		waitIdle(t, h)
		missing := 0
		mu.Lock()
		for k := range acked {
			seq, _, ok := h.ResolveFact(k)
			if !ok || seq > h.View().Seq() {
				missing++
			}
		}
		mu.Unlock()
		if missing > 0 {
			t.Errorf("%d of %d acknowledged facts are not in the view (rebuild=%v)", missing, n, rebuild)
		}
		return h.View().Digest()
	}
	restarted, rebuilt := digest(false), digest(true)
	if restarted != rebuilt {
		t.Fatalf("restart after SIGKILL gives %s, a clean rebuild %s", restarted, rebuilt)
	}
	t.Logf("%d facts acknowledged across %d kills, all in the view", n, rounds)
}

// killingBatch is a batch of hrss's facts on nc: the keys of those
// acknowledged go into acked and are counted in n (both under mu), and the
// child hub is killed once killAt of them are.
func killingBatch(ctx context.Context, t *testing.T, nc *nats.Conn, child *exec.Cmd, killAt int,
	mu *sync.Mutex, acked map[uint64]bool, n *int) *publishers.Batch {
	t.Helper()
	p, err := publishers.New(nc, "hrss", publishers.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewBatch(ctx, publishers.BatchOptions{MaxPending: 256, OnResult: func(r publishers.BatchResult) {
		if r.Err == nil {
			mu.Lock()
			acked[fact.Key("/xianyang/hrss", r.Receipt.ID)] = true
			if *n++; *n == killAt {
				_ = child.Process.Signal(syscall.SIGKILL)
			}
			mu.Unlock()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trainingFact(i int) publishers.Fact {
	pk := fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15+3)
	return publishers.Fact{Family: "hr.training", ID: "crash-" + strconv.Itoa(i), Time: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC),
		Data: json.RawMessage(fmt.Sprintf(`{"person_key":%q,"household_id":"H610424-%07d","course":"技能","kind":"skills","completed_on":"2021-03-01","passed":true}`, pk, 1000000+i/3))}
}
