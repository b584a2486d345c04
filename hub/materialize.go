package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// MaterializeConfig tunes the lead-office subscription: the view published
// on view.city and view.county.<code>, and materialized into the KV bucket
// ANZHI_VIEW (see package subscribers for the keys).
type MaterializeConfig struct {
	// Every is the coalescing period: each key and subject is written at
	// most once a period, with the latest state (default 1s; negative
	// disables the view subjects and the bucket).
	Every time.Duration
	// Budget bounds the time a round spends reading households and sites
	// from the view, so that a burst touching many entities costs at most a
	// fraction of a core; what does not fit waits for the next round
	// (default Every/10). The city and the counties are always written.
	Budget time.Duration
	// Full rewrites every site and household at start, found by reading the
	// whole log in the background. Without it the hub rewrites only what
	// the log gained since the bucket's "materialized" mark (the whole log
	// when the bucket is new).
	Full bool
	// DigestQuiet is how long the view must be quiet before the hub records
	// its digest under the key "digest" (default 5s; negative disables).
	// Computing it reads the whole view, so it waits for a pause.
	DigestQuiet time.Duration
}

func (c *MaterializeConfig) setDefaults() {
	if c.Every == 0 {
		c.Every = time.Second
	}
	if c.Budget <= 0 {
		c.Budget = c.Every / 10
	}
	if c.DigestQuiet == 0 {
		c.DigestQuiet = 5 * time.Second
	}
}

const (
	// settle is how long a round waits after the first change when the
	// previous round is long past, to take in the rest of a burst.
	settle = 50 * time.Millisecond
	// maxBacklog is how many households the catch-up lets wait before it
	// pauses reading the log.
	maxBacklog = 20_000
)

// materializer publishes the view's changes to subscribers. The projector
// reports each folded batch (folded, on its goroutine: cheap, never blocks
// on I/O); the materializer notes which keys the batch touched and writes
// them from its own goroutine in rounds at least Every apart, so each key
// is written at most once a period, always with the latest state.
//
// What a batch touched the view reports (view.Touched): the materializer
// only keeps the keys waiting and writes them, the site of every household
// written included.
type materializer struct {
	cfg      MaterializeConfig
	v        *view.View
	nc       *nats.Conn
	js       jetstream.JetStream
	kv       jetstream.KeyValue
	log      *slog.Logger
	counties map[string]bool
	lastSeq  uint64 // the log's last sequence at start
	from     uint64 // catch-up starts here (0: none)

	mu         sync.Mutex
	pending    dirtySet
	seq        uint64 // last log sequence reported
	catchingUp bool
	live       bool // live entries were folded since the last round
	rounding   bool // a round is writing what it took from pending
	wake       chan struct{}

	// Owned by run.
	sums          map[string]uint64 // hash of the value last written, for areas and sites
	marked        uint64            // the "materialized" mark written
	digestVersion uint64
	wg            sync.WaitGroup
}

// newMaterializer creates the bucket on nc (its own connection, closed by
// close) and decides what the start must catch up with: the log after the
// bucket's "materialized" mark, up to lastSeq.
func newMaterializer(ctx context.Context, cfg MaterializeConfig, nc *nats.Conn, v *view.View, cat *schemas.Catalog,
	log *slog.Logger, lastSeq uint64) (*materializer, error) {
	m := &materializer{cfg: cfg, v: v, nc: nc, log: log, counties: map[string]bool{}, lastSeq: lastSeq,
		pending: newDirtySet(), wake: make(chan struct{}, 1), sums: map[string]uint64{}}
	for _, k := range cat.Counties() {
		m.counties[k.Code] = true
	}
	var err error
	if m.js, err = jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096)); err != nil {
		return nil, fmt.Errorf("view bucket: %w", err)
	}
	m.kv, err = m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      fact.ViewBucket,
		Description: "anzhi shared view for subscribers: city, county.<code>, site.<id>, household.<id>, digest",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("view bucket %s: %w", fact.ViewBucket, err)
	}
	// The city and the counties are written at once; sites and households
	// as they change, and those the log changed since the last mark.
	m.pending.city = true
	for c := range m.counties {
		m.pending.counties[c] = struct{}{}
	}
	mark, err := m.readMark(ctx)
	switch {
	case err == nil && mark.Seq <= lastSeq:
		m.marked = mark.Seq
	case errors.Is(err, errBadMark):
		m.log.Warn("view bucket mark unreadable; writing the whole view again", "err", err)
	case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
		return nil, err
	}
	if cfg.Full {
		m.marked = 0
	}
	m.seq = lastSeq
	if m.marked < lastSeq {
		m.from, m.catchingUp = m.marked+1, true
	}
	return m, nil
}

// errBadMark means the bucket's "materialized" mark is not one the hub
// wrote.
var errBadMark = errors.New("view bucket mark unreadable")

// readMark reads the bucket's "materialized" mark; the error wraps
// jetstream.ErrKeyNotFound when there is none.
func (m *materializer) readMark(ctx context.Context) (fact.Materialized, error) {
	var mark fact.Materialized
	e, err := m.kv.Get(ctx, fact.MaterializedKey)
	if err != nil {
		return mark, fmt.Errorf("view bucket mark: %w", err)
	}
	if err := json.Unmarshal(e.Value(), &mark); err != nil {
		return mark, fmt.Errorf("%w %q: %w", errBadMark, e.Value(), err)
	}
	return mark, nil
}

// folded is the projector's hook: it notes what a folded batch touched.
func (m *materializer) folded(seq uint64, t *view.Touched) {
	m.mu.Lock()
	m.note(t)
	m.seq = max(m.seq, seq)
	m.live = true
	m.mu.Unlock()
	m.signal()
}

func (m *materializer) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// note adds what the view says entries touched to the keys waiting for a
// round. m.mu is held.
func (m *materializer) note(t *view.Touched) {
	d := &m.pending
	d.city = d.city || t.City
	if t.AllCounties {
		for c := range m.counties {
			d.counties[c] = struct{}{}
		}
	}
	for _, c := range t.Counties {
		if m.counties[c] {
			d.counties[c] = struct{}{}
		}
	}
	for _, id := range t.Households {
		d.household(id)
	}
	for _, id := range t.Sites {
		d.site(id)
	}
}

// run writes rounds until ctx ends, then a last one.
func (m *materializer) run(ctx context.Context) {
	if m.from > 0 {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.catchUp(ctx, m.from, m.lastSeq)
		}()
	}
	defer m.wg.Wait()
	round := time.NewTimer(0) // the city and counties, at once
	armed := true
	digest := time.NewTimer(max(m.digestQuiet(), 0))
	if m.cfg.DigestQuiet < 0 {
		digest.Stop()
	}
	var lastEnd time.Time
	for {
		select {
		case <-ctx.Done():
			round.Stop()
			final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			m.cfg.Budget = 5 * time.Second
			m.round(final)
			cancel()
			return
		case <-m.wake:
			if m.cfg.DigestQuiet > 0 {
				digest.Reset(m.digestQuiet())
			}
			if !armed {
				next := time.Now().Add(settle)
				if t := lastEnd.Add(m.cfg.Every); t.After(next) {
					next = t
				}
				round.Reset(time.Until(next))
				armed = true
			}
		case <-round.C:
			armed = false
			m.round(ctx)
			lastEnd = time.Now()
			m.mu.Lock()
			more := !m.pending.empty()
			m.mu.Unlock()
			if more {
				// Rounds are Every apart from end to start, so no key is
				// written twice within a period.
				round.Reset(m.cfg.Every)
				armed = true
			}
		case <-digest.C:
			m.writeDigest(ctx)
		}
	}
}

// write is a put awaiting its acknowledgement.
type write struct {
	kind, id string // household, site, county, city
	fut      jetstream.PubAckFuture
}

// round writes what changed since the last round.
func (m *materializer) round(ctx context.Context) {
	m.mu.Lock()
	d := m.pending
	m.pending = newDirtySet()
	m.rounding = true
	defer func() {
		m.mu.Lock()
		m.rounding = false
		m.mu.Unlock()
	}()
	seq := m.seq
	catchingUp := m.catchingUp
	live := m.live
	m.live = false
	m.mu.Unlock()
	if d.empty() {
		return
	}
	// While facts arrive the round keeps to its budget, so as not to delay
	// the ingest; when the hub is otherwise idle (a catch-up after a
	// restart) it may take half the period.
	budget := m.cfg.Budget
	if !live {
		budget = max(budget, m.cfg.Every/2)
	}
	started := time.Now()
	deadline := started.Add(budget)
	var writes []write
	var failed int
	put := func(kind, id, key string, v any, subject string) {
		b, err := json.Marshal(v)
		if err != nil {
			m.log.Error("view value cannot be encoded", "key", key, "err", err)
			return
		}
		if kind != "household" {
			h := fnv.New64a()
			_, _ = h.Write(b)
			sum := h.Sum64()
			if m.sums[key] == sum {
				return
			}
			m.sums[key] = sum
		}
		if subject != "" {
			if err := m.nc.Publish(subject, b); err != nil {
				m.log.Warn("view subject not published", "subject", subject, "err", err)
			}
		}
		fut, err := m.js.PublishAsync(fact.ViewKVSubjectPrefix+key, b)
		if err != nil {
			failed++
			m.retry(kind, id, key)
			return
		}
		writes = append(writes, write{kind: kind, id: id, fut: fut})
	}

	// Households first: each one names its site.
	left := 0
	for i, id := range d.hh {
		if time.Now().After(deadline) {
			left = len(d.hh) - i
			m.requeue(d.hh[i:])
			break
		}
		// Pace the round: this is background work, and on a small machine
		// a burst of it (encoding, bucket writes) delays the ingest behind it:
		// a millisecond's pause every 16 households.
		if i%16 == 15 {
			time.Sleep(time.Millisecond)
		}
		hv, err := m.v.Household(id)
		if err != nil {
			continue // an id the view does not know
		}
		if hv.Site != "" {
			d.site(hv.Site)
		}
		put("household", id, fact.HouseholdKey(id), hv, "")
	}
	for id := range d.sites {
		if time.Now().After(deadline) {
			left++
			m.retry("site", id, "")
			continue
		}
		sv, err := m.v.Site(id)
		if err != nil {
			continue
		}
		put("site", id, fact.SiteKey(id), sv, "")
	}
	// The counties and the city last, so they carry the latest position.
	for code := range d.counties {
		if cv, err := m.v.County(code); err == nil {
			put("county", code, fact.CountyKey(code), cv, fact.CountySubject(code))
		}
	}
	if d.city {
		put("city", "", fact.CityKey, m.v.City(), fact.CitySubject)
	}

	// Wait for the bucket to acknowledge; what failed goes to the next round.
	if len(writes) > 0 {
		select {
		case <-m.js.PublishAsyncComplete():
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
		}
	}
	var firstErr error
	for _, w := range writes {
		var err error
		select {
		case <-w.fut.Ok():
			continue
		case err = <-w.fut.Err():
		default:
			err = errors.New("no acknowledgement")
		}
		failed++
		firstErr = cmpOr(firstErr, err)
		m.retry(w.kind, w.id, "")
	}
	if failed > 0 {
		m.log.Warn("view bucket writes failed; retrying next round", "failed", failed, "err", firstErr)
	}
	if left > 0 {
		m.log.Debug("view round out of budget; the rest waits", "left", left, "budget", budget)
	}
	m.log.Debug("view round", "households", len(d.hh), "sites", len(d.sites), "counties", len(d.counties),
		"writes", len(writes), "live", live, "took", time.Since(started))
	// Every entry up to seq is now written: record it, so a restart
	// catches up only with what comes after.
	if failed == 0 && left == 0 && !catchingUp && seq > m.marked {
		b, _ := json.Marshal(fact.Materialized{Seq: seq, At: time.Now().UTC()})
		if _, err := m.kv.Put(ctx, fact.MaterializedKey, b); err != nil {
			m.log.Warn("view bucket mark not written", "err", err)
		} else {
			m.marked = seq
		}
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// retry marks a key of a round again for the next one.
func (m *materializer) retry(kind, id, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if key != "" {
		delete(m.sums, key)
	}
	switch kind {
	case "household":
		m.pending.household(id)
	case "site":
		delete(m.sums, fact.SiteKey(id))
		m.pending.site(id)
	case "county":
		delete(m.sums, fact.CountyKey(id))
		m.pending.counties[id] = struct{}{}
	case "city":
		delete(m.sums, fact.CityKey)
		m.pending.city = true
	}
}

// requeue puts households a round had no time for ahead of newer ones.
func (m *materializer) requeue(ids []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := &m.pending
	front := make([]string, 0, len(ids)+len(d.hh))
	for _, id := range ids {
		if _, ok := d.hhSet[id]; !ok {
			d.hhSet[id] = struct{}{}
			front = append(front, id)
		}
	}
	d.hh = append(front, d.hh...)
}

// close closes the materializer's connection.
func (m *materializer) close() {
	if m != nil && m.nc != nil {
		_ = m.nc.Drain()
	}
}

// caughtUp reports whether the bucket holds everything folded so far.
func (m *materializer) caughtUp() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.catchingUp && !m.rounding && m.pending.empty()
}
