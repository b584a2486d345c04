package subscribers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/subscribers"
)

// exampleHub starts a hub with an embedded NATS server on a free port and
// its data in a temporary directory, as `anzhi hub` does, and connects to
// it. stop closes everything.
func exampleHub() (h *hub.Hub, nc *nats.Conn, js jetstream.JetStream, stop func(), err error) {
	dir, err := os.MkdirTemp("", "anzhi-example-")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err = hub.Start(ctx, hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", TickEvery: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, nil, nil, err
	}
	stop = func() { _ = h.Close(); _ = os.RemoveAll(dir) }
	if nc, err = nats.Connect(h.ClientURL()); err != nil {
		stop()
		return nil, nil, nil, nil, err
	}
	stop = func() { nc.Close(); _ = h.Close(); _ = os.RemoveAll(dir) }
	if js, err = jetstream.New(nc); err != nil {
		stop()
		return nil, nil, nil, nil, err
	}
	return h, nc, js, stop, nil
}

// household is the poverty office's registration of a household of size
// persons, and of its members.
func household(size int) []publishers.Fact {
	relocated := time.Date(2019, 11, 15, 0, 0, 0, 0, time.UTC)
	facts := []publishers.Fact{{Family: "registry.household", Time: relocated, Data: map[string]any{
		"household_id": "H610424-000123", "site_id": "S610424-0001", "size": size, "labour_count": 1,
		"registered_poor": true, "relocated_on": "2019-11-15"}}}
	for i := range size {
		facts = append(facts, publishers.Fact{Family: "registry.person", Time: relocated, Data: map[string]any{
			"person_key": fmt.Sprintf("%064x", i+1), "household_id": "H610424-000123", "birth_year": 1980 + i,
			"sex": "female", "labour_capacity": "full"}})
	}
	return facts
}

// The lead office follows the city's indicators: WatchCity gives the
// current value at once, then each new one the hub writes (at most one a
// second, the state after a burst of facts), until the context ends or the
// callback returns an error.
func ExampleWatchCity() {
	_, nc, js, stop, err := exampleHub()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	pub, err := publishers.New(nc, "poverty")
	if err != nil {
		fmt.Println(err)
		return
	}
	seen := errors.New("seen the household")
	err = subscribers.WatchCity(ctx, js, func(u subscribers.AreaUpdate) error {
		persons := u.View.Indicators.Counts["persons"]
		switch {
		case persons == 0 && u.View.Seq == 0:
			// The empty city the hub wrote at start: now publish.
			fmt.Printf("%s %s: %d persons\n", u.View.Code, u.View.Name, persons)
			for _, f := range household(2) {
				if _, err := pub.Publish(ctx, f); err != nil {
					return err
				}
			}
		case persons == 2:
			fmt.Printf("%s %s: %d persons in %d households\n", u.View.Code, u.View.Name, persons, u.View.Indicators.Counts["households"])
			return seen
		}
		return nil // a state in between
	})
	if !errors.Is(err, seen) {
		fmt.Println(err)
	}
	// Output:
	// 610400 咸阳市: 0 persons
	// 610400 咸阳市: 2 persons in 1 households
}

// A department reads the hub's verdicts on what it sent: the rejection
// ledger, in log order, with every reason.
func ExampleRejections() {
	h, nc, js, stop, err := exampleHub()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A household with a negative size, sent without the library's check
	// (as anzhi publish --no-check does), so that the hub judges it.
	pub, err := publishers.New(nc, "poverty")
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, err := pub.BuildUnchecked(household(-1)[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := pub.PublishMsg(ctx, msg); err != nil {
		fmt.Println(err)
		return
	}
	if err := h.WaitIdle(ctx); err != nil { // in a test; a department just reads later
		fmt.Println(err)
		return
	}

	rejections, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{Department: "poverty"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rejections {
		fmt.Printf("log seq %d: %s from %s refused\n", r.Seq, r.Subject, r.Department)
		for _, v := range r.Violations {
			fmt.Printf("  %s %s: %s\n", v.Reason, v.Pointer, v.Message)
		}
	}
	// Output:
	// log seq 1: registry.household.610424 from poverty refused
	//   schema /data/labour_count: labour_count (1) must not be greater than size (-1)
	//   schema /data/size: minimum: got -1, want 1
}
