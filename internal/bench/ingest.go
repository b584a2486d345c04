package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// Config sets what a benchmark run does.
type Config struct {
	// N is the number of events per measurement (default 1,000,000).
	N int
	// Runs repeats each measurement; the report gives medians (default 1).
	Runs int
	// Dir is a scratch directory (default: a new temporary directory,
	// removed afterwards).
	Dir string
	// Progress, when set, receives one line per step.
	Progress func(string)
	Logger   *slog.Logger
}

// Measurement is one figure of the report.
type Measurement struct {
	Name    string    `json:"name"`
	Events  int       `json:"events"`
	Seconds []float64 `json:"seconds"` // one per run
	Rate    float64   `json:"rate"`    // events per second, median run
}

// Report is the outcome of a benchmark run.
type Report struct {
	Date         string        `json:"date"`
	Machine      string        `json:"machine"`
	CPUs         int           `json:"cpus"`
	Go           string        `json:"go"`
	NATSServer   string        `json:"nats_server"`
	EventBytes   float64       `json:"event_bytes"`
	Measurements []Measurement `json:"measurements"`
	Ratios       []Ratio       `json:"ratios"`
}

// Ratio compares two measurements against a target.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
}

func (c *Config) defaults() (cleanup func(), err error) {
	if c.N <= 0 {
		c.N = 1_000_000
	}
	if c.Runs <= 0 {
		c.Runs = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if c.Progress == nil {
		c.Progress = func(string) {}
	}
	cleanup = func() {}
	if c.Dir == "" {
		dir, err := os.MkdirTemp("", "anzhi-bench-")
		if err != nil {
			return nil, err
		}
		c.Dir = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	return cleanup, nil
}

// Ingest measures raw JetStream async publishing with Nats-Msg-Id into a bare
// stream against the hub's ingest (publisher library → intake → validated and
// logged by the hub), on the same events, and reports the ratio.
func Ingest(ctx context.Context, cfg Config) (*Report, error) {
	cleanup, err := cfg.defaults()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cat, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	cfg.Progress(fmt.Sprintf("generating %d events", cfg.N))
	ev := NewEvents(cat, cfg.N)
	rep := newReport(ev)
	raw := Measurement{Name: "raw JetStream async publish with Nats-Msg-Id", Events: cfg.N}
	ing := Measurement{Name: "hub ingest (publisher library → intake → validated, logged)", Events: cfg.N}
	for run := 0; run < cfg.Runs; run++ {
		cfg.Progress(fmt.Sprintf("run %d/%d: raw JetStream publish of %d events", run+1, cfg.Runs, cfg.N))
		d, err := rawPublish(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("raw-%d", run)), cfg.N, ev, cat)
		if err != nil {
			return nil, fmt.Errorf("raw publish: %w", err)
		}
		raw.Seconds = append(raw.Seconds, d.Seconds())
		cfg.Progress(fmt.Sprintf("run %d/%d: hub ingest of %d events", run+1, cfg.Runs, cfg.N))
		d, err = hubIngest(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("hub-%d", run)), cfg.N, ev, cfg.Logger)
		if err != nil {
			return nil, fmt.Errorf("hub ingest: %w", err)
		}
		ing.Seconds = append(ing.Seconds, d.Seconds())
	}
	raw.Rate = rate(raw)
	ing.Rate = rate(ing)
	rep.Measurements = append(rep.Measurements, raw, ing)
	rep.ratio("hub ingest / raw publish with dedupe", ing.Rate/raw.Rate, 0.6)
	return rep, nil
}

func newReport(ev *Events) *Report {
	var total int
	var buf []byte
	sample := min(ev.Len(), 1000)
	for i := 0; i < sample; i++ {
		_, b := ev.Encode(i, buf[:0])
		total += len(b)
		buf = b
	}
	return &Report{
		Date:       time.Now().UTC().Format(time.RFC3339),
		Machine:    machine(),
		CPUs:       runtime.NumCPU(),
		Go:         runtime.Version(),
		NATSServer: server.VERSION,
		EventBytes: float64(total) / float64(max(sample, 1)),
	}
}

func (r *Report) ratio(name string, v, target float64) {
	r.Ratios = append(r.Ratios, Ratio{Name: name, Value: v, Target: target, Met: v >= target})
}

func rate(m Measurement) float64 {
	s := append([]float64(nil), m.Seconds...)
	sort.Float64s(s)
	return float64(m.Events) / s[len(s)/2]
}

func machine() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				return fmt.Sprintf("%s/%s, %s", runtime.GOOS, runtime.GOARCH, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":")))
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

func rawPublish(ctx context.Context, dir string, n int, ev *Events, cat *schemas.Catalog) (time.Duration, error) {
	emb, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		return 0, err
	}
	defer func() {
		emb.Shutdown()
		os.RemoveAll(dir)
	}()
	nc, err := nats.Connect(emb.ClientURL())
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return 0, err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "BARE", Subjects: hub.IntakeSubjects(cat), Storage: jetstream.FileStorage, Duplicates: hub.DefaultDuplicateWindow,
	}); err != nil {
		return 0, err
	}
	var buf []byte
	start := time.Now()
	for i := 0; i < n; i++ {
		subject, body := ev.Encode(i, buf[:0])
		buf = body
		msg := &nats.Msg{Subject: subject, Data: append([]byte(nil), body...), Header: nats.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, ev.ID(i))
		if _, err := js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute)); err != nil {
			return 0, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	d := time.Since(start)
	if f := failed.Load(); f > 0 {
		return 0, fmt.Errorf("%d raw publishes failed", f)
	}
	return d, nil
}

func hubIngest(ctx context.Context, dir string, n int, ev *Events, log *slog.Logger) (time.Duration, error) {
	hc := hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", Logger: log}
	if os.Getenv("ANZHI_BENCH_NO_MATERIALIZE") != "" {
		hc.Materialize.Every = -1
	}
	h, err := hub.Start(ctx, hc)
	if err != nil {
		return 0, err
	}
	defer func() {
		h.Close()
		os.RemoveAll(dir)
	}()
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	batches := map[string]*publishers.Batch{}
	for _, k := range kinds {
		if batches[k.dept] != nil {
			continue
		}
		p, err := publishers.New(nc, k.dept)
		if err != nil {
			return 0, err
		}
		if batches[k.dept], err = p.NewBatch(ctx, publishers.BatchOptions{}); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := batches[ev.Dept(i)].Add(ev.Fact(i)); err != nil {
			return 0, fmt.Errorf("event %d: %w", i, err)
		}
	}
	for dept, b := range batches {
		sum, err := b.Wait()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", dept, err)
		}
		if sum.Invalid > 0 || sum.Failed > 0 {
			return 0, fmt.Errorf("%s: %+v", dept, sum)
		}
	}
	if err := h.WaitIdle(ctx); err != nil {
		return 0, err
	}
	d := time.Since(start)
	st, err := h.Status(ctx)
	if err != nil {
		return 0, err
	}
	if st.LogLast < uint64(n) {
		return 0, fmt.Errorf("the log holds %d entries after %d events (some rejected?)", st.LogLast, n)
	}
	return d, nil
}
