package hub_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// TestViewBucketFollowsMoves: a person moving to another household and a
// household moving to another site change the views of both sides; the
// bucket shows both, and once the hub is quiet every key holds what the
// view reads.
func TestViewBucketFollowsMoves(t *testing.T) {
	const (
		year      = 2021
		otherSite = "S610424-0002"
		otherHH   = "H610424-000002"
	)
	h, nc, js := ingestHub(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	items := append(scenario.Village(year), scenario.Site(otherSite, "610424", 1, 1))
	items = append(items, scenario.Household(otherHH, otherSite, year, []scenario.Member{{Key: scenario.Person(9), Born: 1970, Labour: "full"}})...)
	publishItems(t, nc, items)
	if err := h.Tick(ctx, time.Date(year, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	waitKey(t, js, fact.HouseholdKey(scenario.VillageHousehold), func(hv *view.HouseholdView) bool { return len(hv.Members) == 3 })
	waitKey(t, js, fact.HouseholdKey(otherHH), func(hv *view.HouseholdView) bool { return len(hv.Members) == 1 })

	// The village's child joins the other household; then the village's
	// household moves to the other site.
	move := scenario.Item{Dept: "poverty", Fact: publishers.Fact{Family: "registry.person", Time: scenario.Day("2021-07-01"),
		Data: map[string]any{"person_key": scenario.Person(2), "household_id": otherHH, "birth_year": year - 8, "sex": "female",
			"labour_capacity": "student"}}}
	relocate := scenario.Item{Dept: "poverty", Fact: publishers.Fact{Family: "registry.household", Time: scenario.Day("2021-07-02"),
		Data: map[string]any{"household_id": scenario.VillageHousehold, "site_id": otherSite, "size": 2, "labour_count": 2,
			"registered_poor": true, "relocated_on": "2019-05-01"}}}
	publishItems(t, nc, []scenario.Item{move, relocate})
	waitIdle(t, h)

	waitKey(t, js, fact.HouseholdKey(scenario.VillageHousehold), func(hv *view.HouseholdView) bool {
		return len(hv.Members) == 2 && hv.Site == otherSite
	})
	waitKey(t, js, fact.HouseholdKey(otherHH), func(hv *view.HouseholdView) bool { return len(hv.Members) == 2 })
	waitKey(t, js, fact.SiteKey(scenario.VillageSite), func(s *view.SiteView) bool { return s.Indicators.Counts["persons"] == 0 })
	waitKey(t, js, fact.SiteKey(otherSite), func(s *view.SiteView) bool { return s.Indicators.Counts["persons"] == 4 })

	if err := h.WaitMaterialized(ctx); err != nil {
		t.Fatal(err)
	}
	v := h.View()
	same := func(key string, want any) {
		t.Helper()
		b, err := subscribers.Get(ctx, js, key)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			return
		}
		w, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(w) {
			t.Errorf("%s in the bucket differs from the view:\n bucket %s\n view   %s", key, b, w)
		}
	}
	for _, id := range []string{scenario.VillageHousehold, otherHH} {
		hv, err := v.Household(id)
		if err != nil {
			t.Fatal(err)
		}
		same(fact.HouseholdKey(id), hv)
	}
	for _, id := range []string{scenario.VillageSite, otherSite} {
		sv, err := v.Site(id)
		if err != nil {
			t.Fatal(err)
		}
		same(fact.SiteKey(id), sv)
	}
	cv, err := v.County("610424")
	if err != nil {
		t.Fatal(err)
	}
	same(fact.CountyKey("610424"), cv)
}
