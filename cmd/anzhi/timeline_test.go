package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// TestTimeline shows a household's timeline: its facts and its persons', in
// log order, with the warning its child's missing enrolment raised.
func TestTimeline(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, HTTPAddr: "127.0.0.1:0"})
	api := []string{"--api-url", "http://" + h.HTTPAddr()}
	world, _ := scenario.Without(scenario.Village(2021), "edu.enrolment")
	if err := scenario.Publish(ctx, nc, world); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	r := runCLI(ctx, append([]string{"timeline", "household", scenario.VillageHousehold}, api...)...)
	if r.code != exitOK {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range []string{"时间线 timeline of household " + scenario.VillageHousehold, "log seq", "recorded (CST)", "effective",
		"registry.household", "registry.person", "health.coverage", "resources.deeds", "2019-05-01", "poverty",
		"warning.raised", "R6 raised"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout does not contain %q:\n%s", s, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "registry.site") {
		t.Errorf("the site's registration is in the household's timeline:\n%s", r.stdout)
	}
	j := runCLI(ctx, append([]string{"timeline", "person", scenario.Person(2), "--json"}, api...)...)
	lines := strings.Split(strings.TrimSpace(j.stdout), "\n")
	var last uint64
	for _, l := range lines {
		var e struct {
			Seq uint64 `json:"log_seq"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Seq <= last {
			t.Errorf("line %q: %v (after log seq %d)", l, err, last)
		}
		last = e.Seq
	}
	if j.code != exitOK || len(lines) < 4 {
		t.Errorf("person timeline --json: exit %d, %d lines:\n%s\n%s", j.code, len(lines), j.stdout, j.stderr)
	}
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"timeline", "village", "x"}, exitUsage, `timeline "village": want household, person, site, task, warning`},
		{[]string{"timeline", "household"}, exitUsage, "timeline needs a kind"},
		{[]string{"timeline", "household", "H610424-999999"}, exitRuntime, "not found"},
	} {
		r := runCLI(ctx, append(c.args, api...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", c.args, r.code, r.stderr, c.code, c.stderr)
		}
	}
}
