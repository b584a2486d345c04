package hub_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
)

// Benchmarks: /api/v1/city and /api/v1/counties/{code} under parallel
// requests, on worlds of growing size; each reports the latency percentiles
// the issue sets a target for (p99 ≤ 2 ms, flat as the log grows). Three
// measures side by side: over the hub's real listener with an HTTP client
// in the same process (listener), the hub's handler alone (handler), and a
// bare net/http server answering the same bytes (static) — what the machine
// gives any Go HTTP server, the floor of the listener figures.

func BenchmarkHTTPCity(b *testing.B) {
	benchHTTP(b, func(int) string { return "/api/v1/city" })
}

func BenchmarkHTTPCounty(b *testing.B) {
	codes := []string{}
	for _, k := range schemas.MustLoad().Counties() {
		codes = append(codes, k.Code)
	}
	benchHTTP(b, func(i int) string { return "/api/v1/counties/" + codes[i%len(codes)] })
}

func benchHTTP(b *testing.B, path func(i int) string) {
	for _, households := range []int{500, 4000} {
		b.Run(fmt.Sprintf("households=%d", households), func(b *testing.B) {
			h, base := benchWorld(b, households)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer client.CloseIdleConnections()
			get := func(u string) error {
				res, err := client.Get(u)
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("GET %s: status %d", u, res.StatusCode)
				}
				return nil
			}
			b.Run("listener", func(b *testing.B) {
				benchLatency(b, func(i int) error { return get(base + path(i)) })
			})
			handler := h.Handler()
			b.Run("handler", func(b *testing.B) {
				benchLatency(b, func(i int) error {
					rec := httptest.NewRecorder()
					handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path(i), nil))
					if rec.Code != http.StatusOK {
						return fmt.Errorf("status %d", rec.Code)
					}
					return nil
				})
			})
			body := do(b, http.MethodGet, base+path(0)).body
			static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_, _ = w.Write(body)
			}))
			defer static.Close()
			b.Run("static", func(b *testing.B) {
				benchLatency(b, func(int) error { return get(static.URL + "/") })
			})
		})
	}
}

// benchLatency runs do from 4×GOMAXPROCS goroutines and reports the
// 50th and 99th percentiles of its duration.
func benchLatency(b *testing.B, do func(i int) error) {
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			start := time.Now()
			if err := do(i); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		all = append(all, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(float64(len(all))*p))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// benchWorld starts a hub holding a site per county and the given number of
// households (three members each) spread over the counties, and returns
// its HTTP base URL.
func benchWorld(b *testing.B, households int) (*hub.Hub, string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	h, err := hub.Start(ctx, hub.Config{DataDir: b.TempDir(), NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		TickEvery: -1, SnapshotEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	counties := schemas.MustLoad().Counties()
	worlds := make([][]scenario.Item, len(counties))
	for i, k := range counties {
		site := "S" + k.Code + "-0001"
		worlds[i] = append(worlds[i], scenario.Site(site, k.Code, households/len(counties)+1, 3*(households/len(counties)+1)))
		worlds[i] = append(worlds[i], scenario.Services(site, k.Code)...)
	}
	for n := 0; n < households; n++ {
		i := n % len(counties)
		k := counties[i]
		worlds[i] = append(worlds[i], scenario.Household(fmt.Sprintf("H%s-%06d", k.Code, n+1), "S"+k.Code+"-0001", 2021,
			[]scenario.Member{{Key: scenario.Person(3 * n), Born: 1980, Labour: "full"},
				{Key: scenario.Person(3*n + 1), Born: 1982, Labour: "weak"},
				{Key: scenario.Person(3*n + 2), Born: 2012, Labour: "student"}})...)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(worlds))
	for _, w := range worlds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- scenario.Publish(ctx, nc, w)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := h.Tick(ctx, time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	if got, want := h.View().Stats().Households, households; got != want {
		b.Fatalf("%d households in the view, want %d", got, want)
	}
	return h, "http://" + h.HTTPAddr()
}
