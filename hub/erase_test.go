package hub_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// publishIDBearing floods the intake with n refused messages that each carry
// a raw ID-card number, and waits until JetStream has acknowledged them all.
func publishIDBearing(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	for i := range n {
		m := ioBinary(t, fmt.Sprintf("id-%d", i), "/xianyang/edu", nil)
		m.Header.Set("ce-holder", idNumber)
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("publishes not acknowledged in a minute")
	}
}

// waitLog waits until the log holds at least n entries.
func waitLog(ctx context.Context, t *testing.T, js jetstream.JetStream, n uint64) {
	t.Helper()
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := s.Info(ctx)
		if err == nil && info.State.LastSeq >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("log never reached %d entries", n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// clearInIntake returns how many intake messages still hold the number.
func clearInIntake(ctx context.Context, t *testing.T, js jetstream.JetStream) int {
	t.Helper()
	s, err := js.Stream(ctx, fact.IntakeStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if strings.Contains(fmt.Sprint(m.Header), idNumber) || strings.Contains(string(m.Data), idNumber) {
			n++
		}
	}
	return n
}

// TestCloseWhileErasing: closing the hub while it erases a burst of
// ID-bearing messages returns (it once hung when the erase queue was full)
// and leaves none of them in clear.
func TestCloseWhileErasing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h, err := hub.Start(ctx, hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", TickEvery: -1, PurgeEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	const n = 3000
	publishIDBearing(t, js, n)
	waitLog(ctx, t, js, 500)
	nc.Close()
	done := make(chan struct{})
	go func() {
		h.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(45 * time.Second):
		t.Fatal("Close did not return in 45s while erasing")
	}
	h, nc, js = restartHub(t, dir)
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	waitLog(ctx, t, js, n)
	h.Close() // every erase queued is done before Close returns
	h, _, js = restartHub(t, dir)
	if c := clearInIntake(ctx, t, js); c > 0 {
		t.Errorf("%d intake messages still hold the number in clear after the hub judged them", c)
	}
	_ = nc
}

// restartHub starts a hub on dir with purging held off, so that only secure
// erasure can remove the ID-bearing messages.
func restartHub(t *testing.T, dir string) (*hub.Hub, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	return hubtest.Start(t, hub.Config{DataDir: dir, TickEvery: -1, PurgeEvery: time.Hour})
}

// TestKillWhileErasing: a hub process killed while it erases ID-bearing
// messages loses its in-memory erase queue; the next start finds the judged
// messages still carrying numbers and erases them before anything is purged.
func TestKillWhileErasing(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	dir := t.TempDir()
	listen := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const n = 2000
	child := startChild(t, dir, listen, -1, "ANZHI_CHILD_PURGE_EVERY=1h")
	nc, err := nats.Connect("nats://"+listen, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	publishIDBearing(t, js, n)
	waitLog(ctx, t, js, 300)
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	child = startChild(t, dir, listen, -1, "ANZHI_CHILD_PURGE_EVERY=1h")
	defer func() {
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
	}()
	for {
		if _, rejected := hubtest.LogCounts(t, nc); rejected >= n {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the restarted hub did not judge every message")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Erasing is one request per message: wait while it makes progress.
	last, stalled := -1, time.Now()
	for {
		c := clearInIntake(ctx, t, js)
		if c == 0 {
			return
		}
		if c != last {
			last, stalled = c, time.Now()
		}
		if time.Since(stalled) > 15*time.Second {
			t.Fatalf("%d judged intake messages still hold the number in clear after a restart, none erased for 15s", c)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
