package hub

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// This file is the hub's as-of views: the view of a cut of the log, for
// auditors. A recorded cut (as_of) is the log up to a sequence: "what the hub
// knew then". An effective cut (effective) leaves out the facts whose own
// time is after a date: "what was true then, as we know it now". Both fold
// with view.Fold, the live view's fold; a recorded cut starts from the newest
// snapshot at or before it and folds only the tail, an effective cut folds
// the log from its start (a snapshot holds facts of any effective time).

// Cut names a cut of the log.
type Cut struct {
	// Seq is the last log sequence inside the cut (0 with Open: the log's
	// end when the view is built).
	Seq uint64
	// Open is set when no recorded cut was asked for: the cut is the log as
	// it is.
	Open bool
	// Effective, when set, leaves out every entry whose own time is after it.
	Effective time.Time
}

// cutKey is what an as-of view is cached by.
type cutKey struct {
	seq       uint64
	effective int64 // UnixNano; 0: no effective cut
}

// cutView is a built as-of view and its response caches.
type cutView struct {
	key      cutKey
	v        *view.View
	caches   *viewCaches
	from     uint64        // the snapshot's log sequence it started from (0: the log's start)
	took     time.Duration // to build
	foldTook time.Duration // of which folding the log
	liveVer  uint64        // the live view's version when built (open cuts)
	open     bool
	persons  int
	lastUsed time.Time
}

// bytes estimates the view's memory: what it holds per person, household
// and site (see the view's memory test: ≈260 B a person).
func (c *cutView) bytes() int64 { return int64(c.persons) * 300 }

// asOfViews holds the as-of views built lately, most recently used first,
// at most max of them (each holds a whole view: ≈300 B a person), and
// builds one at a time.
type asOfViews struct {
	h     *Hub
	max   int
	build sync.Mutex // one build at a time: each holds a view's memory
	mu    sync.Mutex
	views []*cutView
}

func newAsOfViews(h *Hub, max int) *asOfViews { return &asOfViews{h: h, max: max} }

// errCutRange marks an as_of beyond the log (statusOf: 400 through
// badParam, which names the parameter).
var errCutRange = errors.New("beyond the log")

// find returns a cached view for the cut, or nil.
func (s *asOfViews) find(key cutKey, open bool, liveVer uint64) *cutView {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.views {
		match := c.key == key
		if open && c.open && c.key.effective == key.effective && c.liveVer == liveVer {
			// An open cut is the log as it is: entries since (the
			// auditors' read records) changed nothing it shows.
			match = true
		}
		if match {
			c.lastUsed = time.Now()
			copy(s.views[1:i+1], s.views[:i])
			s.views[0] = c
			return c
		}
	}
	return nil
}

func (s *asOfViews) add(c *cutView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.views = append([]*cutView{c}, s.views...)
	if len(s.views) > s.max {
		clear(s.views[s.max:])
		s.views = s.views[:s.max]
	}
}

// Bytes estimates the memory the cached as-of views hold.
func (s *asOfViews) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, c := range s.views {
		n += c.bytes()
	}
	return n
}

// get returns the view of the cut, built or from the cache.
func (s *asOfViews) get(ctx context.Context, cut Cut) (*cutView, error) {
	if s.max <= 0 {
		return nil, fmt.Errorf("%w: as-of views are off on this hub (AsOfViews < 0)", errUnavailable)
	}
	live := s.h.view
	key := cutKey{seq: cut.Seq}
	if !cut.Effective.IsZero() {
		key.effective = cut.Effective.UnixNano()
	}
	ver := live.Version()
	if cut.Open {
		key.seq = live.Seq()
	}
	if c := s.find(key, cut.Open, ver); c != nil {
		return c, nil
	}
	// One build at a time; whoever waited may find it built.
	if err := lockCtx(ctx, &s.build); err != nil {
		return nil, err
	}
	defer s.build.Unlock()
	if c := s.find(key, cut.Open, ver); c != nil {
		return c, nil
	}
	start := time.Now()
	c, err := s.h.buildCut(ctx, key.seq, cut.Effective)
	if err != nil {
		return nil, err
	}
	c.key, c.open, c.liveVer, c.took, c.lastUsed = key, cut.Open, ver, time.Since(start), time.Now()
	c.persons = c.v.Stats().Persons
	s.add(c)
	s.h.cfg.Logger.Info("as-of view built", "log_seq", key.seq, "effective", cut.Effective, "from_snapshot", c.from,
		"took", c.took.Round(time.Millisecond), "fold_took", c.foldTook.Round(time.Millisecond), "cached", len(s.views), "cached_bytes", s.Bytes())
	return c, nil
}

// lockCtx locks mu, or gives up when ctx ends first.
func lockCtx(ctx context.Context, mu *sync.Mutex) error {
	for !mu.TryLock() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for another as-of view to be built: %w", errUnavailable, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// cutAtTime returns the last log sequence the log had stored at t (0: none
// yet) — the recorded time of an entry is when the log stored it, as for
// anzhi replay --until — and whether the cut is the log's end.
func (h *Hub) cutAtTime(ctx context.Context, t time.Time) (uint64, error) {
	last, err := h.logLast(ctx)
	if err != nil {
		return 0, err
	}
	// The log's timestamps grow with its sequence: binary search for the
	// last entry stored at or before t.
	lo, hi := uint64(0), last // lo's entry is at or before t (0: before the first); hi+1's after
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		m, err := h.logs.GetMsg(ctx, mid)
		if err != nil {
			return 0, fmt.Errorf("read log entry %d: %w", mid, err)
		}
		if m.Time.After(t) {
			hi = mid - 1
		} else {
			lo = mid
		}
	}
	return lo, nil
}

// logLast is the log's last sequence now.
func (h *Hub) logLast(ctx context.Context) (uint64, error) {
	info, err := h.logs.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: the log's state: %v", errUnavailable, err)
	}
	return info.State.LastSeq, nil
}

// buildCut folds the view of the log up to seq, leaving out entries after
// effective when it is set.
func (h *Hub) buildCut(ctx context.Context, seq uint64, effective time.Time) (*cutView, error) {
	var v *view.View
	var from uint64
	if effective.IsZero() {
		var err error
		if v, from, err = h.snapshotAtOrBefore(ctx, seq); err != nil {
			return nil, err
		}
	}
	if v == nil {
		var err error
		if v, err = view.New(h.cfg.Catalog); err != nil {
			return nil, err
		}
	}
	restored := time.Now()
	if err := foldLogCut(ctx, h.logs, v, from+1, seq, effective); err != nil {
		return nil, err
	}
	foldTook := time.Since(restored)
	tag := fmt.Sprintf("c%de%d-", seq, effective.Unix())
	return &cutView{v: v, caches: newViewCaches(h.cfg.Catalog, tag), from: from, foldTook: foldTook}, nil
}

// foldLogCut folds the log from..to into v with the live view's fold,
// leaving out the entries after effective when it is set and then sweeping
// the rules there. The warning changes it derives are nobody's to write.
func foldLogCut(ctx context.Context, logs jetstream.Stream, v *view.View, from, to uint64, effective time.Time) error {
	batch := make([]view.LogEntry, 0, 1024)
	flush := func() {
		if !effective.IsZero() {
			batch = view.KeepEffective(batch, effective)
		}
		v.ApplyLog(batch)
		batch = batch[:0]
	}
	err := readLog(ctx, logs, from, to, 4096, func(m logMsg) error {
		le, err := decodeLogEntry(m.seq, m.subject, m.header, m.data)
		switch {
		case errors.Is(err, errForeign):
			return nil
		case err != nil:
			return err
		}
		batch = append(batch, le)
		if len(batch) == cap(batch) {
			flush()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fold the log to %d: %w", to, err)
	}
	flush()
	v.Advance(to)
	if !effective.IsZero() {
		v.SettleAt(effective)
	}
	return nil
}

// snapshotAtOrBefore restores the newest readable snapshot at or before
// seq (without the gate's key index, which an as-of view does not need);
// nil when there is none.
func (h *Hub) snapshotAtOrBefore(ctx context.Context, seq uint64) (*view.View, uint64, error) {
	store, err := h.snapshots(ctx)
	if err != nil {
		return nil, 0, err
	}
	infos, err := store.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, 0, fmt.Errorf("list snapshots: %w", err)
	}
	var seqs []uint64
	for _, info := range infos {
		if s, ok := snapshotSeq(info.Name); ok && !info.Deleted && s <= seq {
			seqs = append(seqs, s)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] > seqs[j] })
	for _, s := range seqs {
		v, err := h.readSnapshotView(ctx, store, snapshotName(s))
		if err != nil {
			h.cfg.Logger.Warn("as-of view: snapshot unreadable; trying an older one", "name", snapshotName(s), "err", err)
			continue
		}
		return v, s, nil
	}
	return nil, 0, nil
}

// viewCaches are the encoded responses of one view: the live view's, or an
// as-of view's (whose version never changes).
type viewCaches struct {
	city, counties, digest cache
	county                 map[string]*cache // fixed: the catalog's counties
}

// newViewCaches returns empty caches; tag marks their ETags ("" for the
// live view's).
func newViewCaches(cat *schemas.Catalog, tag string) *viewCaches {
	c := &viewCaches{county: map[string]*cache{}}
	c.city.tag, c.counties.tag, c.digest.tag = tag, tag, tag
	for _, k := range cat.Counties() {
		c.county[k.Code] = &cache{tag: tag}
	}
	return c
}
