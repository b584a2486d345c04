package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// projector folds the canonical log into the shared view, in log order. At
// start it replays the log (from a snapshot's position); then the gate hands
// it every entry as the log stores it, so a fact is visible in the view as
// soon as it is durable. Warning changes a clock tick causes go back to the
// gate to be written to the log.
type projector struct {
	v      *view.View
	in     *queue[storedEntry]
	submit *queue[submission]
	log    *slog.Logger
	// folded is the log sequence of the last entry folded.
	folded atomic.Uint64
	onFold func(seq uint64, t *view.Touched) // what each folded batch touched
	// observer, when set, learns the fact keys of every folded batch.
	observer atomic.Pointer[func(keys []uint64)]
	// foldMu is held while a batch is folded and its changes recorded as
	// pending, so that a snapshot sees the view and the pending changes
	// at the same log position.
	foldMu  sync.Mutex
	pending *pendingChanges
}

// newProjector makes the projector of v: it folds what the writer stores
// (in), hands warning changes to the gate (submit, recorded as pending), and
// tells onFold (nil: nobody) what each folded batch touched.
func newProjector(v *view.View, in *queue[storedEntry], submit *queue[submission], pending *pendingChanges,
	log *slog.Logger, onFold func(seq uint64, t *view.Touched)) *projector {
	return &projector{v: v, in: in, submit: submit, pending: pending, log: log, onFold: onFold}
}

// storedEntry is a log entry as the writer stored it.
type storedEntry struct {
	seq      uint64
	msg      *nats.Msg
	rejected string
}

// errForeign marks a log entry the hub did not write: on a NATS that does
// not keep the log's subjects to the hub, any client publishing there by
// mistake lands in the log. Such entries are never folded.
var errForeign = errors.New("not written by the hub (no " + fact.HeaderIntakeSeq + " header); ignored")

// decode turns a stored log message into a view entry.
func decodeLogEntry(seq uint64, subject string, header nats.Header, data []byte) (view.LogEntry, error) {
	if header.Get(fact.HeaderIntakeSeq) == "" {
		return view.LogEntry{Entry: fact.Entry{Seq: seq}}, fmt.Errorf("log entry %d on %s: %w", seq, subject, errForeign)
	}
	if dept, ok := strings.CutPrefix(subject, fact.RejectedSubjectPrefix); ok {
		if rest, ok := strings.CutPrefix(dept, "county."); ok {
			dept = "county/" + rest
		}
		return view.LogEntry{Entry: fact.Entry{Seq: seq}, RejectedBy: dept}, nil
	}
	e, err := fact.DecodeEntry(seq, subject, header, data)
	return view.LogEntry{Entry: e}, err
}

// run folds what the writer stores until ctx ends.
func (p *projector) run(ctx context.Context) {
	batch := make([]view.LogEntry, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.in.ready():
		}
		items := p.in.popAll()
		for len(items) > 0 {
			n := min(len(items), 256)
			batch = batch[:0]
			for _, it := range items[:n] {
				var le view.LogEntry
				var err error
				if it.rejected != "" {
					le = view.LogEntry{Entry: fact.Entry{Seq: it.seq}, RejectedBy: it.rejected}
				} else {
					le, err = decodeLogEntry(it.seq, it.msg.Subject, it.msg.Header, it.msg.Data)
				}
				if err != nil {
					p.log.Error("log entry cannot be folded", "seq", it.seq, "err", err)
					continue
				}
				batch = append(batch, le)
			}
			p.foldMu.Lock()
			var touched *view.Touched
			if p.onFold != nil {
				touched = &view.Touched{}
			}
			changes := p.v.Fold(batch, touched)
			last := items[n-1].seq
			p.v.Advance(last)
			p.pending.add(changes)
			p.foldMu.Unlock()
			// Hand the warning changes to the gate before saying the entries
			// are folded, so that an idle hub has no change in flight.
			p.emit(changes)
			if p.onFold != nil {
				p.onFold(last, touched)
			}
			if obs := p.observer.Load(); obs != nil {
				keys := make([]uint64, 0, len(batch))
				for i := range batch {
					if batch[i].RejectedBy == "" {
						keys = append(keys, batch[i].Key())
					}
				}
				(*obs)(keys)
			}
			p.folded.Store(last)
			items = items[n:]
		}
	}
}

func (p *projector) emit(changes []view.Change) {
	for i := range changes {
		c := changes[i]
		p.submit.push(submission{change: &c})
	}
}

// replay folds the log from the view's position to lastSeq into the view
// and the gate's key index, and returns the warning changes the replay
// derived (the gate writes those the log does not have yet).
func replay(ctx context.Context, logs jetstream.Stream, v *view.View, keys *keyIndex,
	from, lastSeq uint64, progress func(done, total uint64)) ([]view.Change, error) {
	var changes []view.Change
	batch := make([]view.LogEntry, 0, 1024)
	flush := func() {
		changes = append(changes, v.ApplyLog(batch)...)
		batch = batch[:0]
	}
	next := time.Now().Add(time.Second)
	err := readLog(ctx, logs, from, lastSeq, 4096, func(m logMsg) error {
		le, err := decodeLogEntry(m.seq, m.subject, m.header, m.data)
		switch {
		case errors.Is(err, errForeign):
			slog.Warn("replay: skipping a log entry the hub did not write", "seq", m.seq, "subject", m.subject)
		case err != nil:
			return err
		default:
			if le.RejectedBy == "" {
				keys.index(le, m.seq)
			}
			batch = append(batch, le)
			if len(batch) == cap(batch) {
				flush()
			}
		}
		if progress != nil && time.Now().After(next) {
			progress(m.seq, lastSeq)
			next = time.Now().Add(time.Second)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("replay the log: %w", err)
	}
	if lastSeq >= from {
		flush()
		v.Advance(lastSeq)
	}
	return changes, nil
}
