package hub

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/view"
)

// This file is what as-of views need of snapshots: older snapshots kept
// besides the newest few a restart needs, and reading one's view alone.

// defaultAsOfSnapshots is how many snapshots older than the newest
// snapshotKeep are kept for as-of views (Config.AsOfSnapshots).
const defaultAsOfSnapshots = 8

// retainedSnapshots returns which snapshots (log sequences) to keep: the
// newest keepNewest, and of the older ones at most keepOlder spread over
// the log — the oldest is always kept, and while there are too many, the
// one whose removal leaves the smallest gap goes — so that an as-of view
// folds at most about log length / keepOlder entries after the snapshot it
// starts from.
func retainedSnapshots(seqs []uint64, keepNewest, keepOlder int) []uint64 {
	s := append([]uint64(nil), seqs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) <= keepNewest {
		return s
	}
	older, newest := s[:len(s)-keepNewest], s[len(s)-keepNewest:]
	for len(older) > max(keepOlder, 0) {
		if keepOlder <= 0 {
			older = older[:0]
			break
		}
		// Drop the interior one with the smallest gap around it; with
		// only the oldest left to choose, drop the one after it.
		drop, best := len(older)-1, uint64(1<<63)
		for i := 1; i < len(older); i++ {
			next := newest[0]
			if i+1 < len(older) {
				next = older[i+1]
			}
			if gap := next - older[i-1]; gap < best {
				drop, best = i, gap
			}
		}
		older = append(older[:drop], older[drop+1:]...)
	}
	return append(older, newest...)
}

// readSnapshotView reads a snapshot's view, skipping the gate's key index.
func (h *Hub) readSnapshotView(ctx context.Context, store jetstream.ObjectStore, name string) (*view.View, error) {
	obj, err := store.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	r := bufio.NewReaderSize(obj, 1<<20)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%s: not an anzhi snapshot", name)
	}
	seq, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if err := skipKeySnapshot(r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v, err := view.Restore(h.cfg.Catalog, r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if v.Seq() != seq {
		return nil, fmt.Errorf("%s: view at %d, snapshot says %d", name, v.Seq(), seq)
	}
	return v, nil
}

// skipKeySnapshot reads past what keySnapshot.encode wrote.
func skipKeySnapshot(r *bufio.Reader) error {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1<<34 {
		return errKeyCount
	}
	for i := uint64(0); i < n; i++ {
		if _, err := r.Discard(8); err != nil {
			return err
		}
		if _, err := binary.ReadUvarint(r); err != nil {
			return err
		}
	}
	return nil
}
