package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
)

// TestVerdictIndexWaits: a waiter gets a verdict as soon as it is recorded,
// "pending" when its deadline comes first, and verdicts read back from the
// log only once the read is done.
func TestVerdictIndexWaits(t *testing.T) {
	x := newVerdictIndex(0, 10, false) // a restart: 1..10 judged before it
	x.scanned(3, 7, kindAccepted, false)

	// Before the scan is done, an unset older sequence is pending.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	got := x.wait(ctx, []uint64{3, 4, 11}, math.MaxUint64)
	cancel()
	if got[0].Status != fact.VerdictAccepted || got[0].LogSeq != 7 || got[1].Status != fact.VerdictPending || got[2].Status != fact.VerdictPending {
		t.Fatalf("during the scan: %+v", got)
	}

	// Waiters are woken by the scan's end and by live verdicts.
	done := make(chan []fact.IntakeVerdict)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done <- x.wait(ctx, []uint64{4, 11, 12, 13}, math.MaxUint64)
	}()
	x.scanDone(true)
	x.stored(11, 20, kindRefused)
	x.duplicate(12, 7)
	x.stored(14, 21, kindAccepted) // 13 was removed before it was judged: 14's verdict shows it never will be
	got = <-done
	want := []struct {
		status fact.VerdictStatus
		logSeq uint64
	}{{fact.VerdictDuplicate, 0}, {fact.VerdictRefused, 20}, {fact.VerdictDuplicate, 7}, {fact.VerdictUnknown, 0}}
	for i, w := range want {
		if got[i].Status != w.status || got[i].LogSeq != w.logSeq {
			t.Errorf("verdict %d: %+v, want %s at %d", i, got[i], w.status, w.logSeq)
		}
	}
	// Past the intake's last message: unknown at once.
	got = x.wait(context.Background(), []uint64{99}, 13)
	if got[0].Status != fact.VerdictUnknown || got[0].Note == "" {
		t.Fatalf("past the intake: %+v", got[0])
	}
}

// TestVerdictIndexForgets: past its limit the index forgets the oldest
// verdicts and says so.
func TestVerdictIndexForgets(t *testing.T) {
	x := newVerdictIndex(1024, 0, true)
	for seq := uint64(1); seq <= 5000; seq++ {
		x.stored(seq, seq+100, kindAccepted)
	}
	got := x.wait(context.Background(), []uint64{1, 5000}, math.MaxUint64)
	if got[0].Status != fact.VerdictUnknown || got[1].Status != fact.VerdictAccepted || got[1].LogSeq != 5100 {
		t.Fatalf("%+v", got)
	}
	if n := len(x.slots); n > 1024 {
		t.Fatalf("%d slots kept, limit 1024", n)
	}
}

// TestVerdictIndexRace records verdicts while many waiters wait for them
// (run with -race): every waiter gets every verdict.
func TestVerdictIndexRace(t *testing.T) {
	x := newVerdictIndex(1<<20, 0, true)
	const n = 2000
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seqs := []uint64{uint64(n - w), uint64(w + 1), uint64(n / 2)}
			for _, v := range x.wait(ctx, seqs, math.MaxUint64) {
				if v.Status != fact.VerdictAccepted && v.Status != fact.VerdictDuplicate {
					t.Errorf("waiter %d: %+v", w, v)
				}
			}
		}()
	}
	for seq := uint64(1); seq <= n; seq++ {
		if seq%3 == 0 {
			x.duplicate(seq, 1)
		} else {
			x.stored(seq, seq, kindAccepted)
		}
	}
	wg.Wait()
}

// TestVerdictReplyFitsOneMessage: reasons past what one message holds are
// left out, counted and pointed to, never making the reply too large.
func TestVerdictReplyFitsOneMessage(t *testing.T) {
	h, _, js := startInternal(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 30
	var seqs []uint64
	for i := range n {
		msg := nats.NewMsg("edu.enrolment.610424")
		msg.Header.Set("Content-Type", fact.ContentType)
		msg.Data = []byte(fmt.Sprintf(`{"specversion":"1.0","id":"r-%d","source":"/xianyang/edu","type":"anzhi.edu.enrolment.v1",`+
			`"subject":"x","time":"2020-09-01T00:00:00Z","data":{"level":"university"}}`, i))
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Sequence)
	}
	maxReply := 512*n + 4096 + 600
	s := &verdictService{sources: h.gate.sources, logs: h.logs, log: h.cfg.Logger, maxReply: maxReply}
	req, _ := json.Marshal(fact.VerdictRequest{IntakeSeqs: seqs, WaitMillis: 30_000})
	reply := s.answer(ctx, req, "") // the hub's own account: every verdict
	if len(reply.Verdicts) != n {
		t.Fatalf("reply %+v", reply)
	}
	first, last := reply.Verdicts[0], reply.Verdicts[n-1]
	if first.Status != fact.VerdictRefused || len(first.Reasons) == 0 {
		t.Errorf("first verdict %+v, want its reasons", first)
	}
	if last.Status != fact.VerdictRefused || last.Reasons != nil || last.OmittedReasons == 0 || !strings.Contains(last.Note, "log sequence") {
		t.Errorf("last verdict %+v, want its reasons left out and counted", last)
	}
	if b, _ := json.Marshal(reply); len(b) > maxReply {
		t.Errorf("reply of %d bytes, at most %d", len(b), maxReply)
	}
}
