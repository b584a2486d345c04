package bench

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHubCPU measures CPU per event of the hub ingest and of raw publishing
// (set BENCH_N); it explains ratios, it does not judge them.
func TestHubCPU(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BENCH_N"))
	if n == 0 {
		t.Skip()
	}
	cat := schemas.MustLoad()
	ev := NewEvents(cat, n)
	c0 := cpuNow()
	d, err := hubIngest(context.Background(), t.TempDir(), n, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cpuNow() - c0
	t.Logf("hub: %v wall, %v cpu (%.0f%%), %.1f µs cpu/event, %.0f/s", d, c, 100*c.Seconds()/d.Seconds(), float64(c.Microseconds())/float64(n), float64(n)/d.Seconds())
	c0 = cpuNow()
	d, err = rawPublish(context.Background(), t.TempDir(), n, ev, cat)
	if err != nil {
		t.Fatal(err)
	}
	c = cpuNow() - c0
	t.Logf("raw: %v wall, %v cpu (%.0f%%), %.1f µs cpu/event, %.0f/s", d, c, 100*c.Seconds()/d.Seconds(), float64(c.Microseconds())/float64(n), float64(n)/d.Seconds())
}
