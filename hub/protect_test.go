package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// TestOnlyTheHubWritesItsSubjects: a department client that publishes on
// the log's subjects by mistake (a CloudEvents sender pointed at
// anzhi.fact.… instead of its family) or writes the lead office's view is
// refused by the embedded server; the log holds only the hub's entries and
// the hub restarts on it. (Such an entry once stopped the hub for good.)
func TestOnlyTheHubWritesItsSubjects(t *testing.T) {
	dir := t.TempDir()
	h, nc, js := hubtest.Start(t, hub.Config{DataDir: dir, TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make(chan error, 8)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	body := ioStructured(t, "wrong-subject", "/xianyang/edu")
	for _, subject := range []string{fact.FactSubjectPrefix + ioSubject, fact.RejectedSubjectPrefix + "edu", fact.CitySubject} {
		if err := nc.Publish(subject, body); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if err == nil {
				t.Errorf("%s: no error", subject)
			}
		case <-time.After(hubtest.Patience):
			t.Errorf("publishing on %s was not refused", subject)
		}
	}
	if kv, err := js.KeyValue(ctx, fact.ViewBucket); err == nil {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		if _, err := kv.Put(pctx, "city", []byte(`{"forged":true}`)); err == nil {
			t.Error("a department wrote the lead office's view")
		}
		pcancel()
	}
	for len(errs) > 0 { // the refused KV write's notice
		<-errs
	}
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, enrolmentFact(testPersonKey)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	entries := logged(t, js, ">")
	if len(entries) != 1 || entries[0].Header.Get(fact.HeaderIntakeSeq) == "" {
		t.Fatalf("the log holds %d entries, want the hub's one", len(entries))
	}
	h.Close()
	h2, _, _ := hubtest.Start(t, hub.Config{DataDir: dir, TickEvery: -1})
	waitIdle(t, h2)
}

// TestForeignLogEntriesAreSkipped: on a NATS that does not keep the log's
// subjects to the hub (an external one without per-department identities),
// an entry a client put in the log by mistake is neither folded nor an
// obstacle: the hub goes on judging, and restarts on that log.
func TestForeignLogEntriesAreSkipped(t *testing.T) {
	ext, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ext.Shutdown)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, nc, js := hubtest.Start(t, hub.Config{NATSURL: ext.ClientURL(), TickEvery: -1})
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, enrolmentFact(personKey(1))); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	// A CloudEvents sender pointed at the log's subject: stored, unchecked.
	if _, err := js.Publish(ctx, fact.FactSubjectPrefix+ioSubject, ioStructured(t, "wrong-subject", "/xianyang/edu")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, enrolmentFact(personKey(2))); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	if got := h.View().Stats().Facts; got != 2 {
		t.Errorf("the view folded %d facts, want the hub's 2", got)
	}
	h.Close()
	h2, _, _ := hubtest.Start(t, hub.Config{NATSURL: ext.ClientURL(), TickEvery: -1, Rebuild: true})
	waitIdle(t, h2)
	if got := h2.View().Stats().Facts; got != 2 {
		t.Errorf("after a rebuild the view holds %d facts, want 2", got)
	}
}
