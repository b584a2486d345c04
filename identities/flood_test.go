package identities_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// flood publishes n messages as fast as the connection takes them on a
// subject js's identity may use, and returns once all are acknowledged or
// refused: how many the server refused, and the first refusal.
func flood(ctx context.Context, js jetstream.JetStream, subject string, n int) (refused int, first error) {
	futs := make([]jetstream.PubAckFuture, 0, n)
	for i := range n {
		// Not a CloudEvent: cheap to send, and each is judged (refused, and
		// kept in the ledger) like any other message.
		f, err := js.PublishAsync(subject, fmt.Appendf(nil, `{"flood":%d`, i), jetstream.WithStallWait(time.Minute))
		if err != nil {
			refused++
			first = cmpErr(first, err)
			continue
		}
		futs = append(futs, f)
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			refused++
			first = cmpErr(first, err)
		case <-ctx.Done():
			return refused, cmpErr(first, ctx.Err())
		}
	}
	return refused, first
}

func cmpErr(first, err error) error {
	if first == nil {
		return err
	}
	return first
}

// TestFloodDoesNotStarveOthers: while one county government floods the
// hub, a department's facts still reach the view within a second each, and
// none of its publishes is refused or lost: each sender has an intake
// stream of its own, and the hub judges them in turn.
func TestFloodDoesNotStarveOthers(t *testing.T) {
	w := startWorld(t, hub.Config{SenderLimits: hub.SenderLimits{Rate: -1}}) // fairness alone, no rate limit
	ctx, cancel := context.WithTimeout(context.Background(), 2*hubtest.Patience)
	defer cancel()

	var mu sync.Mutex
	folded := map[uint64]time.Time{}
	w.h.ObserveFolds(func(keys []uint64) {
		now := time.Now()
		mu.Lock()
		for _, k := range keys {
			if _, ok := folded[k]; !ok {
				folded[k] = now
			}
		}
		mu.Unlock()
	})

	const floodSize = 60_000
	_, floodJS, _ := w.as("county-610424")
	if refused, err := flood(ctx, floodJS, "issue.report.610424", floodSize); refused > 0 {
		t.Fatalf("the flood itself was refused %d times (%v); its limits are the defaults, far above it", refused, err)
	}
	st, err := w.h.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flood of %d published; %d of them still to judge", floodSize, st.IntakeLast-st.Judged)

	eduNC, _, _ := w.as("edu")
	edu, err := publishers.New(eduNC, "edu")
	if err != nil {
		t.Fatal(err)
	}
	const honest = 20
	sent := map[uint64]time.Time{}
	for i := range honest {
		f := enrolment(fmt.Sprintf("during-flood-%d", i))
		start := time.Now()
		if _, err := edu.Publish(ctx, f); err != nil {
			t.Fatalf("edu's fact %d during the flood: %v", i, err)
		}
		sent[fact.Key(fact.SourceFor("edu"), f.ID)] = start
		time.Sleep(20 * time.Millisecond)
	}
	// Every one of edu's facts reaches the view, each within a second.
	var worst time.Duration
	for key, start := range sent {
		for {
			mu.Lock()
			at, ok := folded[key]
			mu.Unlock()
			if ok {
				worst = max(worst, at.Sub(start))
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("an edu fact never reached the view: %v", ctx.Err())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	st, err = w.h.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	backlog := st.Backlog["county-610424"]
	t.Logf("edu's %d facts reached the view within %v each (worst); the flood still had %d messages to judge",
		honest, worst.Round(time.Millisecond), backlog)
	if worst > time.Second {
		t.Errorf("an edu fact took %v to reach the view during the flood; want at most 1s", worst)
	}
	if backlog == 0 {
		t.Errorf("the flood was judged before edu's last fact reached the view: the test showed nothing (make the flood larger)")
	}
}

// TestSenderLimits: a sender's intake holds at most its limit of unjudged
// messages; past it the server refuses that sender's publishes with an
// error its client sees, while another sender publishes on undisturbed;
// nothing acknowledged is ever dropped, and the held messages are judged in
// time, at the sender's rate.
func TestSenderLimits(t *testing.T) {
	w := startWorld(t, hub.Config{SenderLimits: hub.SenderLimits{MaxMsgs: 50, Rate: 20, Burst: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	_, floodJS, _ := w.as("county-610424")
	const n = 200
	refused, first := flood(ctx, floodJS, "issue.report.610424", n)
	if refused < n/2 {
		t.Fatalf("%d of %d publishes refused beyond a limit of 50 unjudged messages judged at 20/s", refused, n)
	}
	var apiErr *jetstream.APIError
	if !errors.As(first, &apiErr) {
		t.Fatalf("the refusal the flooding client saw: %v; want the server's error naming the limit", first)
	}
	t.Logf("%d of %d refused; the first: %v", refused, n, first)

	eduNC, _, _ := w.as("edu")
	edu, err := publishers.New(eduNC, "edu")
	if err != nil {
		t.Fatal(err)
	}
	r, err := edu.Publish(ctx, enrolment("beside-the-limit"))
	if err != nil {
		t.Fatalf("edu publishing while the county is at its limit: %v", err)
	}
	if v, err := r.Verdict(ctx); err != nil || !v.Accepted {
		t.Fatalf("edu's fact: %+v, %v", v, err)
	}
	// What the county's intake took is all judged, none lost: each held
	// message gets its rejection in the county's ledger.
	if err := w.h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := len(hubtest.Read(t, w.js, fact.LogStream, fact.RejectedSubject("county/610424"))), n-refused; got != want {
		t.Errorf("the county's ledger holds %d rejections; its intake acknowledged %d", got, want)
	}
}
