package subscribers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

func persons(a *view.AreaView) int64 { return a.Indicators.Counts["persons"] }

// next waits for an update that satisfies ok.
func next(t *testing.T, updates <-chan subscribers.AreaUpdate, what string, ok func(subscribers.AreaUpdate) bool) subscribers.AreaUpdate {
	t.Helper()
	timeout := time.After(hubtest.Patience)
	for {
		select {
		case u := <-updates:
			if ok(u) {
				return u
			}
		case <-timeout:
			t.Fatalf("no %s", what)
		}
	}
}

func TestWatchCity(t *testing.T) {
	h, nc, js := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan subscribers.AreaUpdate, 100)
	done := make(chan error, 1)
	go func() {
		done <- subscribers.WatchCity(ctx, js, func(u subscribers.AreaUpdate) error {
			updates <- u
			return nil
		})
	}()
	// The current value comes first: the empty city the hub wrote at start.
	first := next(t, updates, "current city", func(subscribers.AreaUpdate) bool { return true })
	if first.Key != fact.CityKey || first.View.Code != "610400" || first.Revision == 0 || first.Written.IsZero() {
		t.Errorf("first update: key %s, code %s, revision %d, written %s", first.Key, first.View.Code, first.Revision, first.Written)
	}
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	u := next(t, updates, "city with the village", func(u subscribers.AreaUpdate) bool { return persons(&u.View) == 3 })
	if u.Revision <= first.Revision {
		t.Errorf("revision %d after %d", u.Revision, first.Revision)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer wcancel()
	if err := h.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WatchCity returned %v, want context.Canceled", err)
	}
}

func TestWatchCounty(t *testing.T) {
	_, nc, js := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	updates := make(chan subscribers.AreaUpdate, 100)
	stop := errors.New("seen enough")
	done := make(chan error, 1)
	go func() {
		done <- subscribers.WatchCounty(ctx, js, "610424", func(u subscribers.AreaUpdate) error {
			updates <- u
			if persons(&u.View) == 4 {
				return stop
			}
			return nil
		})
	}()
	next(t, updates, "the county with the village", func(u subscribers.AreaUpdate) bool { return persons(&u.View) == 3 })
	p, err := publishers.New(nc, "poverty")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, publishers.Fact{Family: "registry.person", Time: scenario.Day("2019-05-01"), Data: map[string]any{
		"person_key": scenario.Person(50), "household_id": scenario.VillageHousehold, "birth_year": 1990, "sex": "male",
		"labour_capacity": "full"}}); err != nil {
		t.Fatal(err)
	}
	u := next(t, updates, "the county with the new person", func(u subscribers.AreaUpdate) bool { return persons(&u.View) == 4 })
	if u.Key != "county.610424" || u.View.Code != "610424" || len(u.View.SiteIDs) != 1 {
		t.Errorf("update: key %s, code %s, sites %v", u.Key, u.View.Code, u.View.SiteIDs)
	}
	// An error of the callback ends the watch with that error.
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Errorf("WatchCounty returned %v, want the callback's error", err)
		}
	case <-time.After(hubtest.Patience):
		t.Fatal("WatchCounty did not return the callback's error")
	}
}

func TestGet(t *testing.T) {
	h, nc, js := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	var hv *view.HouseholdView
	for ctx.Err() == nil { // the view bucket follows the idle hub shortly
		var err error
		if hv, err = subscribers.GetHousehold(ctx, js, scenario.VillageHousehold); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if hv == nil || len(hv.Members) != 3 {
		t.Fatalf("household: %+v", hv)
	}
	site, err := subscribers.GetSite(ctx, js, scenario.VillageSite)
	if err != nil || site.County != "610424" {
		t.Errorf("site: %+v, %v", site, err)
	}
	county, err := subscribers.GetCounty(ctx, js, "610424")
	if err != nil || persons(county) != 3 {
		t.Errorf("county: %+v, %v", county, err)
	}
	for _, key := range []string{"household.H610424-999999", "nope", "not a key", ""} {
		if _, err := subscribers.Get(ctx, js, key); !errors.Is(err, view.ErrNotFound) {
			t.Errorf("Get(%q): %v, want view.ErrNotFound", key, err)
		}
	}
	if _, err := subscribers.GetCounty(ctx, js, "999999"); !errors.Is(err, view.ErrNotFound) {
		t.Errorf("GetCounty(999999): %v, want view.ErrNotFound", err)
	}
}

func TestNoViewBucket(t *testing.T) {
	_, _, js := hubtest.Start(t, hub.Config{TickEvery: -1, Materialize: hub.MaterializeConfig{Every: -1}})
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if _, err := subscribers.GetCity(ctx, js); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("GetCity: %v, want ErrBucketNotFound", err)
	}
	err := subscribers.WatchCity(ctx, js, func(subscribers.AreaUpdate) error { return nil })
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("WatchCity: %v, want ErrBucketNotFound", err)
	}
}
