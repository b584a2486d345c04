package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
)

// TestReplay runs the example against an embedded hub holding two facts, a
// clock tick and a rejection, and against an empty log.
func TestReplay(t *testing.T) {
	h, nc, js := hubtest.Start(t, hub.Config{TickEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var out bytes.Buffer
	n, err := replay(ctx, js, &out)
	if err != nil || n != (Counts{}) || !strings.Contains(out.String(), "ANZHI_LOG: 0 entries") {
		t.Errorf("empty log: %+v, %v:\n%s", n, err, out.String())
	}

	pub, err := publishers.New(nc, "drc")
	if err != nil {
		t.Fatal(err)
	}
	site := func(id string, households int) publishers.Fact {
		return publishers.Fact{Family: "registry.site", Time: time.Date(2019, 1, 10, 0, 0, 0, 0, time.UTC), Data: map[string]any{
			"site_id": id, "county": "610424", "site_name": "安置小区", "kind": "centralized", "setting": "urban",
			"planned_households": households, "planned_persons": 3 * households, "status": "occupied"}}
	}
	var ids []string
	for _, f := range []publishers.Fact{site("S610424-0001", 100), site("S610424-0002", 50)} {
		r, err := pub.Publish(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	// A site with a negative number of households, sent unchecked.
	bad, err := pub.BuildUnchecked(site("S610424-0003", -1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.PublishMsg(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	n, err = replay(ctx, js, &out)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// The tick sweeps the rules: two bare sites break several (no
	// infrastructure, no clinic, …), so warnings follow the tick.
	if n.Facts != 2 || n.Rejections != 1 || n.HubEvents < 2 || n.Foreign != 0 {
		t.Errorf("counts %+v, want 2 facts, 1 rejection, a tick and warnings:\n%s", n, got)
	}
	for _, want := range []string{
		fmt.Sprintf("ANZHI_LOG: %d entries\n", 3+n.HubEvents),
		"     1  fact      registry.site      610424  from /xianyang/drc      id " + ids[0] + "  subject S610424-0001  time 2019-01-10T08:00:00+08:00",
		"id " + ids[1] + "  subject S610424-0002",
		"rejected  anzhi.registry.site.v1 from drc (intake 3,",
		"schema /data/planned_households:",
		"     4  hub       hub.tick           610400  from /xianyang/hub      id tick-2021-01-01T00:00:00Z  subject clock  time 2021-01-01T08:00:00+08:00",
		"     5  hub       warning.raised     610424  from /xianyang/hub",
		fmt.Sprintf("facts 2, hub events %d, rejections 1, not written by the hub 0\n", n.HubEvents),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
