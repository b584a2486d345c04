package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
)

// TestViewWarnings lists the open warnings of a hub holding the village
// after R4 broke, and after forty silent days (R18 for every department).
func TestViewWarnings(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, HTTPAddr: "127.0.0.1:0"})
	api := []string{"--api-url", "http://" + h.HTTPAddr()}
	t0 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	var depts []string
	for _, d := range schemas.MustLoad().Departments() {
		depts = append(depts, d.Code)
	}
	if err := scenario.Publish(ctx, nc, append(scenario.Village(2021), scenario.Alive(depts, t0)...)); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	r := runCLI(ctx, append([]string{"view", "warnings"}, api...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "无预警 no open warnings\n") {
		t.Errorf("before anything broke: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	breaks := []scenario.Item{scenario.Employed(scenario.Person(0), scenario.VillageHousehold, "unemployed", scenario.Day("2021-05-01"))}
	if err := scenario.Publish(ctx, nc, breaks); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0.Add(18*time.Hour)); err != nil { // 2021-06-01 18:00 UTC is 06-02 02:00 in China
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		not    []string
		stderr string
	}{
		{"all", nil, exitOK, []string{"预警 open warnings: 2\n", "R23", "county/610424", "rule", "responsible", "raised (CST)", "due", "supervision",
			"R4", scenario.VillageHousehold, "610424", "hrss", "2021-06-02 02:00", "2021-07-02", "open"}, nil, ""},
		{"by rule and county", []string{"--rule", "R4", "--county", "610424", "--state", "open", "--dept", "hrss"}, exitOK,
			[]string{"预警 open warnings (county 610424, rule R4, dept hrss, state open): 1", scenario.VillageHousehold}, nil, ""},
		{"none in another county", []string{"--county", "610402"}, exitOK,
			[]string{"无预警 no open warnings (county 610402)"}, []string{"R4"}, ""},
		{"none escalated", []string{"--state", "escalated"}, exitOK, []string{"no open warnings (state escalated)"}, nil, ""},
		{"bad state", []string{"--state", "closed"}, exitUsage, nil, nil, `--state "closed": want open, acknowledged, escalated`},
		{"bad county", []string{"--county", "999999"}, exitUsage, nil, nil, `--county "999999": not a county of 咸阳市`},
		{"bad rule", []string{"--rule", "R99"}, exitUsage, nil, nil, `--rule "R99": not a rule`},
		{"bad dept", []string{"--dept", "nobody"}, exitUsage, nil, nil, "--dept"},
		{"bad limit", []string{"--limit", "0"}, exitUsage, nil, nil, "--limit must be from 1 to 10000"},
		{"argument", []string{"R4"}, exitUsage, nil, nil, "unknown command"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, append(append([]string{"view", "warnings"}, tt.args...), api...)...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout contains %q:\n%s", s, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, r.stderr)
			}
		})
	}

	// Forty days on every department has been silent: R18 for each.
	if err := h.Tick(ctx, t0.AddDate(0, 0, 40)); err != nil {
		t.Fatal(err)
	}
	t.Run("limit", func(t *testing.T) {
		r := runCLI(ctx, append([]string{"view", "warnings", "--rule", "R18", "--limit", "2"}, api...)...)
		if r.code != exitOK || !strings.Contains(r.stdout, "(rule R18): 2+ (more follow") || strings.Count(r.stdout, "\nR18 ") != 2 {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := runCLI(ctx, append([]string{"view", "warnings", "--rule", "R18", "--limit", "3", "--json"}, api...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != exitOK || len(lines) != 3 {
			t.Fatalf("exit %d, %d lines:\n%s\nstderr:\n%s", r.code, len(lines), r.stdout, r.stderr)
		}
		for _, l := range lines {
			var w struct {
				Rule     string `json:"rule"`
				RaisedAt string `json:"raised_at"`
				Evidence []any  `json:"evidence"`
			}
			if err := json.Unmarshal([]byte(l), &w); err != nil || w.Rule != "R18" || !strings.HasSuffix(w.RaisedAt, "+08:00") {
				t.Errorf("line %s: %+v (%v), want an R18 warning raised in China time", l, w, err)
			}
		}
	})
	t.Run("escalated R4", func(t *testing.T) {
		r := runCLI(ctx, append([]string{"view", "warnings", "--rule", "R4"}, api...)...)
		if r.code != exitOK || !strings.Contains(r.stdout, "escalated") {
			t.Errorf("R4 past due: exit %d, stdout:\n%s", r.code, r.stdout)
		}
	})
}

func TestViewWarningsNoHub(t *testing.T) {
	r := runCLI(testContext(t), "view", "warnings", "--api-url", "http://127.0.0.1:1")
	if r.code != exitRuntime || !strings.Contains(r.stderr, "the hub's HTTP API cannot be reached") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = runCLI(testContext(t), "view", "warnings", "--api-url", "127.0.0.1:8080")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--api-url") {
		t.Errorf("no scheme: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestViewPartlyKnown: a household known only through an enrolment, before
// the hub has recorded its clock, reads as such in anzhi view.
func TestViewPartlyKnown(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1})
	url := []string{"--nats-url", h.ClientURL()}
	const hh = "H610424-000123"
	cst := time.FixedZone("CST", 8*3600)
	if err := scenario.Publish(ctx, nc, []scenario.Item{
		scenario.Enrolment(scenario.Person(7), hh, "enrolled", time.Date(2020, 9, 1, 0, 0, 0, 0, cst))}); err != nil {
		t.Fatal(err)
	}
	var r result
	waitFor(t, ctx, "the household in the view bucket", func() bool {
		r = runCLI(ctx, append([]string{"view", "household", hh}, url...)...)
		return r.code == exitOK
	})
	for _, s := range []string{"未登记 not yet registered · size - · labour -",
		"注 note: not yet registered: known only through facts about its members", "members 成员: 1"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("household: stdout does not contain %q:\n%s", s, r.stdout)
		}
	}
	waitFor(t, ctx, "the city with the household", func() bool {
		r = runCLI(ctx, append([]string{"view", "city"}, url...)...)
		return strings.Contains(r.stdout, "households 1 (registered 0, not yet 1)")
	})
	for _, s := range []string{"as of - ·", "注 note: as_of absent", "人 persons 1 (registered 0, not yet 1)"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("city: stdout does not contain %q:\n%s", s, r.stdout)
		}
	}
	r = runCLI(ctx, append([]string{"view", "household", hh, "--json"}, url...)...)
	if !strings.Contains(r.stdout, `"effective_on": "2020-09-01"`) || !strings.Contains(r.stdout, `"time": "2020-09-01T00:00:00+08:00"`) {
		t.Errorf("household JSON does not show the enrolment's date as written:\n%s", r.stdout)
	}
}
