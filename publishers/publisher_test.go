package publishers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// These tests exercise the department client on its own, against a real
// embedded server with no hub reading the intake, so that what the client
// sent is exactly what the intake holds.

// server starts an embedded NATS server and connects a client; the intake
// and log streams exist only once the returned function is called. A test
// that calls it from a timer may end first: the server and the client are
// not closed while a call runs (it would fail on the closed connection, and
// fail the test after all it checked passed), and a call after the end does
// nothing.
func server(t *testing.T) (nc *nats.Conn, js jetstream.JetStream, createStreams func()) {
	t.Helper()
	emb, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err = nats.Connect(emb.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var (
		creating sync.Mutex
		ended    bool
	)
	t.Cleanup(func() { // runs before the cleanups above
		creating.Lock()
		ended = true
		creating.Unlock()
	})
	return nc, js, func() {
		creating.Lock()
		defer creating.Unlock()
		if ended {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, _, err := hub.EnsureStreams(ctx, js, schemas.MustLoad(), hub.StreamOptions{}); err != nil {
			t.Error(err)
		}
	}
}

func enrolment(i int) publishers.Fact {
	return publishers.Fact{
		Family: "edu.enrolment",
		Time:   time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		Data: map[string]any{
			"person_key": fmt.Sprintf("%064x", i+1), "household_id": "H610424-000123", "action": "enrolled",
			"school_id": "SC610424-001", "level": "primary", "effective_on": "2024-09-01",
		},
	}
}

func intake(t *testing.T, js jetstream.JetStream) []hubtest.Msg {
	t.Helper()
	return hubtest.Read(t, js, fact.IntakeStream, ">")
}

// TestPublishRetriesUntilTheStreamAnswers: a publish made while JetStream
// has no stream for the subject yet (the hub still starting) is retried with
// backoff and lands once the stream exists.
func TestPublishRetriesUntilTheStreamAnswers(t *testing.T) {
	nc, js, createStreams := server(t)
	p, err := publishers.New(nc, "edu", publishers.WithRetry(8, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(150*time.Millisecond, createStreams)
	start := time.Now()
	r, err := p.Publish(context.Background(), enrolment(1))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("acknowledged after %v, before the stream existed", waited)
	}
	if r.Seq != 1 || r.Duplicate || r.ID == "" || r.Subject != "edu.enrolment.610424" {
		t.Errorf("receipt = %+v", r)
	}
	got := intake(t, js)
	if len(got) != 1 {
		t.Fatalf("intake holds %d messages, want 1 (retries must not duplicate)", len(got))
	}
	if id := got[0].Header.Get(jetstream.MsgIDHeader); !strings.HasPrefix(id, publishers.MsgID("/xianyang/edu", r.ID)+":") || !strings.HasPrefix(id, "edu:"+r.ID+":") {
		t.Errorf("Nats-Msg-Id = %q, want edu:%s:<digest>", id, r.ID)
	}
}

// TestPublishGivesUp: with no stream ever answering, Publish stops after
// its attempts with an error that names the fact and the cause.
func TestPublishGivesUp(t *testing.T) {
	nc, _, _ := server(t)
	p, err := publishers.New(nc, "edu", publishers.WithRetry(3, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f := enrolment(1)
	f.ID = "enrol-0001"
	_, err = p.Publish(context.Background(), f)
	if err == nil {
		t.Fatal("publish succeeded with no stream")
	}
	if !publishers.Transient(err) {
		t.Errorf("error %v is not reported as transient", err)
	}
	if !strings.Contains(err.Error(), "enrol-0001") || !strings.Contains(err.Error(), "edu.enrolment.610424") {
		t.Errorf("error %q does not name the fact and its subject", err)
	}
	// Two backoffs: 10ms, then 20ms (plus jitter); the attempts themselves
	// fail at once.
	if waited := time.Since(start); waited < 30*time.Millisecond || waited > 2*time.Second {
		t.Errorf("gave up after %v, want the two backoffs (30–45ms) and little more", waited)
	}
}

// TestPublishStopsWhenTheContextEnds: a caller's deadline cuts the retries
// short, and the error says what was last seen.
func TestPublishStopsWhenTheContextEnds(t *testing.T) {
	nc, _, _ := server(t)
	p, err := publishers.New(nc, "edu", publishers.WithRetry(20, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.Publish(ctx, enrolment(1))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if !strings.Contains(err.Error(), "edu.enrolment.610424") || !strings.Contains(err.Error(), "last error: nats: no response from stream") {
		t.Errorf("error %q does not say what was last seen", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("returned after %v, long after the deadline", waited)
	}
}

// TestInvalidFactIsNeitherSentNorRetried: every violation in one typed
// error, returned at once, and nothing in the intake.
func TestInvalidFactIsNeitherSentNorRetried(t *testing.T) {
	nc, js, createStreams := server(t)
	createStreams()
	p, err := publishers.New(nc, "edu", publishers.WithRetry(6, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	f := enrolment(1)
	d := f.Data.(map[string]any)
	d["level"] = "university" // not an enum value
	d["grade"] = "three"      // wrong type
	d["name"] = "张三"          // no field for names
	delete(d, "school_id")    // required
	start := time.Now()
	_, err = p.Publish(context.Background(), f)
	var ve *fact.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, fact.ErrInvalid) {
		t.Fatalf("err = %v, want a *fact.ValidationError", err)
	}
	pointers := map[string]bool{}
	for _, v := range ve.Violations {
		pointers[v.Pointer] = true
	}
	for _, want := range []string{"/data/level", "/data/grade", "/data/name", "/data/school_id"} {
		if !pointers[want] {
			t.Errorf("no violation at %s in %v", want, ve.Violations)
		}
	}
	if waited := time.Since(start); waited > 500*time.Millisecond {
		t.Errorf("an invalid fact took %v: it was retried", waited)
	}
	if publishers.Transient(err) {
		t.Error("a validation error is reported as transient")
	}
	if got := intake(t, js); len(got) != 0 {
		t.Errorf("intake holds %d messages, want none", len(got))
	}
}

// TestBatchCountsEveryOutcome: a bulk load with valid, invalid and repeated
// facts; every fact gets exactly one outcome, valid ones are stored in the
// order they were added, repeats are recognised, invalid ones never sent.
func TestBatchCountsEveryOutcome(t *testing.T) {
	nc, js, createStreams := server(t)
	createStreams()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	results := map[int]publishers.BatchResult{}
	b, err := p.NewBatch(context.Background(), publishers.BatchOptions{MaxPending: 16, OnResult: func(r publishers.BatchResult) {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := results[r.Index]; seen {
			t.Errorf("two outcomes for fact %d", r.Index)
		}
		results[r.Index] = r
	}})
	if err != nil {
		t.Fatal(err)
	}
	const valid = 200
	invalid := map[int]bool{}
	for i := range valid {
		if _, err := b.Add(enrolment(i)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 7 {
			bad := enrolment(10_000 + i)
			bad.Data.(map[string]any)["action"] = "expelled"
			idx, err := b.Add(bad)
			if err != nil {
				t.Fatal(err)
			}
			invalid[idx] = true
		}
	}
	for i := range 10 { // the same statements again: same derived ids
		if _, err := b.Add(enrolment(i)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := b.Wait()
	if err != nil {
		t.Fatal(err)
	}
	want := publishers.BatchSummary{Added: valid + len(invalid) + 10, Published: valid, Duplicates: 10, Invalid: len(invalid)}
	if sum != want {
		t.Errorf("summary = %+v, want %+v", sum, want)
	}
	if len(results) != want.Added {
		t.Errorf("%d outcomes for %d facts", len(results), want.Added)
	}
	var lastSeq uint64
	for i := range want.Added {
		r := results[i]
		switch {
		case invalid[i]:
			if !errors.Is(r.Err, fact.ErrInvalid) || !strings.Contains(r.Err.Error(), "/data/action") {
				t.Errorf("fact %d: %v, want a validation error at /data/action", i, r.Err)
			}
		case r.Err != nil:
			t.Errorf("fact %d: %v", i, r.Err)
		case !r.Receipt.Duplicate:
			if r.Receipt.Seq <= lastSeq {
				t.Errorf("fact %d stored at %d after %d: out of order", i, r.Receipt.Seq, lastSeq)
			}
			lastSeq = r.Receipt.Seq
		}
	}
	if got := intake(t, js); len(got) != valid {
		t.Errorf("intake holds %d messages, want %d", len(got), valid)
	}
}

// TestBatchFlush: a flush returns once every fact added so far is stored,
// and the batch goes on taking facts afterwards.
func TestBatchFlush(t *testing.T) {
	nc, js, createStreams := server(t)
	createStreams()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewBatch(context.Background(), publishers.BatchOptions{MaxPending: 8})
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := b.Flush(context.Background()); err != nil || sum.Added != 0 {
		t.Fatalf("flush of an empty batch: %+v, %v", sum, err)
	}
	for round, n := range []int{50, 10} {
		for i := range n {
			if _, err := b.Add(enrolment(1000*round + i)); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := b.Flush(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := 50 + 10*round
		if sum.Published != want {
			t.Fatalf("round %d: flush summary %+v, want %d published", round, sum, want)
		}
		if got := intake(t, js); len(got) != want {
			t.Fatalf("round %d: intake holds %d messages after the flush, want %d", round, len(got), want)
		}
	}
	if sum, err := b.Wait(); err != nil || sum.Published != 60 {
		t.Fatalf("wait: %+v, %v", sum, err)
	}
}

// TestBatchRetriesWhileTheStreamIsMissing: an async publish refused because
// no stream answers yet falls back to the retrying path, so a bulk load
// started just before the hub loses nothing.
func TestBatchRetriesWhileTheStreamIsMissing(t *testing.T) {
	nc, js, createStreams := server(t)
	p, err := publishers.New(nc, "edu", publishers.WithRetry(10, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewBatch(context.Background(), publishers.BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	time.AfterFunc(150*time.Millisecond, createStreams)
	for i := range n {
		if _, err := b.Add(enrolment(i)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := b.Wait()
	if err != nil || sum.Published != n || sum.Failed != 0 {
		t.Fatalf("summary = %+v, err = %v; want all %d published", sum, err, n)
	}
	if got := intake(t, js); len(got) != n {
		t.Errorf("intake holds %d messages, want %d", len(got), n)
	}
}

// TestSameIDOtherContentIsNotADuplicate: within JetStream's duplicate
// window, republishing a fact is a no-op, but the same id saying something
// else must reach the hub (which refuses it as an id_conflict) rather than be
// dropped in silence as a duplicate.
func TestSameIDOtherContentIsNotADuplicate(t *testing.T) {
	nc, js, createStreams := server(t)
	createStreams()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f := enrolment(1)
	f.ID = "enrol-0001"
	first, err := p.Publish(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Publish(ctx, f)
	if err != nil || !again.Duplicate || again.Seq != first.Seq {
		t.Fatalf("republishing: %+v, %v; want a duplicate of %d", again, err, first.Seq)
	}
	changed := enrolment(1)
	changed.ID = f.ID
	changed.Data.(map[string]any)["level"] = "junior"
	other, err := p.Publish(ctx, changed)
	if err != nil || other.Duplicate || other.ID != f.ID {
		t.Fatalf("same id, other content: %+v, %v; want it stored for the hub to judge", other, err)
	}
	if got := intake(t, js); len(got) != 2 {
		t.Errorf("intake holds %d messages, want 2", len(got))
	}
}

func TestTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nats.ErrNoResponders, true},
		{fmt.Errorf("publish x: %w", jetstream.ErrNoStreamResponse), true},
		{nats.ErrTimeout, true},
		{context.DeadlineExceeded, true},
		{nats.ErrConnectionReconnecting, true},
		{&jetstream.APIError{Code: 503, Description: "JetStream system temporarily unavailable"}, true},
		{&jetstream.APIError{Code: 400, Description: "wrong last sequence"}, false},
		{context.Canceled, false},
		{nats.ErrMaxPayload, false},
		{&fact.ValidationError{}, false},
	}
	for _, c := range cases {
		if got := publishers.Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestDerivedIDsAreStable: the same statement gets the same id, so
// re-running an import never counts a fact twice; any change gives another.
func TestDerivedIDsAreStable(t *testing.T) {
	at := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	data := []byte(`{"a":1}`)
	id := publishers.DeriveID("edu.enrolment", "p1", at, data)
	if again := publishers.DeriveID("edu.enrolment", "p1", at.In(time.FixedZone("CST", 8*3600)), data); again != id {
		t.Errorf("same instant in another zone: %s, want %s", again, id)
	}
	for _, other := range []string{
		publishers.DeriveID("edu.capacity", "p1", at, data),
		publishers.DeriveID("edu.enrolment", "p2", at, data),
		publishers.DeriveID("edu.enrolment", "p1", at.Add(time.Second), data),
		publishers.DeriveID("edu.enrolment", "p1", at, []byte(`{"a":2}`)),
	} {
		if other == id {
			t.Errorf("a different statement got the same id %s", id)
		}
	}
}
