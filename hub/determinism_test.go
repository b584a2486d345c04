package hub_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// town is a world with several households, some obligations unmet, so that
// rules have warnings to keep.
func town() []scenario.Item {
	items := scenario.Village(2021)
	for i := 2; i <= 30; i++ {
		id := fmt.Sprintf("H610424-%06d", i)
		members := []scenario.Member{{Key: scenario.Person(1000 + 3*i), Born: 1970 + i, Labour: "full"},
			{Key: scenario.Person(1001 + 3*i), Born: 2010, Labour: "student"}}
		hh := scenario.Household(id, scenario.VillageSite, 2021, members)
		if i%3 == 0 { // zero-employment households
			hh, _ = without(hh, "hr.employment")
		}
		if i%5 == 0 { // no deed yet
			hh, _ = without(hh, "resources.deeds")
		}
		items = append(items, hh...)
	}
	return items
}

func byDept(items []scenario.Item) (map[string][]scenario.Item, []string) {
	m := map[string][]scenario.Item{}
	var depts []string
	for _, it := range items {
		if _, ok := m[it.Dept]; !ok {
			depts = append(depts, it.Dept)
		}
		m[it.Dept] = append(m[it.Dept], it)
	}
	return m, depts
}

// TestInterleavingsGiveTheSameDigest publishes the same facts into two hubs,
// departments in parallel in one and one after another (in reverse order)
// in the other; with the same clock the views have the same digest.
func TestInterleavingsGiveTheSameDigest(t *testing.T) {
	items := town()
	at := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	m, depts := byDept(items)
	digest := func(parallel bool) string {
		h, nc, _ := ingestHub(t, t.TempDir(), nil)
		ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
		defer cancel()
		if parallel {
			var wg sync.WaitGroup
			for _, d := range depts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := scenario.Publish(ctx, nc, m[d]); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		} else {
			for i := len(depts) - 1; i >= 0; i-- {
				if err := scenario.Publish(ctx, nc, m[depts[i]]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := h.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
		return h.View().Digest()
	}
	a, b := digest(true), digest(false)
	if a != b {
		t.Fatalf("parallel departments give %s, sequential %s", a, b)
	}
}

// TestRebuildSnapshotIncremental: the view kept live, the view restored from
// a checkpoint plus the log's tail, and the view rebuilt from the whole log
// are the same.
func TestRebuildSnapshotIncremental(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	items := town()
	r := rand.New(rand.NewPCG(7, 7))
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	half := len(items) / 2
	var live string
	func() {
		h, nc, _ := ingestHub(t, dir, func(c *hub.Config) { c.SnapshotEvery = -1 })
		defer h.Close()
		if err := scenario.Publish(ctx, nc, items[:half]); err != nil {
			t.Fatal(err)
		}
		if err := h.Tick(ctx, time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
		if err := scenario.Publish(ctx, nc, items[half:]); err != nil {
			t.Fatal(err)
		}
		if err := h.Tick(ctx, time.Date(2021, 6, 2, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		live = h.View().Digest()
	}()
	restart := func(rebuild bool) (string, uint64) {
		h, _, _ := ingestHub(t, dir, func(c *hub.Config) { c.SnapshotEvery = -1; c.Rebuild = rebuild })
		defer h.Close()
		waitIdle(t, h)
		return h.View().Digest(), h.View().Seq()
	}
	fromSnapshot, seq := restart(false)
	rebuilt, _ := restart(true)
	if fromSnapshot != live || rebuilt != live {
		t.Fatalf("live %s, snapshot+tail %s, rebuild %s (log at %d)", live, fromSnapshot, rebuilt, seq)
	}
}
