package hub_test

import (
	"context"
	"fmt"
	"strconv"
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
	case <-time.After(hubtest.Patience):
		t.Fatal("publishes not acknowledged")
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

// judgedInClear opens the data directory of a stopped hub with a bare
// embedded server and counts the intake messages the hub had judged (up to
// the intake sequence the log's last entry records) that still hold the
// number in clear, and those not yet judged.
func judgedInClear(t *testing.T, dir string) (judged, unjudged int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	nc, err := nats.Connect(e.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	logs, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	last, err := logs.GetLastMsgForSubject(ctx, ">")
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := strconv.ParseUint(last.Header.Get(fact.HeaderIntakeSeq), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, fact.IntakeStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if strings.Contains(fmt.Sprint(m.Header), idNumber) || strings.Contains(string(m.Data), idNumber) {
			if seq <= recorded {
				judged++
			} else {
				unjudged++
			}
		}
	}
	return judged, unjudged
}

// TestCloseWhileErasing: closing the hub while it erases a burst of
// ID-bearing messages returns (it once hung when the erase queue was full)
// having erased every message it judged, however loaded the machine; the
// hub keeps erasing up with judging (it is idle only once all are erased);
// and a start erases before it returns, so no clear number survives either.
func TestCloseWhileErasing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
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
	if st, err := h.Status(ctx); err != nil {
		t.Fatal(err)
	} else if st.Unerased > 256+4096 {
		t.Errorf("%d judged messages wait for their erase: erasing falls behind judging without bound", st.Unerased)
	}
	nc.Close()
	done := make(chan struct{})
	go func() {
		h.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close did not return while erasing")
	}
	judged, unjudged := judgedInClear(t, dir)
	if judged > 0 {
		t.Errorf("after Close, %d intake messages the hub had judged still hold the number in clear", judged)
	}
	t.Logf("at Close, %d messages were not yet judged", unjudged)

	h, _, js = restartHub(t, dir)
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	waitLog(ctx, t, js, n)
	if c := clearInIntake(ctx, t, js); c > 0 {
		t.Errorf("the hub is idle, yet %d intake messages still hold the number in clear", c)
	}
	h.Close()
	if judged, unjudged := judgedInClear(t, dir); judged+unjudged > 0 {
		t.Errorf("after the second Close, %d judged and %d unjudged intake messages hold the number in clear", judged, unjudged)
	}
	_, _, js = restartHub(t, dir)
	if c := clearInIntake(ctx, t, js); c > 0 {
		t.Errorf("%d intake messages hold the number in clear once the hub is started", c)
	}
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
	judged, unjudged := judgedInClear(t, dir)
	t.Logf("killed with %d judged messages not yet erased and %d not yet judged", judged, unjudged)

	child = startChild(t, dir, listen, -1, "ANZHI_CHILD_PURGE_EVERY=1h")
	// Ready means the judged ones are erased: only the unjudged may be left.
	if c := clearInIntake(ctx, t, js); c > unjudged {
		t.Errorf("the restarted hub is ready with %d messages in clear; only the %d not judged before the kill may be", c, unjudged)
	}
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
		if time.Since(stalled) > time.Minute {
			t.Fatalf("%d judged intake messages still hold the number in clear after a restart, none erased for a minute", c)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
