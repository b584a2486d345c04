package hub

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/xianyang/anzhi/fact"
)

// verdictIndex remembers the verdict on every message of one intake stream
// the hub has judged, for the verdict service: 8 bytes per intake sequence, in one
// slice indexed by sequence. It is filled from the log at start (a scan of
// the log's headers in the background: each entry names its intake
// sequence) and then live — by the log writer as each entry is stored and by
// the gate as it drops a duplicate. Recording takes one uncontended lock and
// wakes waiters only once progress reaches what they wait for, so that the
// judging path stays cheap.
type verdictIndex struct {
	mu    sync.Mutex
	base  uint64   // intake sequence of slots[0]
	slots []uint64 // verdictKind<<56 | log sequence, 0 for not (yet) known
	from  uint64   // lowest intake sequence whose verdict is remembered
	limit int      // most sequences remembered; the oldest are forgotten

	rebuiltTo uint64 // intake sequences up to this one were judged before the start
	rebuilt   bool   // the log's entries up to the start are in slots
	judged    uint64 // every intake sequence up to this one is judged and stored

	wakeAt uint64        // progress that wakes the waiters (MaxUint64: none)
	wake   chan struct{} // closed, and replaced, to wake the waiters
}

// verdictKind is the kind of verdict in a slot.
type verdictKind uint64

const (
	kindNone verdictKind = iota
	kindAccepted
	kindRefused
	kindDuplicate
)

const logSeqMask = 1<<56 - 1

// defaultVerdictMemory is how many intake sequences the hub remembers the
// verdict of by default (8 bytes each: 32 MiB).
const defaultVerdictMemory = 4 << 20

// newVerdictIndex returns an index for a hub whose log records judging up
// to intake sequence judged; rebuilt says whether there is nothing to read
// back from the log (a new log).
func newVerdictIndex(limit int, judged uint64, rebuilt bool) *verdictIndex {
	return &verdictIndex{base: judged + 1, from: 1, limit: max(limit, 1024), rebuiltTo: judged, rebuilt: rebuilt,
		judged: judged, wakeAt: math.MaxUint64, wake: make(chan struct{})}
}

// put sets the slot of intake sequence seq; mu is held.
func (x *verdictIndex) put(seq uint64, kind verdictKind, logSeq uint64) {
	if seq == 0 || seq < x.from {
		return
	}
	if seq < x.base {
		// An entry of the start's scan below everything recorded so far.
		grown := make([]uint64, uint64(len(x.slots))+x.base-seq)
		copy(grown[x.base-seq:], x.slots)
		x.slots, x.base = grown, seq
	}
	i := seq - x.base
	for i >= uint64(len(x.slots)) {
		x.slots = append(x.slots, 0) // nearly always one: sequences come in order
	}
	x.slots[i] = uint64(kind)<<56 | logSeq&logSeqMask
	if len(x.slots) > x.limit {
		// Forget the oldest quarter at once, so that trimming is rare.
		n := len(x.slots) - x.limit*3/4
		x.slots = append(x.slots[:0], x.slots[n:]...)
		x.base += uint64(n)
		x.from = max(x.from, x.base)
	}
}

// wakeIfDue wakes the waiters when progress reached what one of them waits
// for; mu is held.
func (x *verdictIndex) wakeIfDue(seq uint64) {
	if seq >= x.wakeAt || x.judged >= x.wakeAt {
		close(x.wake)
		x.wake = make(chan struct{})
		x.wakeAt = math.MaxUint64
	}
}

// stored records the verdict a stored log entry carries: intake sequence
// seq judged at log sequence logSeq (the hub judges each intake stream in
// order, so everything before it is judged too).
func (x *verdictIndex) stored(seq, logSeq uint64, kind verdictKind) {
	x.mu.Lock()
	x.put(seq, kind, logSeq)
	x.judged = max(x.judged, seq)
	x.wakeIfDue(seq)
	x.mu.Unlock()
}

// duplicate records that intake sequence seq repeated the fact at log
// sequence logSeq and was dropped.
func (x *verdictIndex) duplicate(seq, logSeq uint64) {
	x.mu.Lock()
	x.put(seq, kindDuplicate, logSeq)
	x.wakeIfDue(seq)
	x.mu.Unlock()
}

// scanned records an entry read back from the log at start.
func (x *verdictIndex) scanned(seq, logSeq uint64, kind verdictKind, first bool) {
	x.mu.Lock()
	if first {
		// The scan began after the log's start: nothing older is known.
		x.from = max(x.from, seq)
	}
	x.put(seq, kind, logSeq)
	x.mu.Unlock()
}

// scanDone marks the log's entries up to the start as read back; when the
// read failed (complete false), what it did not read is unknown.
func (x *verdictIndex) scanDone(complete bool) {
	x.mu.Lock()
	x.rebuilt = true
	if !complete {
		x.from = max(x.from, x.rebuiltTo+1)
	}
	close(x.wake)
	x.wake = make(chan struct{})
	x.wakeAt = math.MaxUint64
	x.mu.Unlock()
}

// lookup returns the verdict on intake sequence seq as far as it is known
// now; final is false while it may still change. mu is held.
func (x *verdictIndex) lookup(seq uint64) (v fact.IntakeVerdict, final bool) {
	v.IntakeSeq = seq
	var slot uint64
	if seq >= x.base && seq-x.base < uint64(len(x.slots)) {
		slot = x.slots[seq-x.base]
	}
	switch verdictKind(slot >> 56) {
	case kindAccepted:
		v.Status, v.LogSeq = fact.VerdictAccepted, slot&logSeqMask
		return v, true
	case kindRefused:
		v.Status, v.LogSeq = fact.VerdictRefused, slot&logSeqMask
		return v, true
	case kindDuplicate:
		v.Status, v.LogSeq = fact.VerdictDuplicate, slot&logSeqMask
		return v, true
	}
	switch {
	case seq == 0:
		v.Status, v.Note = fact.VerdictUnknown, "intake sequences start at 1"
		return v, true
	case seq <= x.rebuiltTo && !x.rebuilt:
		v.Status, v.Note = fact.VerdictPending, "the hub is still reading its log back after a restart"
		return v, false
	case seq < x.from:
		v.Status, v.Note = fact.VerdictUnknown, fmt.Sprintf("older than what the hub remembers (from intake sequence %d on)", x.from)
		return v, true
	case seq <= x.rebuiltTo:
		// Judged before the restart, and no entry of its own in the log:
		// the hub dropped it as a repeat of a fact it already held.
		v.Status = fact.VerdictDuplicate
		v.Note = "judged before the hub last restarted: a repeat of a fact already in the log, which the hub no longer links it to"
		return v, true
	case seq <= x.judged:
		v.Status, v.Note = fact.VerdictUnknown, "the hub never saw this intake message (it was removed before it was judged)"
		return v, true
	}
	v.Status, v.Note = fact.VerdictPending, "not judged yet"
	return v, false
}

// wait returns the verdicts on seqs, waiting until each is final or ctx
// ends (those still pending then say so). Sequences past last, the intake's
// last sequence (math.MaxUint64: not known), name no message and are
// unknown at once.
func (x *verdictIndex) wait(ctx context.Context, seqs []uint64, last uint64) []fact.IntakeVerdict {
	out := make([]fact.IntakeVerdict, len(seqs))
	open := make([]int, 0, len(seqs)) // indexes of seqs not final yet
	for i := range seqs {
		open = append(open, i)
	}
	for {
		x.mu.Lock()
		// Wake when progress reaches the highest sequence still open: the
		// hub judges in order, so by then nearly all of them are final, and
		// a waiter on a large batch wakes a few times, not once a message.
		still, high := open[:0], uint64(0)
		for _, i := range open {
			v, final := x.lookup(seqs[i])
			if !final && seqs[i] > last {
				v.Status, v.Note = fact.VerdictUnknown, fmt.Sprintf("the intake holds no message %d (its last is %d)", seqs[i], last)
				final = true
			}
			out[i] = v
			if !final {
				still = append(still, i)
				if x.rebuilt || seqs[i] > x.rebuiltTo {
					high = max(high, seqs[i])
				} // else the scan's end wakes it
			}
		}
		open = still
		if len(open) == 0 || ctx.Err() != nil {
			x.mu.Unlock()
			return out
		}
		if high > 0 {
			x.wakeAt = min(x.wakeAt, high)
		}
		wake := x.wake
		x.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
	}
}
