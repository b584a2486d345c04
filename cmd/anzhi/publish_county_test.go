package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
)

// TestPublishCountyBothPaths: publish --data and publish --file route a
// fact to the same county token, and refuse the same fact for the same
// reason when its county cannot be derived: one derivation
// (schemas.Catalog.CountyOf) behind both.
func TestPublishCountyBothPaths(t *testing.T) {
	ctx := testContext(t)
	h := startHub(t)
	dir := t.TempDir()
	noHousehold := enrolment(7)
	delete(noHousehold, "household_id")
	progress := func(dept string) map[string]any {
		return map[string]any{"task_id": "RL09-4", "department": dept, "status": "in_progress", "percent": 65, "reported_on": "2020-09-30"}
	}
	task := map[string]any{"task_id": "RL09-4", "annex_row": 9, "task_no": 4, "owner": "hrss", "title": "社区工厂",
		"target": "significant_progress", "status": "active"}

	for _, tt := range []struct {
		name    string
		dept    string
		family  string
		subject string // the CloudEvent subject
		data    map[string]any
		code    int
		token   string // the county token it is published on (exitOK)
		stderr  string // in the error output of both paths (exitRefused)
	}{
		{"county-level family, county in the data", "edu", "edu.enrolment", "", enrolment(8), exitOK, "610424", ""},
		{"county-level family, no county in the data", "edu", "edu.enrolment", "", noHousehold, exitRefused, "",
			"the county cannot be derived from the data: edu.enrolment names its county in household_id, and the data has none"},
		{"citywide family from a department", "drc", "plan.task", "", task, exitOK, "610400", ""},
		{"citywide family from a county government", "county/610424", "task.progress", "", progress("county/610424"), exitOK, "610424", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"data", "file"} {
				var args []string
				id := strings.ReplaceAll(tt.name, " ", "-") + "-" + path
				if path == "data" {
					args = []string{"--family", tt.family, "--time", "2020-09-01", "--id", id, "--data", string(raw)}
				} else {
					subject, _ := tt.data["person_key"].(string)
					if subject == "" {
						subject, _ = tt.data["task_id"].(string)
					}
					line := fact.Encode(nil, &fact.Outgoing{ID: id, Source: fact.SourceFor(tt.dept), Type: fact.TypeFor(tt.family),
						Subject: subject, Time: time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC), Data: raw})
					file := filepath.Join(dir, id+".jsonl")
					if err := os.WriteFile(file, append(line, '\n'), 0o600); err != nil {
						t.Fatal(err)
					}
					args = []string{"--file", file}
				}
				r := runCLI(ctx, append([]string{"publish", "--nats-url", h.ClientURL(), "--dept", tt.dept}, args...)...)
				if got, want := r.code, tt.code; got != want {
					t.Fatalf("--%s: exit code %d, want %d; stdout:\n%s\nstderr:\n%s", path, got, want, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stderr, tt.stderr) {
					t.Errorf("--%s: stderr does not contain %q:\n%s", path, tt.stderr, r.stderr)
				}
				if tt.code == exitOK {
					if got := factsOn(t, h, fact.FactSubject(tt.family, tt.token)); got < 1 {
						t.Errorf("--%s: no fact on %s; stdout:\n%s", path, fact.FactSubject(tt.family, tt.token), r.stdout)
					}
				}
			}
			if tt.code == exitOK {
				if got, want := factsOn(t, h, fact.FactSubject(tt.family, tt.token)), 2; got != want {
					t.Errorf("%d facts on %s, want %d (one from each path)", got, fact.FactSubject(tt.family, tt.token), want)
				}
			}
		})
	}
	facts, rejections := logState(t, ctx, h)
	if facts != 6 || rejections != 0 {
		t.Errorf("the log holds %d facts and %d rejections, want 6 and 0: a refused fact must not be sent", facts, rejections)
	}
}

// factsOn counts the facts of the canonical log on one subject, once the
// hub has judged everything sent.
func factsOn(t *testing.T, h *hub.Hub, subject string) int {
	t.Helper()
	ctx := testContext(t)
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Subjects[subject])
}
