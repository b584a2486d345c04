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
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/schemas"
)

// AsOfResult is what the auditors' views cost on a world: an as-of county
// view cold (snapshot restore plus the log's tail) and cached, an effective
// cut against a full rebuild, and a household's timeline.
type AsOfResult struct {
	Persons, Entries  int
	SnapshotSeq       uint64  `json:"snapshot_seq"`
	CutSeq            uint64  `json:"cut_seq"`
	TailEntries       int     `json:"tail_entries"`
	ColdSeconds       float64 `json:"asof_county_cold_seconds"`
	CachedP50Ms       float64 `json:"asof_county_cached_p50_ms"`
	CachedP99Ms       float64 `json:"asof_county_cached_p99_ms"`
	TimeCutCachedMs   float64 `json:"asof_time_cached_ms"` // as_of given as a time: the cut found by binary search, then the cache
	EffectiveSeconds  float64 `json:"effective_county_seconds"`
	RebuildSeconds    float64 `json:"full_rebuild_seconds"`
	TimelineMs        float64 `json:"timeline_household_ms"`      // the first read (the log's blocks from disk)
	TimelineWarmMs    float64 `json:"timeline_household_warm_ms"` // read again
	TimelineEntries   int     `json:"timeline_household_entries"`
	TimelineBytes     int64   `json:"timeline_index_bytes"`
	TimelinePerPerson float64 `json:"timeline_index_bytes_per_person"`
	ViewPerPerson     float64 `json:"view_bytes_per_person"`
}

// AsOf measures the auditors' views on a world of persons: the log is
// written in two parts, a hub folds the first and checkpoints it, and the
// second (tail entries) is appended; an as-of county view at the end of the
// log's tail then starts from that snapshot. tail defaults to the hub's
// default checkpoint interval, the longest tail an as-of view folds.
func AsOf(ctx context.Context, cfg Config, persons, tail int) (*AsOfResult, error) {
	cleanup, err := cfg.defaults()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cat, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	if tail <= 0 {
		tail = 100_000
	}
	world := NewWorld(cat, persons)
	res := &AsOfResult{Persons: persons, Entries: world.Entries}
	split := max(world.Entries-tail-1000, 1)
	dir := filepath.Join(cfg.Dir, "asof")
	defer os.RemoveAll(dir)

	cfg.Progress(fmt.Sprintf("as-of: the view's memory with its timeline index (%d persons)", persons))
	runtime.GC()
	if v, err := world.Fold(); err == nil {
		res.TimelineBytes = v.TimelineBytes()
		res.TimelinePerPerson = float64(res.TimelineBytes) / float64(persons)
		runtime.KeepAlive(v)
	}
	res.ViewPerPerson = float64(viewHeap(world)) / float64(persons)

	cfg.Progress(fmt.Sprintf("as-of: writing %d log entries, then a snapshot", split))
	if err := world.writeLogRange(ctx, dir, 0, split); err != nil {
		return nil, err
	}
	h, err := startAsOfHub(ctx, dir, cfg, true)
	if err != nil {
		return nil, err
	}
	snap, err := h.Snapshot(ctx)
	h.Close()
	if err != nil {
		return nil, err
	}
	res.SnapshotSeq = snap.Seq
	cfg.Progress(fmt.Sprintf("as-of: appending the other %d entries", world.Entries-split))
	// Then the hub's clock, as in every real log: a rebuild sweeps the
	// rules at it, as an effective cut sweeps them at its date.
	tick := time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC)
	tickFamily, _ := cat.Family("hub.tick")
	tickSubject, tickBody := fact.FactSubjectPrefix+"hub.tick.610400", fact.Encode(nil, &fact.Outgoing{ID: "tick-" + tick.Format(time.RFC3339),
		Source: fact.SourceFor("hub"), Type: tickFamily.Type, Subject: "clock", Time: tick,
		Data: []byte(`{"clock":"clock","at":"` + tick.Format(time.RFC3339) + `","period":"minute"}`)})
	if err := world.writeLogRange(ctx, dir, split, world.Entries, tickSubject, string(tickBody)); err != nil {
		return nil, err
	}
	res.Entries++
	h, err = startAsOfHub(ctx, dir, cfg, false)
	if err != nil {
		return nil, err
	}
	defer func() { h.Close() }()
	// The clock's sweep writes its warnings to the log: let it finish.
	if err := h.WaitIdle(ctx); err != nil {
		return nil, err
	}
	base := "http://" + h.HTTPAddr()
	res.CutSeq = snap.Seq + uint64(tail)
	res.TailEntries = tail
	county := base + "/api/v1/counties/610424"

	cfg.Progress(fmt.Sprintf("as-of: county 610424 as of log seq %d, cold", res.CutSeq))
	d, err := timedGet(county + "?as_of=" + strconv.FormatUint(res.CutSeq, 10))
	if err != nil {
		return nil, err
	}
	res.ColdSeconds = d.Seconds()
	var ds []time.Duration
	for range 200 {
		d, err := timedGet(county + "?as_of=" + strconv.FormatUint(res.CutSeq, 10))
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	res.CachedP50Ms, res.CachedP99Ms = percentile(ds, 0.50), percentile(ds, 0.99)
	// The same cut named by the time the log stored its entry.
	logs, err := jsStream(h)
	if err != nil {
		return nil, err
	}
	m, err := logs.GetMsg(ctx, res.CutSeq)
	if err != nil {
		return nil, err
	}
	ds = ds[:0]
	for range 20 {
		d, err := timedGet(county + "?as_of=" + m.Time.UTC().Format(time.RFC3339Nano))
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	res.TimeCutCachedMs = percentile(ds, 0.50)

	cfg.Progress("as-of: a household's timeline")
	hh := fmt.Sprintf("H%s-%07d", counties[0], 1)
	var n int
	d, n, err = timedTimeline(base + "/api/v1/timeline/household/" + hh)
	if err != nil {
		return nil, err
	}
	res.TimelineMs, res.TimelineEntries = float64(d.Microseconds())/1000, n
	if d, _, err = timedTimeline(base + "/api/v1/timeline/household/" + hh); err != nil {
		return nil, err
	}
	res.TimelineWarmMs = float64(d.Microseconds()) / 1000

	cfg.Progress("as-of: county 610424 effective 2020-06-30 (the whole log folded)")
	d, err = timedGet(county + "?effective=2020-06-30")
	if err != nil {
		return nil, err
	}
	res.EffectiveSeconds = d.Seconds()
	h.Close()

	cfg.Progress("as-of: a full rebuild of the same log, for comparison")
	start := time.Now()
	h, err = startAsOfHub(ctx, dir, cfg, true)
	if err != nil {
		return nil, err
	}
	res.RebuildSeconds = time.Since(start).Seconds()
	return res, nil
}

// startAsOfHub starts a hub on the log in dir without the KV feed's
// catch-up, which would otherwise share the two cores with what is measured.
func startAsOfHub(ctx context.Context, dir string, cfg Config, rebuild bool) (*hub.Hub, error) {
	hc := hub.Config{DataDir: dir, NATSListen: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Rebuild: rebuild, TickEvery: -1, SnapshotEvery: -1, Logger: cfg.Logger}
	hc.Materialize.Every = -1
	return hub.Start(ctx, hc)
}

func jsStream(h *hub.Hub) (jetstream.Stream, error) {
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return js.Stream(context.Background(), fact.LogStream)
}

func timedGet(u string) (time.Duration, error) {
	start := time.Now()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return time.Since(start), nil
}

func timedTimeline(u string) (time.Duration, int, error) {
	start := time.Now()
	resp, err := http.Get(u)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	var page struct {
		Items []struct{} `json:"items"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return 0, 0, err
	}
	return d, len(page.Items), nil
}

// writeLogRange writes the world's entries from..to (0-based) to the log
// straight into a hub's log stream in dir, as the hub's gate would have
// (same subjects, headers and bodies), much faster than publishing them
// through the intake; extra are subject, body pairs written after them.
func (w *World) writeLogRange(ctx context.Context, dir string, from, to int, extra ...string) error {
	emb, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer emb.Shutdown()
	nc, err := nats.Connect(emb.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return err
	}
	if _, _, err := hub.EnsureStreams(ctx, js, w.cat, hub.StreamOptions{}); err != nil {
		return err
	}
	received := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	entry := func(subject string, body []byte) *nats.Msg {
		msg := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
		msg.Header.Set("Content-Type", fact.ContentType)
		msg.Header.Set(fact.HeaderIntakeSeq, "0")
		msg.Header.Set(fact.HeaderReceived, received)
		return msg
	}
	var werr error
	i := 0
	w.each(func(subject string, body []byte) bool {
		i++
		if i <= from {
			return true
		}
		if i > to {
			return false
		}
		if _, werr = js.PublishMsgAsync(entry(subject, append([]byte(nil), body...)), jetstream.WithStallWait(time.Minute)); werr != nil {
			return false
		}
		return true
	})
	for i := 0; werr == nil && i+1 < len(extra); i += 2 {
		_, werr = js.PublishMsgAsync(entry(extra[i], []byte(extra[i+1])))
	}
	if werr != nil {
		return werr
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d log writes failed", f)
	}
	return nil
}
