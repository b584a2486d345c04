package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// World is a city of n persons in households of four, as log entries: a
// household registration per household, and per person a registration,
// basic medical insurance and, for adults, employment — facts as the hub
// would have written them to the log.
type World struct {
	cat     *schemas.Catalog
	Persons int
	Entries int
}

// NewWorld describes a world of n persons.
func NewWorld(cat *schemas.Catalog, persons int) *World {
	w := &World{cat: cat, Persons: persons}
	w.each(func(string, []byte) bool { w.Entries++; return true })
	return w
}

// each yields the world's log entries (subject on anzhi.fact.>, body).
func (w *World) each(yield func(subject string, body []byte) bool) {
	var buf []byte
	emit := func(family, dept, county, id, subject string, t time.Time, data []byte) bool {
		fam, _ := w.cat.Family(family)
		buf = fact.Encode(buf[:0], &fact.Outgoing{ID: id, Source: fact.SourceFor(dept), Type: fam.Type, Subject: subject,
			Time: t, DataSchema: fam.SchemaURI, Data: data})
		return yield(fact.FactSubjectPrefix+family+"."+county, buf)
	}
	for i := 0; i < w.Persons; i++ {
		county := counties[(i/4000)%len(counties)]
		site := fmt.Sprintf("S%s-%04d", county, i/4000)
		hh := fmt.Sprintf("H%s-%07d", county, i/4)
		day := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/4)%700)
		date := day.Format(time.DateOnly)
		if i%4 == 0 {
			d := fmt.Appendf(nil, `{"household_id":%q,"site_id":%q,"size":4,"labour_count":2,"registered_poor":true,"relocated_on":%q}`, hh, site, date)
			if !emit("registry.household", "poverty", county, "hh-"+strconv.Itoa(i/4), hh, day, d) {
				return
			}
		}
		pk := fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15+7)
		adult := i%4 < 2
		labour, born := "full", 1970+i%30
		if !adult {
			labour, born = "student", 2008+i%10
		}
		d := fmt.Appendf(nil, `{"person_key":%q,"household_id":%q,"birth_year":%d,"sex":"female","labour_capacity":%q}`, pk, hh, born, labour)
		if !emit("registry.person", "poverty", county, "p-"+strconv.Itoa(i), pk, day, d) {
			return
		}
		d = fmt.Appendf(nil, `{"person_key":%q,"household_id":%q,"year":2021,"scheme":"basic_medical","status":"enrolled","enrolled_on":"2021-01-01"}`, pk, hh)
		if !emit("health.coverage", "medins", county, "c-"+strconv.Itoa(i), pk, day, d) {
			return
		}
		if adult && i%8 != 1 {
			d = fmt.Appendf(nil, `{"person_key":%q,"household_id":%q,"status":"employed","kind":"local","start_on":%q}`, pk, hh, date)
			if !emit("hr.employment", "hrss", county, "e-"+strconv.Itoa(i), pk, day, d) {
				return
			}
		}
	}
}

// writeLog writes the world straight into a hub's log stream in dir, as the
// hub's gate would have (same subjects, headers and bodies), much faster
// than publishing it through the intake.
func (w *World) writeLog(ctx context.Context, dir string) error {
	return w.writeLogRange(ctx, dir, 0, w.Entries)
}

// rawReplay reads the whole log with an ordered consumer and decodes each
// entry into the CloudEvents SDK's event.Event with json.Unmarshal: the
// reference a rebuild is compared with.
func rawReplay(ctx context.Context, dir string, entries int) (time.Duration, error) {
	emb, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		return 0, err
	}
	defer emb.Shutdown()
	nc, err := nats.Connect(emb.ClientURL())
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	cons, err := js.OrderedConsumer(ctx, fact.LogStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	for n := 0; n < entries; n++ {
		m, err := it.Next()
		if err != nil {
			return 0, err
		}
		var ev cloudevents.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			return 0, fmt.Errorf("entry %d: %w", n, err)
		}
	}
	return time.Since(start), nil
}

// ViewResult holds the view measurements.
type ViewResult struct {
	Persons            int          `json:"persons"`
	Entries            int          `json:"log_entries"`
	RawReplayRate      float64      `json:"raw_replay_sdk_decode_per_s"`
	RebuildRate        float64      `json:"rebuild_per_s"`
	RebuildSeconds     float64      `json:"rebuild_s"`
	SnapshotSeconds    float64      `json:"snapshot_write_s"`
	SnapshotBytes      int          `json:"snapshot_bytes"`
	RestartSeconds     float64      `json:"restart_from_snapshot_s"`
	ViewHeapBytes      uint64       `json:"view_heap_bytes"`
	ViewBytesPerPers   float64      `json:"view_heap_bytes_per_person"`
	ProcessHeapBytes   uint64       `json:"process_heap_bytes"`
	ProcessRSSBytes    uint64       `json:"process_rss_bytes"`
	RSSPerPerson       float64      `json:"process_rss_bytes_per_person"`
	MaterializeSeconds float64      `json:"kv_materialize_after_rebuild_s"`
	LatencyRate        int          `json:"latency_rate_per_s"`
	LatencyP50         float64      `json:"publish_to_view_p50_ms"`
	LatencyP99         float64      `json:"publish_to_view_p99_ms"`
	HTTP               []HTTPResult `json:"http"`
}

// HTTPResult is the latency of one endpoint under concurrent requests.
type HTTPResult struct {
	Path    string  `json:"path"`
	Persons int     `json:"persons"`
	Clients int     `json:"clients"`
	N       int     `json:"requests"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
}

// View measures the shared view on a world of cfg.Persons (default 1M):
// a full rebuild from the log against a raw replay with SDK decoding, the
// view's memory, a restart from a snapshot, publish-to-view latency at 2,000
// events/s, and the city and county endpoints under concurrent requests at a
// tenth of the world and at all of it.
func View(ctx context.Context, cfg Config, persons int) (*Report, *ViewResult, error) {
	cleanup, err := cfg.defaults()
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	if persons <= 0 {
		persons = 1_000_000
	}
	cat, err := schemas.Load()
	if err != nil {
		return nil, nil, err
	}
	res := &ViewResult{Persons: persons}
	rep := &Report{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), CPUs: runtime.NumCPU(), Go: runtime.Version(), NATSServer: server.VERSION}
	small := NewWorld(cat, max(persons/10, 1))
	world := NewWorld(cat, persons)
	res.Entries = world.Entries

	// The view's own memory first, in a quiet process: the same world folded
	// in-process, heap measured before and after.
	cfg.Progress(fmt.Sprintf("view memory: folding %d persons in-process", persons))
	res.ViewHeapBytes = viewHeap(world)
	res.ViewBytesPerPers = float64(res.ViewHeapBytes) / float64(persons)

	// HTTP latency on a tenth of the world first: "flat as the log grows".
	dirSmall := filepath.Join(cfg.Dir, "small")
	cfg.Progress(fmt.Sprintf("writing a log of %d persons (%d entries)", small.Persons, small.Entries))
	if err := small.writeLog(ctx, dirSmall); err != nil {
		return nil, nil, err
	}
	if err := func() error {
		h, err := startBenchHub(ctx, dirSmall, cfg, true)
		if err != nil {
			return err
		}
		defer h.Close()
		if err := h.WaitMaterialized(ctx); err != nil {
			return err
		}
		cfg.Progress("HTTP latency at a tenth of the world")
		return httpLoad(ctx, h, small.Persons, res)
	}(); err != nil {
		return nil, nil, err
	}
	os.RemoveAll(dirSmall)

	dir := filepath.Join(cfg.Dir, "world")
	cfg.Progress(fmt.Sprintf("writing a log of %d persons (%d entries)", persons, world.Entries))
	if err := world.writeLog(ctx, dir); err != nil {
		return nil, nil, err
	}
	cfg.Progress("raw replay with sdk-go decoding")
	raw, err := rawReplay(ctx, dir, world.Entries)
	if err != nil {
		return nil, nil, err
	}
	res.RawReplayRate = float64(world.Entries) / raw.Seconds()

	cfg.Progress("full rebuild of the view from the log")
	start := time.Now()
	h, err := startBenchHub(ctx, dir, cfg, true)
	if err != nil {
		return nil, nil, err
	}
	res.RebuildSeconds = time.Since(start).Seconds()
	res.RebuildRate = float64(world.Entries) / res.RebuildSeconds
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.ProcessHeapBytes = ms.HeapInuse
	res.ProcessRSSBytes = rss()
	res.RSSPerPerson = float64(res.ProcessRSSBytes) / float64(persons)

	cfg.Progress("waiting for the KV materialization of the whole view (a new bucket is written from the log)")
	start = time.Now()
	if err := h.WaitMaterialized(ctx); err != nil {
		h.Close()
		return nil, nil, err
	}
	res.MaterializeSeconds = time.Since(start).Seconds()
	cfg.Progress("HTTP latency on the whole world")
	if err := httpLoad(ctx, h, persons, res); err != nil {
		h.Close()
		return nil, nil, err
	}
	cfg.Progress("publish-to-view latency at 2,000 events/s")
	if err := latency(ctx, h, 2000, 10*time.Second, res); err != nil {
		h.Close()
		return nil, nil, err
	}
	cfg.Progress("snapshot")
	snap, err := h.Snapshot(ctx)
	if err != nil {
		h.Close()
		return nil, nil, err
	}
	res.SnapshotSeconds, res.SnapshotBytes = snap.Took.Seconds(), snap.Bytes
	h.Close()
	cfg.Progress("restart from the snapshot")
	start = time.Now()
	h, err = startBenchHub(ctx, dir, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	res.RestartSeconds = time.Since(start).Seconds()
	h.Close()
	os.RemoveAll(dir)

	rep.Measurements = append(rep.Measurements,
		Measurement{Name: "raw ordered replay + json.Unmarshal into sdk-go event.Event", Events: world.Entries, Seconds: []float64{raw.Seconds()}, Rate: res.RawReplayRate},
		Measurement{Name: "full rebuild of the view (hub start, replay, fold)", Events: world.Entries, Seconds: []float64{res.RebuildSeconds}, Rate: res.RebuildRate})
	rep.ratio("rebuild / raw replay + SDK decode", res.RebuildRate/res.RawReplayRate, 1.0)
	return rep, res, nil
}

func startBenchHub(ctx context.Context, dir string, cfg Config, rebuild bool) (*hub.Hub, error) {
	hc := hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Rebuild: rebuild, TickEvery: -1, SnapshotEvery: -1, Logger: cfg.Logger}
	if os.Getenv("ANZHI_BENCH_NO_MATERIALIZE") != "" {
		hc.Materialize.Every = -1
	}
	h, err := hub.Start(ctx, hc)
	if err != nil {
		return nil, err
	}
	return h, nil
}

func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(p * float64(len(ds)-1))
	return float64(ds[i].Microseconds()) / 1000
}

// httpLoad runs concurrent GETs of the city and a county.
func httpLoad(ctx context.Context, h *hub.Hub, persons int, res *ViewResult) error {
	base := "http://" + h.HTTPAddr()
	// Four clients on the same two cores as the hub: more would measure
	// the scheduler's time slices rather than the hub.
	const clients, perClient = 4, 1000
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for _, path := range []string{"/api/v1/city", "/api/v1/counties/610424"} {
		for range 200 { // warm the connections and the response cache
			if resp, err := client.Get(base + path); err == nil {
				_, _ = drain(resp)
			}
		}
		var mu sync.Mutex
		var all []time.Duration
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ds := make([]time.Duration, 0, perClient)
				for range perClient {
					t0 := time.Now()
					resp, err := client.Get(base + path)
					if err != nil || resp.StatusCode != http.StatusOK {
						failed.Add(1)
						if resp != nil {
							resp.Body.Close()
						}
						continue
					}
					_, _ = drain(resp)
					ds = append(ds, time.Since(t0))
				}
				mu.Lock()
				all = append(all, ds...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			return fmt.Errorf("%s: %d requests failed", path, f)
		}
		res.HTTP = append(res.HTTP, HTTPResult{Path: path, Persons: persons, Clients: clients, N: len(all),
			P50: percentile(all, 0.50), P99: percentile(all, 0.99)})
	}
	return nil
}

// latency publishes facts at a steady rate and measures, for each, the time
// from the start of Publish to the moment the projector has folded it.
func latency(ctx context.Context, h *hub.Hub, rate int, d time.Duration, res *ViewResult) error {
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	p, err := publishers.New(nc, "hrss")
	if err != nil {
		return err
	}
	var mu sync.Mutex
	sent := map[uint64]time.Time{}
	var lat []time.Duration
	h.ObserveFolds(func(keys []uint64) {
		now := time.Now()
		mu.Lock()
		for _, k := range keys {
			if t0, ok := sent[k]; ok {
				lat = append(lat, now.Sub(t0))
				delete(sent, k)
			}
		}
		mu.Unlock()
	})
	defer h.ObserveFolds(nil)
	n := rate * int(d/time.Second)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	source := fact.SourceFor("hrss")
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		<-tick.C
		pk := fmt.Sprintf("%064x", uint64(i)*0x9e3779b97f4a7c15+11)
		f := publishers.Fact{Family: "hr.training", ID: "lat-" + strconv.Itoa(i), Time: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC),
			Data: json.RawMessage(fmt.Sprintf(`{"person_key":%q,"household_id":"H610424-%07d","course":"技能","kind":"skills","completed_on":"2021-03-01","passed":true}`, pk, 9000000+i/4))}
		msg, err := p.Build(f)
		if err != nil {
			return err
		}
		mu.Lock()
		sent[fact.Key(source, f.ID)] = time.Now()
		mu.Unlock()
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, _ = p.PublishMsg(ctx, msg)
		}()
	}
	wg.Wait()
	if err := h.WaitIdle(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) > 0 {
		return fmt.Errorf("%d of %d facts never reached the view", len(sent), n)
	}
	res.LatencyRate = rate
	res.LatencyP50, res.LatencyP99 = percentile(lat, 0.50), percentile(lat, 0.99)
	return nil
}

// Fold folds the world into a new view in this process, in log order, as
// the hub's projector would.
func (w *World) Fold() (*view.View, error) {
	v, err := view.New(w.cat)
	if err != nil {
		return nil, err
	}
	batch := make([]view.LogEntry, 0, 1024)
	var seq uint64
	var derr error
	w.each(func(subject string, body []byte) bool {
		seq++
		e, err := fact.DecodeEntry(seq, subject, nil, append([]byte(nil), body...))
		if err != nil {
			derr = fmt.Errorf("world entry %d: %w", seq, err)
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
		return nil, derr
	}
	v.ApplyLog(batch)
	return v, nil
}

// viewHeap folds the world into a view in this process and returns the
// heap it holds.
func viewHeap(w *World) uint64 {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	v, err := w.Fold()
	if err != nil {
		return 0
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// drain drains and closes a response body so the connection is reused.
func drain(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
