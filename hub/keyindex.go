package hub

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// This file is the fact-key index: which accepted fact is at which log
// sequence, how the gate rolls back appends the log never stored, and how a
// snapshot stores the index.

// keyIndex maps the fact key of every accepted fact to its log sequence and
// publisher, packed into one uint64 (see packKey: millions of keys must fit
// in memory). It also remembers the keys the gate appended since the last
// entry the log confirmed, so that appends which never reached the log can be
// rolled back when the gate resumes.
//
// One goroutine writes it: the start-up (snapshot, replay) before the gate
// runs, then the gate alone. That writer reads without the lock (lookup,
// seen); it takes the write lock to change the map. Every other goroutine
// (HTTP, the snapshotter) reads through resolve or snapshot, which take the
// read lock.
type keyIndex struct {
	cat *schemas.Catalog

	mu sync.RWMutex      // held to write m, and by readers outside the writer goroutine
	m  map[uint64]uint64 // fact key → packKey(log sequence, publisher index)

	// recent lists the appends since the last confirmed entry, in log
	// order, for rollback; only the gate goroutine touches it.
	recent []keyAt
}

// keyAt is one append of an accepted fact not yet known to be stored: its
// key, the log sequence it was sent for, and the hub's own submission it
// came from (nil for a department's fact), to submit again if it was lost.
type keyAt struct {
	key, seq uint64
	sub      *submission
}

// newKeyIndex returns an empty index whose publishers are those of cat.
func newKeyIndex(cat *schemas.Catalog) *keyIndex {
	return &keyIndex{cat: cat, m: map[uint64]uint64{}}
}

// packKey packs a log sequence and a publisher index into a key-index value.
func packKey(seq uint64, pub uint16) uint64 { return seq | uint64(pub)<<48 }

// unpackKey is the inverse of packKey.
func unpackKey(x uint64) (seq uint64, pub uint16) { return x & (1<<48 - 1), uint16(x >> 48) }

// resolve returns the log sequence and publisher of an accepted fact by
// key; safe from any goroutine.
func (k *keyIndex) resolve(key uint64) (seq uint64, pub schemas.Publisher, ok bool) {
	k.mu.RLock()
	packed, ok := k.m[key]
	k.mu.RUnlock()
	return k.unpack(packed, ok)
}

// lookup is resolve for the writer goroutine, without the lock.
func (k *keyIndex) lookup(key uint64) (seq uint64, pub schemas.Publisher, ok bool) {
	packed, ok := k.m[key]
	return k.unpack(packed, ok)
}

func (k *keyIndex) unpack(packed uint64, ok bool) (uint64, schemas.Publisher, bool) {
	if !ok {
		return 0, schemas.Publisher{}, false
	}
	seq, i := unpackKey(packed)
	pub, _ := k.cat.PublisherByIndex(i)
	return seq, pub, true
}

// seen reports whether the log holds the fact with key key (only from the
// writer goroutine).
func (k *keyIndex) seen(key uint64) bool {
	_, ok := k.m[key]
	return ok
}

// index records that the accepted fact e, read back from the log, is at log
// sequence seq.
func (k *keyIndex) index(e view.LogEntry, seq uint64) {
	pub, _ := k.cat.ParseSource(e.Source)
	k.put(e.Key(), seq, pub)
}

func (k *keyIndex) put(key, seq uint64, pub schemas.Publisher) {
	k.mu.Lock()
	k.m[key] = packKey(seq, k.cat.PublisherIndex(pub))
	k.mu.Unlock()
}

// appended records the fact with key key that the gate just sent for log
// sequence seq, before the log confirms it; sub is the hub's own submission
// it came from, if any.
func (k *keyIndex) appended(key, seq uint64, pub schemas.Publisher, sub *submission) {
	k.put(key, seq, pub)
	k.recent = append(k.recent, keyAt{key: key, seq: seq, sub: sub})
}

// unconfirmed is the number of appends remembered for rollback.
func (k *keyIndex) unconfirmed() int { return len(k.recent) }

// confirmed forgets, for rollback, the appends up to log sequence seq: the
// log has stored them.
func (k *keyIndex) confirmed(seq uint64) {
	i := 0
	for i < len(k.recent) && k.recent[i].seq <= seq {
		i++
	}
	k.recent = append(k.recent[:0], k.recent[i:]...)
}

// rollback forgets the keys of appends that never reached the log, whose
// last sequence is lastSeq; stored maps the log sequences the gate caught up
// with to the fact key found there (see catchUp). It returns the hub's own
// submissions among the lost appends, in their order, to submit again, and
// clears the list.
func (k *keyIndex) rollback(lastSeq uint64, stored map[uint64]uint64) []submission {
	var again []submission
	for _, r := range k.recent {
		if key, read := stored[r.seq]; r.seq <= lastSeq && (!read || key == r.key) {
			continue // stored as appended
		}
		if seq, _ := unpackKey(k.m[r.key]); seq == r.seq {
			k.mu.Lock()
			delete(k.m, r.key)
			k.mu.Unlock()
		}
		if r.sub != nil {
			again = append(again, *r.sub)
		}
	}
	k.recent = k.recent[:0]
	return again
}

// keySnapshot is a copy of the index's entries, sorted by key, as a
// snapshot stores them.
type keySnapshot []keyEntry

// keyEntry is one fact key and its packed value.
type keyEntry struct{ key, packed uint64 }

// snapshot copies the entries of facts at log sequences up to seq (later
// ones are replayed from the log). They are copied under the read lock and
// sorted after it, so the gate, which takes the lock to add keys, waits only
// for the copy.
func (k *keyIndex) snapshot(seq uint64) keySnapshot {
	k.mu.RLock()
	keys := make(keySnapshot, 0, len(k.m))
	for key, packed := range k.m {
		if s, _ := unpackKey(packed); s <= seq {
			keys = append(keys, keyEntry{key, packed})
		}
	}
	k.mu.RUnlock()
	slices.SortFunc(keys, func(a, b keyEntry) int { return cmp.Compare(a.key, b.key) })
	return keys
}

// size is about the number of bytes encode writes.
func (s keySnapshot) size() int { return 16 * len(s) }

// encode writes the count of entries (a uvarint), then each entry: the key
// as 8 bytes big-endian, the packed value as a uvarint. Errors are the
// writer's, reported by its Flush.
func (s keySnapshot) encode(w *bufio.Writer) {
	var tmp [binary.MaxVarintLen64]byte
	w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(s)))])
	for _, e := range s {
		w.Write(binary.BigEndian.AppendUint64(tmp[:0], e.key))
		w.Write(tmp[:binary.PutUvarint(tmp[:], e.packed)])
	}
}

// errKeyCount means a snapshot's key count is unreadable or implausible.
var errKeyCount = errors.New("bad key count")

// decodeKeySnapshot reads what keySnapshot.encode wrote, as the map restore
// takes.
func decodeKeySnapshot(r *bufio.Reader) (map[uint64]uint64, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1<<34 {
		return nil, errKeyCount
	}
	keys := make(map[uint64]uint64, n)
	var kb [8]byte
	for i := uint64(0); i < n; i++ {
		if _, err := io.ReadFull(r, kb[:]); err != nil {
			return nil, err
		}
		packed, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		keys[binary.BigEndian.Uint64(kb[:])] = packed
	}
	return keys, nil
}

// restore replaces the index's entries with those a snapshot held.
func (k *keyIndex) restore(keys map[uint64]uint64) {
	k.mu.Lock()
	k.m = keys
	k.mu.Unlock()
}
