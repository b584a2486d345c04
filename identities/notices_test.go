package identities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// TestNoticesOnlyForTheirUnit: with identities on, hrss reads the notice of
// a warning addressed to it, through its own consumer and live on its own
// subject; edu can do neither with hrss's, and its own consumer holds none
// of them.
func TestNoticesOnlyForTheirUnit(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	hrssNC, _, _ := w.as("hrss")
	live, err := hrssNC.SubscribeSync(fact.NoticeSubject("hrss"))
	if err != nil {
		t.Fatal(err)
	}
	if err := hrssNC.Flush(); err != nil {
		t.Fatal(err)
	}
	// R4 breaks in 乾县: hrss's to fix.
	t0 := scenario.RuleClock(2021)
	var r4 scenario.RuleCase
	for _, c := range scenario.RuleCases(2021) {
		if c.Rule == "R4" {
			r4 = c
		}
	}
	var depts []string
	for _, id := range w.ids.Senders() {
		if d := fact.DeptOfIdentity(id); d != "" && !isCounty(d) {
			depts = append(depts, d)
		}
	}
	items := append(append(scenario.Village(2021), scenario.Alive(depts, t0)...), r4.Breaks...)
	if err := scenario.PublishAs(ctx, w.h.ClientURL(), w.ids.Dir, items); err != nil {
		t.Fatal(err)
	}
	if err := w.h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := w.h.WaitNotices(ctx); err != nil {
		t.Fatal(err)
	}
	ws := w.h.View().Warnings(view.WarningQuery{Rule: "R4"})
	if len(ws) != 1 {
		t.Fatalf("R4 warnings: %+v", ws)
	}

	// hrss: through its consumer, as anzhi watch reads it.
	hrssJS, err := jetstream.NewWithAPIPrefix(hrssNC, fact.NoticeAPIPrefix)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan subscribers.NoticeEvent, 1)
	fctx, fcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- subscribers.FollowNotices(fctx, hrssJS, "hrss", func(ev subscribers.NoticeEvent) error {
			got <- ev
			fcancel()
			return nil
		})
	}()
	select {
	case ev := <-got:
		if ev.Data.Kind != subscribers.NoticeWarningRaised || ev.Data.Warning == nil || ev.Data.Warning.ID != ws[0].ID {
			t.Errorf("hrss's notice: %+v", ev.Data)
		}
	case err := <-done:
		t.Fatalf("hrss following its notices: %v", err)
	case <-ctx.Done():
		t.Fatal("hrss got no notice")
	}
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("hrss's follow ended with %v", err)
	}
	// And live.
	m, err := live.NextMsg(time.Minute)
	if err != nil {
		t.Fatalf("hrss live: %v", err)
	}
	if ev, err := subscribers.DecodeNotice(m.Data); err != nil || ev.Data.Dept != "hrss" {
		t.Errorf("hrss live: %+v, %v", ev, err)
	}

	// edu: hrss's consumer, under the notice prefix or JetStream's own,
	// and hrss's subject are refused.
	eduNC, eduJS, errs := w.as("edu")
	eduNotices, err := jetstream.NewWithAPIPrefix(eduNC, fact.NoticeAPIPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, js := range []jetstream.JetStream{eduNotices, eduJS} {
		refused(t, "edu", "read hrss's notice consumer", errs, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := js.Consumer(ctx, fact.NoticeStream, fact.NoticeConsumer("hrss"))
			return err
		})
		refused(t, "edu", "make a consumer of hrss's notices", errs, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := js.CreateOrUpdateConsumer(ctx, fact.NoticeStream, jetstream.ConsumerConfig{
				Name: fact.NoticeConsumer("edu"), FilterSubject: fact.NoticeSubject("hrss")})
			return err
		})
	}
	refused(t, "edu", "subscribe to hrss's notices", errs, func(context.Context) error {
		sub, err := eduNC.SubscribeSync(fact.NoticeSubject("hrss"))
		if err != nil {
			return err
		}
		defer sub.Unsubscribe()
		if err := eduNC.Flush(); err != nil {
			return err
		}
		_, err = sub.NextMsg(5 * time.Second)
		if errors.Is(err, nats.ErrTimeout) {
			return nil // nothing arrived, but no refusal either: the check above fails
		}
		return err
	})
	// edu's own consumer works, and holds nothing of hrss's.
	cons, err := eduNotices.Consumer(ctx, fact.NoticeStream, fact.NoticeConsumer("edu"))
	if err != nil {
		t.Fatalf("edu's own notice consumer: %v", err)
	}
	if info := cons.CachedInfo(); info.NumPending != 0 || info.Config.FilterSubject != fact.NoticeSubject("edu") {
		t.Errorf("edu's consumer: %d pending, filter %s", info.NumPending, info.Config.FilterSubject)
	}
}

func isCounty(dept string) bool { return len(dept) > 7 && dept[:7] == "county/" }
