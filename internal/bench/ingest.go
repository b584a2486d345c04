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

	"github.com/xianyang/anzhi/fact"
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
	// Ceilings are reference ratios with no target: the best a design
	// could reach on this machine if the hub did no work at all.
	Ceilings []Ceiling `json:"ceilings,omitempty"`
}

// Ceiling is a reference ratio: a stripped-down path measured against the
// same baseline as a target ratio, to show what part of the gap the path
// itself costs before any of anzhi's work.
type Ceiling struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
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
//
// Beside them it measures three ceilings on the same events: a consumer that
// reads every published event and does nothing (the least any design that
// judges events after JetStream stored them must do); one that appends each,
// unchecked, to a second stream (the least the hub's design — intake, then
// the canonical log — must do); and a one-write design that does only the
// contract check the issue asks of both sides — the publisher before sending,
// the consumer on receipt — and nothing else (no log, no fold). Their ratios
// to raw say how much of the gap is the path itself rather than anzhi's work.
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
	read := Measurement{Name: "ceiling: publish → stream → consumer reads, no checks", Events: cfg.N}
	relay := Measurement{Name: "ceiling: publish → intake → consumer → log, no checks", Events: cfg.N}
	checked := Measurement{Name: "ceiling: check → publish → stream → consumer checks, one write", Events: cfg.N}
	ing := Measurement{Name: "hub ingest (publisher library → intake → validated, logged)", Events: cfg.N}
	for run := 0; run < cfg.Runs; run++ {
		steps := []struct {
			m    *Measurement
			what string
			do   func(dir string) (time.Duration, error)
		}{
			{&raw, "raw JetStream publish", func(dir string) (time.Duration, error) { return rawPublish(ctx, dir, cfg.N, ev, cat) }},
			{&read, "ceiling, read only", func(dir string) (time.Duration, error) { return ceiling(ctx, dir, cfg.N, ev, cat, readOnly) }},
			{&relay, "ceiling, read and append", func(dir string) (time.Duration, error) { return ceiling(ctx, dir, cfg.N, ev, cat, readAppend) }},
			{&checked, "ceiling, checks on both sides", func(dir string) (time.Duration, error) { return ceiling(ctx, dir, cfg.N, ev, cat, checkBoth) }},
			{&ing, "hub ingest", func(dir string) (time.Duration, error) { return hubIngest(ctx, dir, cfg.N, ev, cfg.Logger) }},
		}
		for i, s := range steps {
			cfg.Progress(fmt.Sprintf("run %d/%d: %s of %d events", run+1, cfg.Runs, s.what, cfg.N))
			d, err := s.do(filepath.Join(cfg.Dir, fmt.Sprintf("step%d-run%d", i, run)))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.what, err)
			}
			s.m.Seconds = append(s.m.Seconds, d.Seconds())
		}
	}
	for _, m := range []*Measurement{&raw, &read, &relay, &checked, &ing} {
		m.Rate = rate(*m)
	}
	rep.Measurements = append(rep.Measurements, raw, ing, read, relay, checked)
	rep.ratio("hub ingest / raw publish with dedupe", ing.Rate/raw.Rate, 0.6)
	rep.Ceilings = append(rep.Ceilings,
		Ceiling{Name: "read-only ceiling / raw publish with dedupe", Value: read.Rate / raw.Rate},
		Ceiling{Name: "intake → log ceiling / raw publish with dedupe", Value: relay.Rate / raw.Rate},
		Ceiling{Name: "one write + both checks ceiling / raw with dedupe", Value: checked.Rate / raw.Rate})
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
	_, c, stop, err := bareServer(ctx, dir, cat)
	if err != nil {
		return 0, err
	}
	defer stop()
	start := time.Now()
	if err := c.publishAll(ctx, n, ev, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// client is a connection publishing asynchronously, up to 4096 in flight,
// that counts the publishes JetStream refused.
type client struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	failed atomic.Int64
}

func connectClient(url string) (*client, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	c := &client{nc: nc}
	c.js, err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { c.failed.Add(1) }))
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// complete waits until every publish so far is acknowledged or refused.
func (c *client) complete(ctx context.Context) error {
	select {
	case <-c.js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	if f := c.failed.Load(); f > 0 {
		return fmt.Errorf("%d publishes failed", f)
	}
	return nil
}

// bareServer starts an embedded server with one bare stream on the intake's
// subjects and connects a client to it; stop closes both and removes dir.
func bareServer(ctx context.Context, dir string, cat *schemas.Catalog) (emb *hub.Embedded, c *client, stop func(), err error) {
	emb, err = hub.StartEmbedded(hub.EmbeddedConfig{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		return nil, nil, nil, err
	}
	stop = func() {
		if c != nil {
			c.nc.Close()
		}
		emb.Shutdown()
		os.RemoveAll(dir)
	}
	if c, err = connectClient(emb.ClientURL()); err == nil {
		_, err = c.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: "BARE", Subjects: fact.IntakeSubjects(cat), Storage: jetstream.FileStorage, Duplicates: hub.DefaultDuplicateWindow,
		})
	}
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return emb, c, stop, nil
}

// publishAll publishes the events as the raw baseline: prebuilt bytes,
// Nats-Msg-Id, async, until every one is acknowledged. A non-nil check runs
// on each message before it is sent.
func (c *client) publishAll(ctx context.Context, n int, ev *Events, check func(*nats.Msg) error) error {
	var buf []byte
	for i := 0; i < n; i++ {
		subject, body := ev.Encode(i, buf[:0])
		buf = body
		msg := &nats.Msg{Subject: subject, Data: append([]byte(nil), body...), Header: nats.Header{}}
		if check != nil {
			if err := check(msg); err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
		}
		msg.Header.Set(jetstream.MsgIDHeader, ev.ID(i))
		if _, err := c.js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute)); err != nil {
			return err
		}
	}
	return c.complete(ctx)
}

// ceilingMode is what the consumer of a ceiling measurement does.
type ceilingMode int

const (
	readOnly   ceilingMode = iota // read each message, nothing else
	readAppend                    // append each unchanged to a second stream, as the gate appends to the log
	checkBoth                     // the contract check before publishing and on receipt, nothing else
)

// ceiling publishes the events as rawPublish does while an ordered consumer
// reads them in order, as the hub's gate does, and does only what mode says.
// Timed until the consumer is done with the last one (and, for readAppend,
// the second stream acknowledged it).
func ceiling(ctx context.Context, dir string, n int, ev *Events, cat *schemas.Catalog, mode ceilingMode) (time.Duration, error) {
	emb, c, stop, err := bareServer(ctx, dir, cat)
	if err != nil {
		return 0, err
	}
	defer stop()
	out, err := connectClient(emb.ClientURL())
	if err != nil {
		return 0, err
	}
	defer out.nc.Close()
	if _, err := out.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "BARE_LOG", Subjects: []string{"bare.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		return 0, err
	}
	stream, err := c.js.Stream(ctx, "BARE")
	if err != nil {
		return 0, err
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2048))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	v := fact.NewValidator(cat, fact.DefaultMaxBytes)
	check := func(subject string, header nats.Header, data []byte) error {
		if vd := v.CheckIntake(fact.Message{Subject: subject, Header: header, Data: data}); !vd.OK() {
			return vd.Err(subject)
		}
		return nil
	}
	consumed := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			m, err := it.Next()
			if err != nil {
				consumed <- err
				return
			}
			switch mode {
			case readAppend:
				msg := &nats.Msg{Subject: "bare." + m.Subject(), Data: m.Data(), Header: m.Headers()}
				if _, err := out.js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute)); err != nil {
					consumed <- err
					return
				}
			case checkBoth:
				if err := check(m.Subject(), m.Headers(), m.Data()); err != nil {
					consumed <- err
					return
				}
			}
		}
		consumed <- out.complete(ctx)
	}()
	var before func(*nats.Msg) error
	if mode == checkBoth {
		before = func(m *nats.Msg) error { return check(m.Subject, m.Header, m.Data) }
	}
	start := time.Now()
	if err := c.publishAll(ctx, n, ev, before); err != nil {
		return 0, err
	}
	select {
	case err := <-consumed:
		if err != nil {
			return 0, err
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return time.Since(start), nil
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
