package main

import (
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// TestViewAsOf shows a household whose child's September enrolment was
// reported in November: not enrolled as the hub knew it in October,
// enrolled effective September as known now.
func TestViewAsOf(t *testing.T) {
	ctx := testContext(t)
	h, nc, _ := hubtest.Start(t, hub.Config{TickEvery: -1, HTTPAddr: "127.0.0.1:0"})
	api := []string{"--api-url", "http://" + h.HTTPAddr()}
	world, enrolments := scenario.Without(scenario.Village(2021), "edu.enrolment")
	if err := scenario.Publish(ctx, nc, world); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, scenario.Day("2021-10-20")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	october := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	if err := scenario.Publish(ctx, nc, []scenario.Item{scenario.At(enrolments[0], scenario.Day("2021-09-01"))}); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, scenario.Day("2021-11-10")); err != nil {
		t.Fatal(err)
	}
	eduLine := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "compulsory_edu") {
				return strings.Join(strings.Fields(l), " ")
			}
		}
		return ""
	}
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"as of October", []string{"household", scenario.VillageHousehold, "--as-of", october}, exitOK,
			[]string{"截至 cut: as the hub knew it at " + october, "compulsory_edu 0/1 ✗"}, ""},
		{"effective September", []string{"household", scenario.VillageHousehold, "--effective", "2021-09-30"}, exitOK,
			[]string{"facts in effect by 2021-09-30", "compulsory_edu 1/1 ✓"}, ""},
		{"as of October about September", []string{"household", scenario.VillageHousehold, "--as-of", october, "--effective", "2021-09-30"}, exitOK,
			[]string{"compulsory_edu 0/1 ✗"}, ""},
		{"county", []string{"county", "610424", "--as-of", october}, exitOK, []string{"乾县"}, ""},
		{"digest", []string{"digest", "--as-of", "3"}, exitOK, []string{"log seq 3", "视图摘要 view digest"}, ""},
		{"bad as-of", []string{"city", "--as-of", "last week"}, exitUsage, nil, "--as-of: want a log sequence or"},
		{"bad effective", []string{"city", "--effective", "2021-02-30"}, exitUsage, nil, "--effective"},
		{"beyond the log", []string{"city", "--as-of", "999999"}, exitRuntime, nil, "as_of"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(ctx, append(append([]string{"view"}, tt.args...), api...)...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) && !strings.Contains(eduLine(r.stdout), s) {
					t.Errorf("stdout does not contain %q:\n%s", s, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, r.stderr)
			}
		})
	}
	r := runCLI(ctx, append([]string{"view", "warnings", "--as-of", october}, api...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "R6") {
		t.Errorf("warnings as of October: exit %d, want R6 open:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
