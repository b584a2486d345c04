package hub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errWriterFailed means an append to the log failed; the gate re-reads the
// log's tail and resumes from what was really stored.
var errWriterFailed = errors.New("log append failed")

// logEntry is one append to the canonical log.
type logEntry struct {
	msg       *nats.Msg
	src       *intakeSource // the intake stream of the message it judges (nil: the hub's own event)
	intakeSeq uint64
	seq       uint64        // log sequence it must get
	key       uint64        // fact key for accepted facts, 0 otherwise
	erase     bool          // erase the intake message once this entry is stored
	rejected  string        // department of a rejection entry
	stored    chan struct{} // closed once stored (a submission's; see submission.stored)
}

// logWriter appends to the log with many appends in flight, while keeping
// the log a gap-free prefix of the hub's decisions: each append expects the
// previous sequence (Nats-Expected-Last-Sequence), so when one fails every
// later one fails too, and a second writer cannot interleave.
type logWriter struct {
	js      jetstream.JetStream
	next    uint64 // sequence of the next append (only the gate goroutine touches it)
	pending chan pendingAppend

	confirmedSeq atomic.Uint64 // highest log sequence known stored

	mu       sync.Mutex
	err      error
	failed   chan struct{}
	drained  chan struct{}
	progress chan struct{} // signalled after each resolved append
	onStored func(e *logEntry)
	// loseAck, in tests, makes the acknowledgement of a stored entry look
	// lost (as after a timeout or a dropped connection).
	loseAck func(seq uint64) bool
}

type pendingAppend struct {
	e   *logEntry
	fut jetstream.PubAckFuture
}

func newLogWriter(js jetstream.JetStream, lastSeq uint64, maxInFlight int, onStored func(*logEntry)) *logWriter {
	w := &logWriter{
		js:       js,
		next:     lastSeq + 1,
		pending:  make(chan pendingAppend, maxInFlight),
		failed:   make(chan struct{}),
		drained:  make(chan struct{}),
		progress: make(chan struct{}, 1),
		onStored: onStored,
	}
	w.confirmedSeq.Store(lastSeq)
	go w.drain()
	return w
}

// Append sends e to the log; it blocks while too many appends are in
// flight. The entry is stored when onStored is called for it.
func (w *logWriter) Append(ctx context.Context, e *logEntry) error {
	select {
	case <-w.failed:
		return w.Err()
	default:
	}
	e.seq = w.next
	e.msg.Header.Set(jetstream.ExpectedLastSeqHeader, strconv.FormatUint(e.seq-1, 10))
	fut, err := w.js.PublishMsgAsync(e.msg, jetstream.WithStallWait(time.Minute))
	if err != nil {
		w.fail(fmt.Errorf("%w: %w", errWriterFailed, err))
		return w.Err()
	}
	w.next++
	select {
	case w.pending <- pendingAppend{e, fut}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *logWriter) drain() {
	defer close(w.drained)
	for p := range w.pending {
		if w.Err() != nil {
			// After a failure, later acknowledgements are not handed on:
			// onStored sees the log in order and without gaps, and the gate
			// catches up with whatever was stored when it resumes.
			continue
		}
		select {
		case ack := <-p.fut.Ok():
			if w.loseAck != nil && w.loseAck(ack.Sequence) {
				w.fail(fmt.Errorf("%w at log sequence %d: acknowledgement lost (test)", errWriterFailed, p.e.seq))
				continue
			}
			if ack.Sequence != p.e.seq {
				w.fail(fmt.Errorf("%w: entry stored at %d, expected %d (another writer?)", errWriterFailed, ack.Sequence, p.e.seq))
				continue
			}
			if w.onStored != nil {
				w.onStored(p.e)
			}
			w.confirmedSeq.Store(p.e.seq)
		case err := <-p.fut.Err():
			w.fail(fmt.Errorf("%w at log sequence %d: %w", errWriterFailed, p.e.seq, err))
		}
		select {
		case w.progress <- struct{}{}:
		default:
		}
	}
}

func (w *logWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
		close(w.failed)
	}
}

// Err returns the first failure, or nil.
func (w *logWriter) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Flush waits until every append so far is stored or has failed.
func (w *logWriter) Flush(ctx context.Context) error {
	target := w.next - 1
	for w.confirmedSeq.Load() < target {
		select {
		case <-w.failed:
			return w.Err()
		case <-ctx.Done():
			return ctx.Err()
		case <-w.progress:
		}
	}
	return w.Err()
}

// Close stops the writer after the appends in flight resolve.
func (w *logWriter) Close() {
	close(w.pending)
	<-w.drained
}
