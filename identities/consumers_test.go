package identities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// TestPushConsumersOutsideTheInboxRemoved: the lead office may make
// consumers on the view bucket (its watchers), but one that delivers the
// bucket onto view.> — replaying old values into the live feed — is
// removed by the hub's guard; a watcher delivering to the lead office's own
// inbox stays and keeps working.
func TestPushConsumersOutsideTheInboxRemoved(t *testing.T) {
	w := startWorld(t, hub.Config{GuardEvery: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	_, js, _ := w.as("lead-office")
	if _, err := js.CreatePushConsumer(ctx, fact.ViewStream, jetstream.ConsumerConfig{
		Name: "forge", DeliverSubject: fact.CitySubject, DeliverPolicy: jetstream.DeliverAllPolicy,
	}); err != nil {
		t.Fatalf("the lead office making a push consumer on its stream (the server allows it): %v", err)
	}
	kv, err := js.KeyValue(ctx, fact.ViewBucket)
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := kv.Watch(ctx, fact.CityKey)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := w.js.Consumer(ctx, fact.ViewStream, "forge")
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer delivering onto %s is still there: %v", fact.CitySubject, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Several guard rounds later the watcher still answers.
	time.Sleep(300 * time.Millisecond)
	select {
	case e := <-watcher.Updates():
		if e != nil && e.Key() != fact.CityKey {
			t.Errorf("watcher gave %q", e.Key())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lead office's own watcher stopped")
	}
	view, err := w.js.Stream(ctx, fact.ViewStream)
	if err != nil {
		t.Fatal(err)
	}
	lister := view.ListConsumers(ctx)
	n := 0
	for range lister.Info() {
		n++
	}
	if n == 0 {
		t.Error("the watcher's consumer was removed too")
	}
}
