package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/bench"
)

// TestSmoke runs both benchmarks on tiny inputs: the harness works and
// reports what it should. The figures themselves come from anzhi bench.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := bench.Ingest(ctx, bench.Config{N: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Measurements) != 5 || len(rep.Ratios) != 1 || rep.Ratios[0].Value <= 0 || rep.EventBytes < 300 {
		t.Errorf("ingest report: %+v", rep)
	}
	if len(rep.Ceilings) != 3 {
		t.Errorf("ingest ceilings: %+v", rep.Ceilings)
	}
	for _, m := range rep.Measurements {
		if m.Rate <= 0 || len(m.Seconds) != 1 {
			t.Errorf("measurement %q: %+v", m.Name, m)
		}
	}
	for _, c := range rep.Ceilings {
		if c.Value <= 0 {
			t.Errorf("ceiling %q: %v", c.Name, c.Value)
		}
	}
	vrep, res, err := bench.View(ctx, bench.Config{}, 4000)
	if err != nil {
		t.Fatal(err)
	}
	if len(vrep.Ratios) != 1 || res.RebuildRate <= 0 || res.RawReplayRate <= 0 || res.RestartSeconds <= 0 {
		t.Errorf("view report: %+v %+v", vrep, res)
	}
	if res.LatencyP99 <= 0 || len(res.HTTP) != 4 {
		t.Errorf("view detail: %+v", res)
	}
}
