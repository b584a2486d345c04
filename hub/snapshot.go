package hub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

const (
	snapshotMagic = "ANZHISNAP1"
	snapshotKeep  = 3 // newest snapshots kept
)

// SnapshotInfo describes a checkpoint.
type SnapshotInfo struct {
	Name  string        `json:"name"`
	Seq   uint64        `json:"log_seq"`
	Bytes int           `json:"bytes"`
	Took  time.Duration `json:"took"`
}

func snapshotName(seq uint64) string { return fmt.Sprintf("view-%016d", seq) }

func snapshotSeq(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, "view-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func (h *Hub) snapshots(ctx context.Context) (jetstream.ObjectStore, error) {
	os, err := h.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      fact.SnapshotBucket,
		Description: "anzhi view checkpoints: the folded view and the fact-key index at a log sequence",
		Storage:     jetstream.FileStorage,
		Compression: true,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	return os, nil
}

// Snapshot checkpoints the view and the fact-key index at the view's log
// sequence. The view is encoded under its read lock (folding pauses for
// that long, ≈0.3 s per million persons); the upload happens after.
func (h *Hub) Snapshot(ctx context.Context) (SnapshotInfo, error) {
	h.snapMu.Lock()
	defer h.snapMu.Unlock()
	start := time.Now()
	var viewBuf bytes.Buffer
	// The view and the changes it derived but the log lacks, at one log
	// position: folding waits for this.
	h.proj.foldMu.Lock()
	seq, err := h.view.WriteSnapshotAt(&viewBuf)
	unwritten := h.gate.pending.list()
	h.proj.foldMu.Unlock()
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	pendingJSON, err := json.Marshal(unwritten)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	// Keys of facts up to seq only: later ones are replayed from the log.
	keys := h.gate.keys.snapshot(seq)
	var buf bytes.Buffer
	buf.Grow(viewBuf.Len() + keys.size() + len(pendingJSON) + 64)
	w := bufio.NewWriter(&buf)
	var tmp [binary.MaxVarintLen64]byte
	put := func(x uint64) { w.Write(tmp[:binary.PutUvarint(tmp[:], x)]) }
	w.WriteString(snapshotMagic)
	put(seq)
	keys.encode(w)
	w.Write(viewBuf.Bytes())
	// Then the unwritten changes (absent from snapshots of older versions).
	put(uint64(len(pendingJSON)))
	w.Write(pendingJSON)
	if err := w.Flush(); err != nil {
		return SnapshotInfo{}, err
	}
	store, err := h.snapshots(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	name := snapshotName(seq)
	if _, err := store.Put(ctx, jetstream.ObjectMeta{Name: name, Description: "anzhi view at log sequence " + strconv.FormatUint(seq, 10),
		Metadata: map[string]string{"log_seq": strconv.FormatUint(seq, 10), "format": snapshotMagic}}, bytes.NewReader(buf.Bytes())); err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", name, err)
	}
	h.lastSnapshot.Store(seq)
	// Keep the newest few for a restart, and older ones spread over the
	// log for as-of views (snapshot_asof.go).
	if infos, err := store.List(ctx); err == nil {
		var seqs []uint64
		for _, info := range infos {
			if s, ok := snapshotSeq(info.Name); ok {
				seqs = append(seqs, s)
			}
		}
		kept := retainedSnapshots(seqs, snapshotKeep, h.cfg.AsOfSnapshots)
		for _, s := range seqs {
			if !slices.Contains(kept, s) {
				_ = store.Delete(ctx, snapshotName(s))
			}
		}
	}
	info := SnapshotInfo{Name: name, Seq: seq, Bytes: buf.Len(), Took: time.Since(start)}
	h.cfg.Logger.Info("view snapshot written", "log_seq", seq, "bytes", info.Bytes, "took", info.Took.Round(time.Millisecond))
	return info, nil
}

// loadSnapshot restores the newest readable snapshot into a view and the
// gate's key index; it returns the snapshot's log sequence, or 0 (and an
// empty view) when there is none, and the warning changes the view had
// derived that the log did not hold yet.
func (h *Hub) loadSnapshot(ctx context.Context) (*view.View, uint64, []view.Change, error) {
	if h.cfg.Rebuild {
		v, err := view.New(h.cfg.Catalog)
		return v, 0, nil, err
	}
	store, err := h.snapshots(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	infos, err := store.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, 0, nil, fmt.Errorf("list snapshots: %w", err)
	}
	var seqs []uint64
	for _, info := range infos {
		if s, ok := snapshotSeq(info.Name); ok && !info.Deleted {
			seqs = append(seqs, s)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] > seqs[j] })
	for _, seq := range seqs {
		start := time.Now()
		v, keys, unwritten, err := h.readSnapshot(ctx, store, snapshotName(seq))
		if err != nil {
			h.cfg.Logger.Warn("snapshot unreadable; trying an older one", "name", snapshotName(seq), "err", err)
			continue
		}
		h.gate.keys.restore(keys)
		h.lastSnapshot.Store(seq)
		h.cfg.Logger.Info("view restored from snapshot", "log_seq", seq, "took", time.Since(start).Round(time.Millisecond))
		return v, seq, unwritten, nil
	}
	v, err := view.New(h.cfg.Catalog)
	return v, 0, nil, err
}

func (h *Hub) readSnapshot(ctx context.Context, store jetstream.ObjectStore, name string) (*view.View, map[uint64]uint64, []view.Change, error) {
	obj, err := store.Get(ctx, name)
	if err != nil {
		return nil, nil, nil, err
	}
	defer obj.Close()
	r := bufio.NewReaderSize(obj, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapshotMagic {
		return nil, nil, nil, fmt.Errorf("%s: not an anzhi snapshot", name)
	}
	seq, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, nil, nil, err
	}
	keys, err := decodeKeySnapshot(r)
	if errors.Is(err, errKeyCount) {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	// view.Restore reads through r itself (a bufio.Reader of the size it
	// asks for is used as is), so what follows the view is still in r.
	v, err := view.Restore(h.cfg.Catalog, r)
	if err != nil {
		return nil, nil, nil, err
	}
	if v.Seq() != seq {
		return nil, nil, nil, fmt.Errorf("%s: view at %d, snapshot says %d", name, v.Seq(), seq)
	}
	var unwritten []view.Change
	if n, err := binary.ReadUvarint(r); err == nil {
		if n > 1<<30 {
			return nil, nil, nil, fmt.Errorf("%s: bad length of the unwritten changes", name)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, nil, nil, err
		}
		if err := json.Unmarshal(b, &unwritten); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: unwritten changes: %w", name, err)
		}
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, nil, err
	}
	// The object store checks the digest of what it returns once read to
	// the end; drain so that a damaged object is noticed.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, nil, nil, err
	}
	return v, keys, unwritten, nil
}

// runSnapshots checkpoints the view every SnapshotEvery log entries.
func (h *Hub) runSnapshots(ctx context.Context) {
	if h.cfg.SnapshotEvery < 0 {
		return
	}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if h.view.Seq() >= h.lastSnapshot.Load()+uint64(h.cfg.SnapshotEvery) {
				if _, err := h.Snapshot(ctx); err != nil && ctx.Err() == nil {
					h.cfg.Logger.Warn("snapshot failed", "err", err)
				}
			}
		}
	}
}
