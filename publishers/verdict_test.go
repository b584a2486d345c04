package publishers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// TestVerdicts: the hub's verdict reaches the publisher — accepted at the
// log sequence the log shows, refused with its reasons (unchecked facts, an
// id reused for other data), a republished fact resolved to the original.
func TestVerdicts(t *testing.T) {
	_, nc, js := hubtest.Start(t, hub.Config{PurgeEvery: 50 * time.Millisecond, TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	good := enrolment(1)
	first, err := p.Publish(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	v, err := first.Verdict(ctx)
	if err != nil {
		t.Fatal(err)
	}
	log := hubtest.Read(t, js, fact.LogStream, fact.FactSubjectPrefix+"edu.>")
	if !v.Accepted || v.Duplicate || len(log) != 1 || v.LogSeq != log[0].Seq || v.IntakeSeq != first.Seq {
		t.Fatalf("verdict %+v, log %+v", v, log)
	}

	// JetStream's duplicate: the original's verdict.
	again, err := p.Publish(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if v2, err := again.Verdict(ctx); err != nil || !again.Duplicate || v2.LogSeq != v.LogSeq || !v2.Accepted {
		t.Fatalf("republished: %+v %+v %v", again, v2, err)
	}

	// The same fact past JetStream's window (another Nats-Msg-Id): the
	// hub's duplicate of the original.
	msg, err := p.Build(good)
	if err != nil {
		t.Fatal(err)
	}
	msg.Header.Set(nats.MsgIdHdr, "edu:another")
	late, err := p.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if v3, err := late.Verdict(ctx); err != nil || !v3.Accepted || !v3.Duplicate || v3.LogSeq != v.LogSeq {
		t.Fatalf("republished past the window: %+v %v", v3, err)
	}

	// Unchecked facts the hub refuses, each with its reasons.
	bad := enrolment(2)
	bad.Data.(map[string]any)["level"] = "university"
	conflicting := enrolment(1)
	conflicting.ID = first.ID
	conflicting.Data.(map[string]any)["level"] = "junior"
	var receipts []publishers.Receipt
	for _, f := range []publishers.Fact{bad, conflicting, enrolment(3)} {
		msg, err := p.BuildUnchecked(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.PublishMsg(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	vs, err := p.Verdicts(ctx, append(receipts, first))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []schemas.Reason{schemas.ReasonSchema, schemas.ReasonConflict} {
		if vs[i].Accepted || vs[i].Status != fact.VerdictRefused || len(vs[i].Reasons) == 0 || vs[i].Reasons[0].Reason != want || vs[i].LogSeq == 0 {
			t.Errorf("verdict %d: %+v, want refused for %s", i, vs[i], want)
		}
	}
	if !vs[2].Accepted || vs[2].Duplicate || vs[3].LogSeq != v.LogSeq {
		t.Errorf("verdicts %+v", vs[2:])
	}
}

// TestVerdictUnknownAndTimeout: a receipt naming no intake message gets
// ErrNoVerdict; with no hub answering, Verdict gives up when ctx ends.
func TestVerdictUnknownAndTimeout(t *testing.T) {
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Publish(ctx, enrolment(1))
	if err != nil {
		t.Fatal(err)
	}
	forged := r
	forged.Seq += 100
	if v, err := forged.Verdict(ctx); !errors.Is(err, publishers.ErrNoVerdict) || v.Status != fact.VerdictUnknown {
		t.Fatalf("unknown seq: %+v %v", v, err)
	}
	if _, err := (publishers.Receipt{Seq: 1}).Verdict(ctx); err == nil {
		t.Fatal("a receipt not from a publisher got a verdict")
	}

	// With the hub and its embedded server gone, the client reconnects
	// forever: only ctx ends the wait.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShort()
	start := time.Now()
	_, err = r.Verdict(short)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no hub: %v, want the deadline", err)
	}
	if took := time.Since(start); took > time.Minute {
		t.Fatalf("gave up after %s", took)
	}
}

// TestBatchVerdicts asks the verdicts of a batch larger than one request
// holds, right after publishing, before the hub has judged it all.
func TestBatchVerdicts(t *testing.T) {
	_, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	n := 2*fact.MaxVerdictSeqs + 500
	receipts := make([]publishers.Receipt, n)
	b, err := p.NewBatch(ctx, publishers.BatchOptions{OnResult: func(r publishers.BatchResult) {
		if r.Err != nil {
			t.Errorf("fact %d: %v", r.Index, r.Err)
		}
		receipts[r.Index] = r.Receipt
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := b.Add(enrolment(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Wait(); err != nil {
		t.Fatal(err)
	}
	vs, err := p.Verdicts(ctx, receipts)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for i, v := range vs {
		if !v.Accepted || v.Duplicate || v.LogSeq == 0 || seen[v.LogSeq] || v.IntakeSeq != receipts[i].Seq {
			t.Fatalf("verdict %d: %+v", i, v)
		}
		seen[v.LogSeq] = true
	}
}
