package hub_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/schemas"
)

// TestKillDuringIngestWithIdentities is the crash test with identities on:
// two senders publish into their own intake streams — hrss its facts, a
// county government messages the hub refuses — while the hub process is
// killed with SIGKILL three times. After a restart every acknowledged fact
// is in the view, every acknowledged refused message has exactly one
// rejection (none lost, none judged twice), and the view equals a rebuild.
func TestKillDuringIngestWithIdentities(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	idsDir := filepath.Join(t.TempDir(), "ids")
	if _, err := identities.Init(idsDir, schemas.MustLoad()); err != nil {
		t.Fatal(err)
	}
	ids, err := identities.Load(idsDir)
	if err != nil {
		t.Fatal(err)
	}
	dir, listen := t.TempDir(), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	connect := func(name string) *nats.Conn {
		opts, err := identities.ClientOptions(ids.CredsFile(name))
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect("nats://"+listen, append(opts, nats.MaxReconnects(0))...)
		if err != nil {
			t.Fatal(err)
		}
		return nc
	}
	var mu sync.Mutex
	acked := map[uint64]bool{}
	var countyAcked atomic.Int64
	next := 0
	const rounds, perRound = 3, 3000
	for round := range rounds {
		child := startChild(t, dir, listen, 2000, "ANZHI_CHILD_IDENTITIES="+idsDir)
		hrss, county := connect("hrss"), connect("county-610424")
		killAt := perRound/3 + round*perRound/4
		var roundAcked int
		b := killingBatch(ctx, t, hrss, child, killAt, &mu, acked, &roundAcked)
		// The county sends messages the hub refuses, beside hrss's facts.
		cjs, err := jetstream.New(county)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range perRound {
				f, err := cjs.PublishAsync("issue.report.610424", fmt.Appendf(nil, `{"round":%d,"n":%d`, round, i))
				if err != nil {
					return
				}
				go func() {
					select {
					case <-f.Ok():
						countyAcked.Add(1)
					case <-f.Err():
					case <-ctx.Done():
					}
				}()
			}
		})
		for range perRound {
			if _, err := b.Add(trainingFact(next)); err != nil {
				break
			}
			next++
		}
		wg.Wait()
		_ = child.Process.Signal(syscall.SIGKILL)
		_, _ = b.Wait()
		select {
		case <-cjs.PublishAsyncComplete():
		case <-time.After(10 * time.Second):
		}
		hrss.Close()
		county.Close()
		_ = child.Wait()
		time.Sleep(100 * time.Millisecond) // let the last acknowledgements' goroutines count
		t.Logf("round %d: killed after %d of hrss's facts were acknowledged; county acknowledged so far %d", round, killAt, countyAcked.Load())
	}
	check := func(rebuild bool) string {
		h, _, js := ingestHub(t, dir, func(c *hub.Config) {
			c.Identities, c.Rebuild, c.SnapshotEvery, c.NATSListen = ids, rebuild, -1, "127.0.0.1:0"
		})
		defer h.Close()
		waitIdle(t, h)
		missing := 0
		mu.Lock()
		for k := range acked {
			if seq, _, ok := h.ResolveFact(k); !ok || seq > h.View().Seq() {
				missing++
			}
		}
		n := len(acked)
		mu.Unlock()
		if missing > 0 {
			t.Errorf("%d of %d acknowledged facts are not in the view (rebuild=%v)", missing, n, rebuild)
		}
		// Every message the county's intake stored (acknowledged or not:
		// a kill can come between storing and acknowledging) is judged
		// exactly once.
		in, err := js.Stream(context.Background(), fact.SenderIntakeStream("county-610424"))
		if err != nil {
			t.Fatal(err)
		}
		stored := in.CachedInfo().State.LastSeq
		seqs := map[string]bool{}
		for _, m := range logged(t, js, fact.RejectedSubject("county/610424")) {
			seq := m.Header.Get(fact.HeaderIntakeSeq)
			if seqs[seq] {
				t.Errorf("county message %s judged twice (rebuild=%v)", seq, rebuild)
			}
			seqs[seq] = true
		}
		if uint64(len(seqs)) != stored || stored < uint64(countyAcked.Load()) {
			t.Errorf("the county's ledger judges %d messages; its intake stored %d, acknowledged %d (rebuild=%v)",
				len(seqs), stored, countyAcked.Load(), rebuild)
		}
		return h.View().Digest()
	}
	if restarted, rebuilt := check(false), check(true); restarted != rebuilt {
		t.Fatalf("restart after SIGKILL gives %s, a clean rebuild %s", restarted, rebuilt)
	}
}
