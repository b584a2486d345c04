package identities_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// TestRestartResumesEverySender: the hub stops while two senders publish
// into their own intake streams, and a new one takes up each stream where
// the log says the last one got to: every acknowledged message is judged
// exactly once — each accepted fact logged once, each refused message one
// rejection — across restarts and a rebuild.
func TestRestartResumesEverySender(t *testing.T) {
	w := startWorld(t, hub.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	const rounds, perRound = 3, 1200 // more than the 1,024 entries between two position records
	facts, refused := 0, 0
	for round := range rounds {
		eduNC, _, _ := w.as("edu")
		edu, err := publishers.New(eduNC, "edu")
		if err != nil {
			t.Fatal(err)
		}
		_, countyJS, _ := w.as("county-610424")
		var wg sync.WaitGroup
		var ackedNow int
		wg.Go(func() {
			n, err := flood(ctx, countyJS, "issue.report.610424", perRound)
			if n > 0 {
				t.Errorf("county's messages refused by the server: %d (%v)", n, err)
			}
			ackedNow = perRound - n
		})
		b, err := edu.NewBatch(ctx, publishers.BatchOptions{MaxPending: 256})
		if err != nil {
			t.Fatal(err)
		}
		for i := range perRound {
			if _, err := b.Add(enrolment(fmt.Sprintf("r%d-%d", round, i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Wait(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		facts, refused = facts+perRound, refused+ackedNow
		// Stop while the hub still judges what was just acknowledged.
		if st, err := w.h.Status(ctx); err == nil {
			t.Logf("round %d: stopping with %d of %d messages still to judge", round, st.IntakeLast-st.Judged, st.IntakeLast)
		}
		w.restart(hub.Config{Rebuild: round == rounds-1})
	}
	if err := w.h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(hubtest.Read(t, w.js, fact.LogStream, fact.FactSubject("edu.enrolment", ">"))); got != facts {
		t.Errorf("the log holds %d of edu's facts; %d were acknowledged", got, facts)
	}
	if got := len(hubtest.Read(t, w.js, fact.LogStream, fact.RejectedSubject("county/610424"))); got != refused {
		t.Errorf("the county's ledger holds %d rejections; %d messages were acknowledged", got, refused)
	}
}
