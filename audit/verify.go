package audit

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// Divergence is where the log's history departs from what the hub signed:
// the first log sequence that differs (Seq), and when a checkpoint can only
// bound it, the last sequence it may be (Upto, else equal to Seq).
type Divergence struct {
	Seq    uint64 `json:"log_seq"`
	Upto   uint64 `json:"up_to_seq"`
	Reason string `json:"reason"`
}

func (d *Divergence) String() string {
	if d.Upto > d.Seq {
		return fmt.Sprintf("history diverges at a log sequence from %d to %d: %s", d.Seq, d.Upto, d.Reason)
	}
	return fmt.Sprintf("history diverges at log sequence %d: %s", d.Seq, d.Reason)
}

// Report is what a Checker found.
type Report struct {
	// From and To are the log sequences recomputed; Entries how many were
	// read.
	From    uint64 `json:"from_seq"`
	To      uint64 `json:"to_seq"`
	Entries uint64 `json:"entries"`
	// Checkpoints counts the signed checkpoints whose signature verified
	// and whose root the recomputed tree has at their size; Latest is the
	// last of them.
	Checkpoints int         `json:"checkpoints"`
	Latest      *Checkpoint `json:"-"`
	Root        []byte      `json:"root"`
	// Divergence is the first place history departs (nil: none found).
	Divergence *Divergence `json:"divergence,omitempty"`
	// Problems lists everything wrong, in the order found.
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether the log and every checkpoint agree.
func (r *Report) OK() bool { return r.Divergence == nil && len(r.Problems) == 0 }

// Checker recomputes the tree from the log's entries, in sequence order,
// and checks every signed checkpoint against it: its signature, its root
// at its size, and its consistency with the next (each a prefix of the
// same recomputed tree, sizes never shrinking). Feed it the audit stream's
// checkpoints first (AddCheckpoint), then the log's entries (AddEntry),
// then call Finish.
type Checker struct {
	v       note.Verifier
	rng     *compact.Range
	lh      LeafHasher
	next    uint64 // log sequence expected next
	lastCP  uint64 // size of the last checkpoint that held
	pending []Checkpoint
	lastAdd uint64 // size of the last checkpoint added (for order)
	r       Report
}

// NewChecker returns a checker of checkpoints signed with v's key, starting
// at the first log entry.
func NewChecker(v note.Verifier) *Checker {
	return &Checker{v: v, rng: factory.NewEmptyRange(0), next: 1, r: Report{From: 1}}
}

// ResumeFrom starts the checker after a checkpoint instead of the log's
// start: signed is the checkpoint's note, hashes the compact range of its
// tree (the audit stream keeps it beside each checkpoint), which must give
// the signed root.
func (c *Checker) ResumeFrom(signed []byte, hashes [][]byte) error {
	cp, err := OpenCheckpoint(signed, c.v)
	if err != nil {
		return err
	}
	rng, err := factory.NewRange(0, cp.Size, hashes)
	if err != nil {
		return fmt.Errorf("%w: compact range of the checkpoint of size %d: %w", ErrBadCheckpoint, cp.Size, err)
	}
	if root, err := rng.GetRootHash(nil); cp.Size > 0 && (err != nil || !bytes.Equal(root, cp.Root)) {
		return fmt.Errorf("%w: the compact range kept with the checkpoint of size %d does not give its root", ErrBadCheckpoint, cp.Size)
	}
	c.rng, c.next, c.lastCP, c.r.From = rng, cp.Size+1, cp.Size, cp.Size+1
	c.r.Latest = &cp
	return nil
}

// AddCheckpoint checks a signed checkpoint's signature and queues it to be
// compared with the tree at its size; at names it in problems (the audit
// stream's sequence, say).
func (c *Checker) AddCheckpoint(at string, signed []byte) {
	cp, err := OpenCheckpoint(signed, c.v)
	if err != nil {
		c.problem(fmt.Sprintf("checkpoint %s: %v", at, err))
		return
	}
	if cp.Size < c.lastAdd {
		c.problem(fmt.Sprintf("checkpoint %s: tree size %d is smaller than the checkpoint before it (%d): the log shrank", at, cp.Size, c.lastAdd))
	}
	c.lastAdd = max(c.lastAdd, cp.Size)
	if cp.Size < c.next {
		return // before where the check starts (ResumeFrom)
	}
	c.pending = append(c.pending, cp)
	sort.SliceStable(c.pending, func(i, j int) bool { return c.pending[i].Size < c.pending[j].Size })
	c.checkpoints()
}

// AddEntry adds the next log entry the log holds. A sequence beyond the one
// expected means entries were removed: history diverges at the first.
func (c *Checker) AddEntry(e Entry) {
	if c.r.Divergence != nil && c.r.Divergence.Seq < c.next {
		// After a divergence the tree no longer matches; go on counting.
		c.r.Entries++
		c.next = e.Seq + 1
		return
	}
	if e.Seq != c.next {
		c.diverge(c.next, e.Seq-1, fmt.Sprintf("log entries %d to %d are missing (deleted or purged)", c.next, e.Seq-1))
		c.r.Entries++
		c.next = e.Seq + 1
		return
	}
	_ = c.rng.Append(c.lh.Hash(nil, e), nil) // a range begun at 0 never fails; it keeps the slice
	c.r.Entries++
	c.r.To = e.Seq
	c.next++
	c.checkpoints()
}

// checkpoints compares the queued checkpoints the tree has reached.
func (c *Checker) checkpoints() {
	size := c.rng.End()
	for len(c.pending) > 0 && c.pending[0].Size <= size {
		cp := c.pending[0]
		c.pending = c.pending[1:]
		if cp.Size < size || c.r.Divergence != nil {
			continue
		}
		root := hasher.EmptyRoot()
		if size > 0 {
			root, _ = c.rng.GetRootHash(nil)
		}
		if !bytes.Equal(root, cp.Root) {
			c.diverge(c.lastCP+1, cp.Size, fmt.Sprintf("the log's tree of %d entries is not the one the checkpoint of size %d signed (the last that held: size %d)",
				size, cp.Size, c.lastCP))
			continue
		}
		c.lastCP = cp.Size
		c.r.Checkpoints++
		c.r.Latest = &cp
	}
}

// Finish ends the check: the log ended after sequence last (0: empty). A
// checkpoint beyond the log's end means entries were removed from its end.
func (c *Checker) Finish(last uint64) *Report {
	if last >= c.next && c.r.Divergence == nil {
		c.diverge(c.next, last, fmt.Sprintf("log entries %d to %d are missing (deleted or purged)", c.next, last))
	}
	for _, cp := range c.pending {
		if c.r.Divergence == nil {
			c.diverge(c.rng.End()+1, cp.Size, fmt.Sprintf("a checkpoint signed a tree of %d entries; the log has %d", cp.Size, c.rng.End()))
		}
	}
	c.pending = nil
	if c.rng.End() > 0 {
		c.r.Root, _ = c.rng.GetRootHash(nil)
	} else {
		c.r.Root = hasher.EmptyRoot()
	}
	return &c.r
}

func (c *Checker) diverge(seq, upto uint64, reason string) {
	if c.r.Divergence == nil || seq < c.r.Divergence.Seq {
		c.r.Divergence = &Divergence{Seq: seq, Upto: max(seq, upto), Reason: reason}
	}
	c.problem(c.r.Divergence.String())
}

func (c *Checker) problem(s string) { c.r.Problems = append(c.r.Problems, s) }

// Report returns the report so far (From tells where the check begins).
func (c *Checker) Report() *Report { return &c.r }
