package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/view"
)

// villageHub starts a hub with the village of scenario published and
// folded, and waits until the view bucket shows it.
func villageHub(t *testing.T, ctx context.Context) (*hub.Hub, *nats.Conn) {
	t.Helper()
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, Materialize: hub.MaterializeConfig{DigestQuiet: 100 * time.Millisecond}})
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the household in the view bucket", func() bool {
		return runCLI(ctx, "view", "household", scenario.VillageHousehold, "--nats-url", h.ClientURL()).code == exitOK
	})
	return h, nc
}

// newPerson is a registry.person fact adding a member to the village.
func newPerson(i int) scenario.Item {
	return scenario.Item{Dept: "poverty", Fact: publishers.Fact{Family: "registry.person", Time: scenario.Day("2019-05-01"),
		Data: map[string]any{"person_key": scenario.Person(100 + i), "household_id": scenario.VillageHousehold,
			"birth_year": 1990, "sex": "male", "labour_capacity": "full"}}}
}

func TestView(t *testing.T) {
	ctx := testContext(t)
	h, _ := villageHub(t, ctx)
	url := []string{"--nats-url", h.ClientURL()}
	waitFor(t, ctx, "the city with the village", func() bool {
		return strings.Contains(runCLI(ctx, append([]string{"view", "city"}, url...)...).stdout, "persons 3 ")
	})
	waitFor(t, ctx, "the digest", func() bool { return runCLI(ctx, append([]string{"view", "digest"}, url...)...).code == exitOK })

	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // in stdout
		stderr string   // in stderr
	}{
		{"city", []string{"city"}, exitOK,
			[]string{"咸阳市 city 市 (610400)", "人口 persons 3 · 户 households 1", "就业", "employment", "预警 warnings open:",
				"各县市区 counties:", "610424  乾县", "610402  秦都区"}, ""},
		{"county", []string{"county", "610424"}, exitOK,
			[]string{"乾县 county", "人口 persons 3", "安置点 sites: " + scenario.VillageSite}, ""},
		{"site", []string{"site", scenario.VillageSite}, exitOK,
			[]string{"site 安置点 " + scenario.VillageSite + "  county 610424", "water done", "clinics 1/1", "人口 persons 3"}, ""},
		{"household", []string{"household", scenario.VillageHousehold}, exitOK,
			[]string{"household 搬迁户 " + scenario.VillageHousehold, "site " + scenario.VillageSite, "members 成员: 3",
				"title_deed", "certificate_issued", "预警 warnings open: 0"}, ""},
		{"digest", []string{"digest"}, exitOK, []string{"view digest  ", "log seq"}, ""},
		{"raw key", []string{"county.610424"}, exitOK, []string{`"code": "610424"`}, ""},
		{"unknown household", []string{"household", "H610424-999999"}, exitRuntime, nil,
			`household H610424-999999 not found in the view`},
		{"unknown county", []string{"county", "999999"}, exitRuntime, nil, "county 999999 not found"},
		{"unknown key", []string{"nope"}, exitRuntime, nil, `key nope not found in the view (no key "nope" in ANZHI_VIEW`},
		{"bad key", []string{"household", "H 1"}, exitRuntime, nil, "not found"},
		{"no id", []string{"county"}, exitUsage, nil, "view county needs the county code"},
		{"extra", []string{"city", "610400"}, exitUsage, nil, "view city takes no argument"},
		{"nothing", nil, exitUsage, nil, "accepts between 1 and 2 arg(s)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, append(append([]string{"view"}, tt.args...), url...)...)
			if got, want := r.code, tt.code; got != want {
				t.Errorf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", got, want, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, r.stderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := runCLI(ctx, append([]string{"view", "city", "--json"}, url...)...)
		var city view.AreaView
		if err := json.Unmarshal([]byte(r.stdout), &city); err != nil {
			t.Fatalf("not JSON (%v):\n%s", err, r.stdout)
		}
		if got, want := city.Indicators.Counts["persons"], int64(3); got != want {
			t.Errorf("persons %d, want %d", got, want)
		}
		if got, want := len(city.Counties), 14; got != want {
			t.Errorf("%d counties, want %d", got, want)
		}
		r = runCLI(ctx, append([]string{"view", "household", scenario.VillageHousehold, "--json"}, url...)...)
		var hh view.HouseholdView
		if err := json.Unmarshal([]byte(r.stdout), &hh); err != nil {
			t.Fatalf("not JSON (%v):\n%s", err, r.stdout)
		}
		if got, want := len(hh.Members), 3; got != want {
			t.Errorf("%d members, want %d", got, want)
		}
	})
}

func TestViewNoHub(t *testing.T) {
	r := runCLI(testContext(t), "view", "city", "--nats-url", "nats://127.0.0.1:1")
	if got, want := r.code, exitRuntime; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
	}
}

func TestWatch(t *testing.T) {
	ctx := testContext(t)
	h, nc := villageHub(t, ctx)
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(watchCtx, []string{"watch", "--nats-url", h.ClientURL()}, &stdout, &stderr)
	}()
	// The current state first: the city and every county.
	waitFor(t, ctx, "the current state", func() bool {
		return strings.Contains(stdout.String(), "610400 咸阳市  persons 3  households 1") &&
			strings.Contains(stdout.String(), "610424 乾县  persons 3")
	})
	if err := scenario.Publish(ctx, nc, []scenario.Item{newPerson(0)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a line for the new person", func() bool {
		return strings.Contains(stdout.String(), "610400 咸阳市  persons 4  households 1") &&
			strings.Contains(stdout.String(), "610424 乾县  persons 4")
	})
	cancel()
	if got, want := <-done, exitOK; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if strings.Contains(line, "610402 秦都区") && !strings.Contains(line, "persons 0  households 0  employment -") {
			t.Errorf("a line for an empty county shows something: %s", line)
		}
		if !strings.Contains(line, "  warnings 0  seq ") {
			t.Errorf("line without its warnings and log seq: %s", line)
		}
	}
	if n := strings.Count(stdout.String(), "610404 渭城区"); n != 1 {
		t.Errorf("渭城区 shown %d times, want once (it did not change)", n)
	}
}

func TestWatchCountyJSON(t *testing.T) {
	ctx := testContext(t)
	h, nc := villageHub(t, ctx)
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(watchCtx, []string{"watch", "--county", "610424", "--json", "--nats-url", h.ClientURL()}, &stdout, &stderr)
	}()
	waitFor(t, ctx, "the county", func() bool { return strings.Contains(stdout.String(), `"key":"county.610424"`) })
	if err := scenario.Publish(ctx, nc, []scenario.Item{newPerson(1)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the update", func() bool { return strings.Count(stdout.String(), "\n") >= 2 })
	cancel()
	if got, want := <-done, exitOK; got != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", got, want, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var last struct {
		Key  string        `json:"key"`
		View view.AreaView `json:"view"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("not JSON (%v): %s", err, lines[len(lines)-1])
	}
	if last.Key != "county.610424" || last.View.Indicators.Counts["persons"] != 4 {
		t.Errorf("last update: %s with %d persons, want county.610424 with 4", last.Key, last.View.Indicators.Counts["persons"])
	}
	for _, l := range lines {
		if !strings.Contains(l, `"key":"county.610424"`) {
			t.Errorf("an update of another area: %s", l)
		}
	}
}

func TestWatchUsage(t *testing.T) {
	ctx := testContext(t)
	for _, args := range [][]string{
		{"watch", "--county", "999999"},
		{"watch", "610424"},
	} {
		r := runCLI(ctx, args...)
		if got, want := r.code, exitUsage; got != want {
			t.Errorf("%v: exit code %d, want %d; stderr:\n%s", args, got, want, r.stderr)
		}
	}
	r := runCLI(ctx, "watch", "--nats-url", "nats://127.0.0.1:1")
	if got, want := r.code, exitRuntime; got != want {
		t.Errorf("no hub: exit code %d, want %d; stderr:\n%s", got, want, r.stderr)
	}
}
