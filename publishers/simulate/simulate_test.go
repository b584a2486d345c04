package simulate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers/simulate"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

func newSim(t *testing.T, cfg simulate.Config) *simulate.Sim {
	t.Helper()
	s, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonl(t *testing.T, s *simulate.Sim) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := simulate.WriteJSONL(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDeterministic(t *testing.T) {
	cfg := simulate.Config{Persons: 1500, Seed: 7}
	a, b := jsonl(t, newSim(t, cfg)), jsonl(t, newSim(t, cfg))
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different events")
	}
	if n := bytes.Count(a, []byte("\n")); n < 20000 {
		t.Fatalf("only %d events for 1500 persons", n)
	}
	cfg.Seed = 8
	if c := jsonl(t, newSim(t, cfg)); bytes.Equal(a, c) {
		t.Fatal("another seed gave the same events")
	}
	// Iterating the same Sim twice gives the same events too.
	s := newSim(t, simulate.Config{Persons: 300, Seed: 7})
	if x, y := jsonl(t, s), jsonl(t, s); !bytes.Equal(x, y) {
		t.Fatal("a second pass over the same Sim differs")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg       simulate.Config
		withError string
	}{
		{simulate.Config{Scale: "world"}, "is not xianyang"},
		{simulate.Config{From: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, "before"},
		{simulate.Config{Persons: -1}, "positive"},
	}
	for _, tt := range tests {
		if _, err := simulate.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.withError) {
			t.Errorf("New(%+v) = %v, want an error with %q", tt.cfg, err, tt.withError)
		}
	}
}

// TestEventsValid checks every event against the hub's validator: good
// events pass, bad ones fail for their flaw, and ids are unique.
func TestEventsValid(t *testing.T) {
	cat := schemas.MustLoad()
	v := fact.NewValidator(cat, 0)
	s := newSim(t, simulate.Config{Persons: 1200, Seed: 3, BadRate: 0.01})
	ids := map[string]bool{}
	flaws := map[string]int{}
	want := map[string]schemas.Reason{simulate.FlawSchema: schemas.ReasonSchema, simulate.FlawPosing: schemas.ReasonNotAllowed,
		simulate.FlawIDNumber: schemas.ReasonIDNumber}
	for ev := range s.Events {
		key := ev.Source + " " + ev.Fact.ID
		if ids[key] {
			t.Fatalf("id %s is used twice", key)
		}
		ids[key] = true
		body := s.Encode(nil, ev)
		vd := v.Check(fact.Message{Subject: ev.Subject, Header: map[string][]string{"Content-Type": {fact.ContentType}}, Data: body})
		switch {
		case !ev.Bad && !vd.OK():
			t.Fatalf("good event refused: %v\n%s", vd.Err(ev.Subject), body)
		case ev.Bad && vd.OK():
			t.Fatalf("bad event (%s) accepted:\n%s", ev.Flaw, body)
		case ev.Bad:
			flaws[ev.Flaw]++
			found := false
			for _, x := range vd.Violations {
				found = found || x.Reason == want[ev.Flaw]
			}
			if !found {
				t.Errorf("bad event (%s) refused for %v, want %s", ev.Flaw, vd.Violations, want[ev.Flaw])
			}
		}
		if ev.Reported.Before(ev.Fact.Time) {
			t.Errorf("event %s reported before it took effect", ev.Fact.ID)
		}
	}
	for flaw := range want {
		if flaws[flaw] == 0 {
			t.Errorf("no bad event with flaw %s", flaw)
		}
	}
}

// TestDistribution checks the Xianyang world against the numbers it
// states: 50,000 persons in ≈15,000 households and 150 sites of a realistic
// size distribution, each county with its share, and every department's
// facts.
func TestDistribution(t *testing.T) {
	cat := schemas.MustLoad()
	s := newSim(t, simulate.Config{Seed: 1})
	type site struct{ persons, households int }
	var (
		families             = map[string]int{}
		personsBy            = map[string]int{}
		sites                = map[string]*site{}
		kinds                = map[string]int{}
		events, bad, persons int
		households           int
	)
	for ev := range s.Events {
		events++
		if ev.Bad {
			bad++
			continue
		}
		families[ev.Fact.Family]++
		var d map[string]any
		switch ev.Fact.Family {
		case "registry.person":
			persons++
			personsBy[ev.Fact.County]++
		case "registry.household":
			households++
			_ = json.Unmarshal(ev.Fact.Data.(json.RawMessage), &d)
			sites[d["site_id"].(string)].households++
			sites[d["site_id"].(string)].persons += int(d["size"].(float64))
		case "registry.site":
			_ = json.Unmarshal(ev.Fact.Data.(json.RawMessage), &d)
			if d["status"] == "occupied" {
				sites[ev.Fact.Subject] = &site{}
				kinds[d["kind"].(string)]++
			}
		}
	}
	if persons != 50_000 {
		t.Errorf("persons = %d, want 50000", persons)
	}
	if households < 14_000 || households > 16_500 {
		t.Errorf("households = %d, want ≈15,000", households)
	}
	if n := len(sites); n < 140 || n > 160 {
		t.Errorf("sites = %d, want ≈150", n)
	}
	big, small := 0, 0
	for _, st := range sites {
		if st.persons >= 800 && st.households >= 300 {
			big++
		}
		if st.persons < 150 {
			small++
		}
	}
	if big < 3 || big > 30 {
		t.Errorf("%d sites have ≥800 persons and ≥300 households, want a few (3-30)", big)
	}
	if small < len(sites)/4 {
		t.Errorf("only %d of %d sites have fewer than 150 persons", small, len(sites))
	}
	if kinds["dispersed"] < 15 || kinds["centralized"] < 60 {
		t.Errorf("site kinds %v", kinds)
	}
	// Each county has its share of the persons (the north most).
	shares := map[string]float64{"610402": 2, "610403": 1, "610404": 2, "610422": 4, "610423": 5, "610424": 8, "610425": 7,
		"610426": 12, "610428": 10, "610429": 14, "610430": 14, "610431": 4, "610481": 3, "610482": 14}
	for _, k := range cat.Counties() {
		want := 50_000 * shares[k.Code] / 100
		if got := float64(personsBy[k.Code]); got < want*0.98 || got > want*1.02 {
			t.Errorf("county %s %s has %.0f persons, want %.0f ±2%%", k.Code, k.Name, got, want)
		}
	}
	// Every department's families, in plausible numbers.
	bounds := map[string][2]float64{ // per person
		"health.coverage": {12, 14.2}, "police.hukou": {0.85, 1}, "edu.enrolment": {0.5, 1.2}, "hr.employment": {0.35, 0.7},
		"hr.training": {0.03, 0.12}, "hr.pension": {0.5, 0.9}, "resources.deeds": {0.8, 1}, "resources.reclamation": {0.8, 1},
		"resources.landrights": {0.29, 0.32}, "civil.assistance": {0.05, 0.15}, "industry.benefit": {0.15, 0.2},
	}
	for fam, b := range bounds {
		if r := float64(families[fam]) / float64(persons); r < b[0] || r > b[1] {
			t.Errorf("%s: %.2f per person, want %.2f-%.2f", fam, r, b[0], b[1])
		}
	}
	for _, fam := range []string{"registry.site", "forestry.rights", "housing.quality", "infra.water", "infra.power", "infra.road",
		"infra.gas", "infra.telecom", "infra.sewage", "infra.sanitation", "infra.heating", "health.facility", "edu.capacity",
		"industry.park", "hr.workshop", "hr.projectjobs", "commerce.ecommerce", "org.partybranch", "civil.community",
		"justice.consultation", "finance.funds", "plan.task", "plan.meeting", "task.progress", "issue.report", "plan.assessment",
		"audit.finding", "inspect.finding"} {
		if families[fam] == 0 {
			t.Errorf("no %s facts", fam)
		}
	}
	tasks := 0
	for _, row := range cat.Responsibilities() {
		tasks += len(row.Tasks)
	}
	if n := families["plan.task"]; n != tasks || len(cat.Responsibilities()) != 25 {
		t.Errorf("plan.task: %d tasks, want the annex's %d in 25 rows", n, tasks)
	}
	// Joint meetings: 24 quarters 2020Q1-2025Q4, three missed.
	if n := families["plan.meeting"]; n != 21 {
		t.Errorf("plan.meeting: %d meetings, want 21", n)
	}
	if r := float64(bad) / float64(events); r < 0.0005 || r > 0.0015 {
		t.Errorf("bad events: %d of %d (%.3f%%), want ≈0.1%%", bad, events, 100*r)
	}
	t.Logf("%d events, %d bad, %d sites (%d big), %d households, %d persons", events, bad, len(sites), big, households, persons)
}

// TestNationalBoundedMemory generates the start of the national scale and
// checks that the heap stays bounded while the events grow.
func TestNationalBoundedMemory(t *testing.T) {
	s := newSim(t, simulate.Config{Scale: simulate.ScaleNational})
	if sites, persons := s.Sites(); sites < 34_000 || sites > 36_000 || persons != 9_600_000 {
		t.Fatalf("national world: %d sites, %d persons", sites, persons)
	}
	const limit = 200 << 20
	var ms runtime.MemStats
	n, peak := 0, uint64(0)
	for ev := range s.Events {
		_ = s.Encode(nil, ev)
		n++
		if n%25_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			if ms.HeapInuse > limit {
				t.Fatalf("after %d events the heap holds %d MiB", n, ms.HeapInuse>>20)
			}
		}
		if n == 200_000 {
			break
		}
	}
	if n != 200_000 {
		t.Fatalf("only %d events", n)
	}
	t.Logf("200,000 national events, peak heap in use %d MiB", peak>>20)
}

// TestHubJudgesSimulation publishes a small simulation into a real hub: the
// bad events are rejected, everything else is accepted.
func TestHubJudgesSimulation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, nc, _ := hubtest.Start(t, hub.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	// 400 persons in 14 sites: ≈9,000 events, ≈90 of them bad (a small
	// world: the hub's rules are slow under the race detector).
	s := newSim(t, simulate.Config{Persons: 400, Seed: 11, BadRate: 0.01, From: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	bad := map[string]string{} // source id → flaw
	good := 0
	sum, err := simulate.Publish(ctx, nc, s, simulate.PublishOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnEvent: func(ev simulate.Event) {
			if ev.Bad {
				bad[ev.Fact.ID] = ev.Flaw
			} else {
				good++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Invalid != 0 || sum.Failed != 0 || sum.BadFailed != 0 || sum.Duplicates != 0 {
		t.Fatalf("publish summary %+v", sum)
	}
	if sum.Published != good || sum.Bad != len(bad) || len(bad) < 30 {
		t.Fatalf("published %d good (want %d) and %d bad (want %d, at least 30)", sum.Published, good, sum.Bad, len(bad))
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if facts, rejected := hubtest.LogCounts(t, nc); facts != good || rejected != len(bad) {
		t.Errorf("log holds %d facts and %d rejections, want %d and %d", facts, rejected, good, len(bad))
	}
	js, _ := jetstream.New(nc)
	rej, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != len(bad) {
		t.Errorf("%d rejections, want %d", len(rej), len(bad))
	}
	want := map[string]schemas.Reason{simulate.FlawSchema: schemas.ReasonSchema, simulate.FlawPosing: schemas.ReasonNotAllowed,
		simulate.FlawIDNumber: schemas.ReasonIDNumber}
	for _, r := range rej {
		flaw, ok := bad[r.ID]
		if !ok {
			t.Errorf("good event %s rejected: %v", r.ID, r.Violations)
			continue
		}
		if r.Violations[0].Reason != want[flaw] {
			t.Errorf("bad event %s (%s) rejected for %v", r.ID, flaw, r.Violations)
		}
		if idcard.Contains([]byte(r.Body)) {
			t.Errorf("rejection %s keeps a raw ID number", r.ID)
		}
	}
}
