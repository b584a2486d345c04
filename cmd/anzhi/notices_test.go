package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

// r4Items are the village with R4 broken (hrss's to fix, in 乾县) and every
// department alive at t0.
func r4Items(t0 time.Time) []scenario.Item {
	var depts []string
	for _, d := range schemas.MustLoad().Departments() {
		depts = append(depts, d.Code)
	}
	items := append(scenario.Village(t0.Year()), scenario.Alive(depts, t0)...)
	return append(items, scenario.Employed(scenario.Person(0), scenario.VillageHousehold, "unemployed", scenario.Day("2021-05-01")))
}

// watchUntil runs anzhi watch with args until its output contains want, then
// interrupts it and returns its output; the watch must end with exit 0.
func watchUntil(t *testing.T, want string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"watch"}, args...), &stdout, &stderr) }()
	waitFor(t, testContext(t), "the notice", func() bool {
		select {
		case code := <-done:
			t.Fatalf("watch ended with %d before printing %q:\n%s\nstderr:\n%s", code, want, stdout.String(), stderr.String())
		default:
		}
		return strings.Contains(stdout.String(), want)
	})
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("interrupted watch: exit %d, stderr:\n%s", code, stderr.String())
	}
	return stdout.String()
}

// TestWatchNotices: anzhi watch --dept prints a unit's notices, a line
// each or as JSON; the digest and deliveries read the API; an unknown unit
// is a usage error that says what units there are.
func TestWatchNotices(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, HTTPAddr: "127.0.0.1:0"})
	t0 := scenario.RuleClock(2021)
	if err := scenario.Publish(ctx, nc, r4Items(t0)); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitNotices(ctx); err != nil {
		t.Fatal(err)
	}
	url := h.ClientURL()
	out := watchUntil(t, "warning_raised", "--nats-url", url, "--dept", "hrss")
	for _, want := range []string{"2021-06-01 08:00:00  warning_raised  R4  household/" + scenario.VillageHousehold,
		"due 2021-07-01", "hrss,county/610424", "/household/" + scenario.VillageHousehold} {
		if !strings.Contains(out, want) {
			t.Errorf("watch --dept hrss:\n%s\nlacks %q", out, want)
		}
	}
	out = watchUntil(t, "\n", "--nats-url", url, "--dept", "county/610424", "--json")
	var ev subscribers.NoticeEvent
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &ev); err != nil || ev.Data.Dept != "county/610424" ||
		ev.Data.Warning == nil || (ev.Data.Warning.Rule != "R4" && ev.Data.Warning.Rule != "R23") {
		t.Errorf("watch --json: %s (%v)", out, err)
	}

	api := []string{"--api-url", "http://" + h.HTTPAddr()}
	r := runCLI(ctx, append([]string{"notices", "digest", "--dept", "hrss"}, api...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "新预警 new: 1") || !strings.Contains(r.stdout, "R4") ||
		!strings.Contains(r.stdout, "已升级 escalated: 0") {
		t.Errorf("notices digest: exit %d\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(ctx, append([]string{"notices", "digest", "--dept", "hrss", "--date", "2021-06-01", "--json"}, api...)...)
	var d subscribers.NoticeDigest
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || r.code != exitOK || len(d.New) != 1 {
		t.Errorf("notices digest --json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	r = runCLI(ctx, append([]string{"notices", "deliveries", "--dept", "hrss"}, api...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "no webhook") || !strings.Contains(r.stdout, "no deliveries") {
		t.Errorf("notices deliveries: exit %d\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--nats-url", url, "--dept", "nobody"}, `--dept "nobody" is not a responsible unit: departments agri`},
		{[]string{"watch", "--nats-url", url, "--dept", "610424"}, "the county government is county/610424"},
		{[]string{"watch", "--nats-url", url, "--dept", "hrss", "--county", "610424"}, "give one"},
		{append([]string{"notices", "digest"}, api...), "--dept is required"},
		{append([]string{"notices", "digest", "--dept", "hrss", "--date", "June"}, api...), `--date "June"`},
		{append([]string{"notices", "deliveries", "--dept", "hrss", "--limit", "0"}, api...), "--limit"},
	} {
		r := runCLI(ctx, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d saying %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
}

// TestWatchNoticesWithIdentities: a unit follows its notices with its own
// credentials; another unit's credentials are refused before connecting.
func TestWatchNoticesWithIdentities(t *testing.T) {
	ctx := testContext(t)
	dir, ids := hubtest.Identities(t)
	h, _, _ := hubtest.Start(t, hub.Config{TickEvery: -1, Identities: ids})
	t0 := scenario.RuleClock(2021)
	if err := scenario.PublishAs(ctx, h.ClientURL(), dir, r4Items(t0)); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitNotices(ctx); err != nil {
		t.Fatal(err)
	}
	out := watchUntil(t, "warning_raised", "--nats-url", h.ClientURL(), "--creds", filepath.Join(dir, "hrss.creds"), "--dept", "hrss")
	if !strings.Contains(out, "R4") {
		t.Errorf("hrss watching its notices:\n%s", out)
	}
	r := runCLI(ctx, "watch", "--nats-url", h.ClientURL(), "--creds", filepath.Join(dir, "edu.creds"), "--dept", "hrss")
	if r.code != exitUsage || !strings.Contains(r.stderr, "reads only its own notices") {
		t.Errorf("edu watching hrss's notices: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestHubWebhooksFile: a bad webhooks file stops the hub before it starts,
// saying what is wrong.
func TestHubWebhooksFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "webhooks.json")
	if err := os.WriteFile(file, []byte(`[{"dept": "nobody", "url": "https://x/y", "secret_file": "none"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(testContext(t), "hub", "--data", filepath.Join(dir, "data"), "--nats-listen", "127.0.0.1:0", "--http", "", "--webhooks", file)
	if r.code != exitUsage || !strings.Contains(r.stderr, `--webhooks: bad webhooks file`) || !strings.Contains(r.stderr, `"nobody": not a responsible unit`) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
