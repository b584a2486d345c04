package bench

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers/simulate"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// logWriter yields log entries: subject on anzhi.fact.>, intake time, body.
type logWriter func(yield func(subject string, received time.Time, body []byte) bool)

// foldLog folds log entries into a fresh view, in order and in batches, the
// way the hub's rebuild does.
func foldLog(t *testing.T, cat *schemas.Catalog, each logWriter) *view.View {
	t.Helper()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]view.LogEntry, 0, 1024)
	var seq uint64
	var derr error
	each(func(subject string, received time.Time, body []byte) bool {
		seq++
		var h map[string][]string
		if !received.IsZero() {
			h = map[string][]string{fact.HeaderReceived: {received.UTC().Format(time.RFC3339Nano)}}
		}
		e, err := fact.DecodeEntry(seq, subject, h, append([]byte(nil), body...))
		if err != nil {
			derr = err
			return false
		}
		batch = append(batch, view.LogEntry{Entry: e})
		if len(batch) == cap(batch) {
			v.ApplyLog(batch)
			batch = batch[:0]
		}
		return true
	})
	if derr != nil {
		t.Fatal(derr)
	}
	v.ApplyLog(batch)
	return v
}

// tickEntry is the hub's clock entry at a time.
func tickEntry(at time.Time) (string, []byte) {
	return fact.FactSubjectPrefix + "hub.tick.610400", fact.Encode(nil, &fact.Outgoing{ID: "tick-" + at.Format(time.RFC3339),
		Source: "/xianyang/hub", Type: "cn.gov.xianyang.hub.tick", Subject: "hub", Time: at,
		Data: []byte(`{"at":"` + at.UTC().Format(time.RFC3339Nano) + `"}`)})
}

// simulated is the good events of a seeded simulation in the order they
// are generated; with ticks, they come in the order departments report
// them, each recorded when reported, with the hub's clock ticking on the
// first of every month in between, so that every rule is swept.
func simulated(s *simulate.Sim, ticks bool) logWriter {
	return func(yield func(string, time.Time, []byte) bool) {
		var evs []simulate.Event
		for ev := range s.Events {
			if !ev.Bad {
				evs = append(evs, ev)
			}
		}
		if ticks {
			slices.SortStableFunc(evs, func(a, b simulate.Event) int { return a.Reported.Compare(b.Reported) })
		}
		var buf []byte
		var next time.Time
		for _, ev := range evs {
			if ticks {
				if next.IsZero() {
					next = time.Date(ev.Reported.Year(), ev.Reported.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
				}
				for !ev.Reported.Before(next) {
					subj, body := tickEntry(next)
					if !yield(subj, next, body) {
						return
					}
					next = next.AddDate(0, 1, 0)
				}
			}
			buf = s.Encode(buf[:0], ev)
			var rec time.Time
			if ticks {
				rec = ev.Reported
			}
			if !yield(fact.FactSubjectPrefix+ev.Subject, rec, buf) {
				return
			}
		}
		if ticks {
			subj, body := tickEntry(next)
			yield(subj, next, body)
		}
	}
}

// benchWorld is anzhi bench's world of n persons, optionally followed by
// one tick of the hub's clock.
func benchWorld(cat *schemas.Catalog, n int, tick bool) logWriter {
	return func(yield func(string, time.Time, []byte) bool) {
		ok := true
		NewWorld(cat, n).each(func(subject string, body []byte) bool {
			ok = yield(subject, time.Time{}, body)
			return ok
		})
		if ok && tick {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			subj, body := tickEntry(at)
			yield(subj, at, body)
		}
	}
}

// TestViewDigestOfFixedWorlds pins the view digest of fixed seeded worlds,
// measured on the view before it was made table-driven: a change to the
// view that changes what it folds, indicates or warns about changes a
// digest. The 1M-person world runs with ANZHI_LONG=1.
func TestViewDigestOfFixedWorlds(t *testing.T) {
	cat, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	sim := func() *simulate.Sim {
		s, err := simulate.New(simulate.Config{Persons: 5000, Seed: 1, Catalog: cat, BadRate: -1})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name  string
		world func() logWriter
		long  bool
		want  string
		// wantWarnings is the SHA-256 of the JSON of every open warning.
		wantWarnings string
	}{
		{"simulated 5000 persons, folded", func() logWriter { return simulated(sim(), false) }, false, "c0dc47f42d0e7f6f3dfdd51cfd24d3f7bc4a2bc7d5001c6319a635e2ec84ba8f", "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"},
		{"simulated 5000 persons, reported over time with monthly ticks", func() logWriter { return simulated(sim(), true) }, false, "97a5a4208d021dfa213fc2ad29202ada4b41a8cddfdacd65cff79d9fc395f812", "0693ae11ac5154ca4106396363f06c149d460499ed51f833fc6c7bff234002d6"},
		{"bench 100k persons", func() logWriter { return benchWorld(cat, 100_000, false) }, false, "ed17aa82a3f2a9a798e94656a71e57d4059cfdff7ec8941fadb23dd8a9553669", "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"},
		{"bench 100k persons and a tick", func() logWriter { return benchWorld(cat, 100_000, true) }, false, "6e04706dc28b000b03c51fecd13a526b3506ba80545d0e2e19bcfb22ab7468ba", "2de846c67cf6a91a7aefe99c8e4c14461fa10cd425bec0c99ac815b3dd969773"},
		{"bench 1M persons", func() logWriter { return benchWorld(cat, 1_000_000, false) }, true, "2adfcb0d19f89900d78c9a6298b662d65dd04d8c1a0e087a513dca8113595d5f", "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.long && os.Getenv("ANZHI_LONG") == "" {
				t.Skip("set ANZHI_LONG=1 to fold the 1M-person world")
			}
			if testing.Short() && tc.long {
				t.Skip("short mode")
			}
			v := foldLog(t, cat, tc.world())
			if got := v.Digest(); got != tc.want {
				t.Errorf("digest %s, want %s", got, tc.want)
			}
			// The read side too: every open warning as the API shows it,
			// its responsible units, message and evidence included.
			ws := v.Warnings(view.WarningQuery{})
			b, err := json.Marshal(ws)
			if err != nil {
				t.Fatal(err)
			}
			rules := map[string]int{}
			for _, w := range ws {
				rules[w.Rule]++
			}
			if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != tc.wantWarnings {
				t.Errorf("%d warnings of %d rules %v hash to %s, want %s", len(ws), len(rules), rules, got, tc.wantWarnings)
			}
		})
	}
}
