package publishers

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// BatchResult is one fact's outcome in a batch.
type BatchResult struct {
	// Index is the position of the fact in the order it was added.
	Index   int
	Receipt Receipt
	// Err is a *fact.ValidationError (never sent) or the publish error
	// after retries.
	Err error
}

// BatchOptions tune a batch.
type BatchOptions struct {
	// MaxPending bounds unacknowledged publishes (default 4096).
	MaxPending int
	// Workers validate facts in parallel (default GOMAXPROCS).
	Workers int
	// OnResult, when set, is called once per fact as its outcome is known,
	// from one goroutine at a time.
	OnResult func(BatchResult)
}

// BatchSummary counts a batch's outcomes.
type BatchSummary struct {
	Added      int
	Published  int // stored by JetStream (new)
	Duplicates int // recognised by JetStream as already published
	Invalid    int // refused locally, never sent
	Failed     int // could not be published after retries
}

// Batch publishes many facts asynchronously, for bulk loads (ledger imports,
// the simulator). Facts are encoded without the SDK's reflection and
// validated locally like Publish, by several workers, then sent in the order
// they were added with many acknowledgements in flight; failed publishes are
// retried synchronously. Add (and Flush) from one goroutine, then Wait.
type Batch struct {
	p    *Publisher
	js   jetstream.JetStream
	opts BatchOptions
	ctx  context.Context

	work    chan *batchItem
	ordered chan *batchItem
	acks    chan pendingAck
	done    chan struct{}
	workers sync.WaitGroup

	mu    sync.Mutex
	sum   BatchSummary
	added int
	// finished counts outcomes; flushed, when set, is closed once it
	// reaches flushAt (a Flush waits on it).
	finished int
	flushed  chan struct{}
	flushAt  int
}

type batchItem struct {
	index int
	fact  Fact
	msg   *nats.Msg
	err   error
	ready chan struct{}
}

type pendingAck struct {
	index int
	msg   *nats.Msg
	fut   jetstream.PubAckFuture
}

// NewBatch starts a batch. Call Wait when every fact is added.
func (p *Publisher) NewBatch(ctx context.Context, opts BatchOptions) (*Batch, error) {
	if opts.MaxPending <= 0 {
		opts.MaxPending = 4096
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	// A timeout resolves acknowledgements lost with a dropped connection;
	// they are then retried (or fail) instead of hanging the batch.
	js, err := jetstream.New(p.nc, jetstream.WithPublishAsyncMaxPending(opts.MaxPending),
		jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("publishers: batch: %w", err)
	}
	b := &Batch{
		p: p, js: js, opts: opts, ctx: ctx,
		work:    make(chan *batchItem, opts.MaxPending),
		ordered: make(chan *batchItem, opts.MaxPending),
		acks:    make(chan pendingAck, opts.MaxPending),
		done:    make(chan struct{}),
	}
	for range opts.Workers {
		b.workers.Add(1)
		go func() {
			defer b.workers.Done()
			for it := range b.work {
				it.msg, it.err = p.buildFast(it.fact)
				close(it.ready)
			}
		}()
	}
	go b.send()
	go b.collect()
	return b, nil
}

// buildFast encodes and validates a fact for a batch: the same event
// Publisher.Build makes, encoded by hand (structured mode) instead of through
// the SDK.
func (p *Publisher) buildFast(f Fact) (*nats.Msg, error) {
	if p.binary {
		return p.Build(f)
	}
	msg, err := p.BuildUnchecked(f)
	if err != nil {
		return nil, err
	}
	if err := p.check(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// Add queues a fact and returns its index. Its outcome — including a
// validation error — arrives through OnResult and the summary; Add itself
// fails only when the batch's context ends.
func (b *Batch) Add(f Fact) (int, error) {
	it := &batchItem{index: b.added, fact: f, ready: make(chan struct{})}
	b.added++
	b.mu.Lock()
	b.sum.Added++
	b.mu.Unlock()
	select {
	case b.work <- it:
	case <-b.ctx.Done():
		return it.index, b.ctx.Err()
	}
	select {
	case b.ordered <- it:
		return it.index, nil
	case <-b.ctx.Done():
		return it.index, b.ctx.Err()
	}
}

// AddMsg queues an already built message (see Publisher.Build). It is
// validated again like every fact of the batch.
func (b *Batch) AddMsg(msg *nats.Msg) (int, error) {
	it := &batchItem{index: b.added, msg: msg, ready: make(chan struct{})}
	b.added++
	b.mu.Lock()
	b.sum.Added++
	b.mu.Unlock()
	it.err = b.p.check(msg)
	close(it.ready)
	select {
	case b.ordered <- it:
		return it.index, nil
	case <-b.ctx.Done():
		return it.index, b.ctx.Err()
	}
}

// send publishes items in the order they were added.
func (b *Batch) send() {
	defer close(b.acks)
	for it := range b.ordered {
		<-it.ready
		if it.err != nil {
			b.finish(BatchResult{Index: it.index, Err: it.err})
			continue
		}
		fut, err := b.js.PublishMsgAsync(it.msg, jetstream.WithStallWait(time.Minute))
		if err != nil {
			// Could not even queue it (e.g. disconnected): fall back to
			// the synchronous path with retries.
			r, err := b.p.PublishMsg(b.ctx, it.msg)
			b.finish(BatchResult{Index: it.index, Receipt: r, Err: err})
			continue
		}
		b.acks <- pendingAck{it.index, it.msg, fut}
	}
}

func (b *Batch) collect() {
	defer close(b.done)
	for pa := range b.acks {
		select {
		case ack := <-pa.fut.Ok():
			if ack.Duplicate && b.p.preempted(b.ctx, ack.Sequence) {
				// The id was taken by another sender's refused message:
				// the synchronous path sends the fact again under a fresh id.
				r, err := b.p.PublishMsg(b.ctx, pa.msg)
				b.finish(BatchResult{Index: pa.index, Receipt: r, Err: err})
				continue
			}
			b.finish(BatchResult{Index: pa.index, Receipt: Receipt{
				ID: eventID(pa.msg), Subject: pa.msg.Subject, Seq: ack.Sequence, Duplicate: ack.Duplicate, p: b.p}})
		case err := <-pa.fut.Err():
			if Transient(err) && b.ctx.Err() == nil {
				r, err2 := b.p.PublishMsg(b.ctx, pa.msg)
				b.finish(BatchResult{Index: pa.index, Receipt: r, Err: err2})
				continue
			}
			b.finish(BatchResult{Index: pa.index, Err: fmt.Errorf("publish %s: %w", eventID(pa.msg), err)})
		case <-b.ctx.Done():
			b.finish(BatchResult{Index: pa.index, Err: b.ctx.Err()})
		}
	}
}

func (b *Batch) finish(r BatchResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case r.Err != nil && errors.Is(r.Err, fact.ErrInvalid):
		b.sum.Invalid++
	case r.Err != nil:
		b.sum.Failed++
	case r.Receipt.Duplicate:
		b.sum.Duplicates++
	default:
		b.sum.Published++
	}
	if b.opts.OnResult != nil {
		b.opts.OnResult(r)
	}
	b.finished++
	if b.flushed != nil && b.finished >= b.flushAt {
		close(b.flushed)
		b.flushed = nil
	}
}

// Flush waits until every fact added so far has its outcome and returns the
// summary up to then; the batch stays open for more. It is how a publisher
// that must know a stretch of facts is stored (before it asks the hub about
// them) keeps one batch for a long load.
func (b *Batch) Flush(ctx context.Context) (BatchSummary, error) {
	b.mu.Lock()
	if b.finished >= b.added {
		defer b.mu.Unlock()
		return b.sum, nil
	}
	ch := make(chan struct{})
	b.flushed, b.flushAt = ch, b.added
	b.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return BatchSummary{}, fmt.Errorf("publishers: flush: %w", ctx.Err())
	case <-b.ctx.Done():
		return BatchSummary{}, fmt.Errorf("publishers: flush: %w", b.ctx.Err())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sum, nil
}

// Wait waits for every outcome and returns the summary. The error is non-nil
// when some fact could not be published; invalid facts are counted, they do
// not fail the batch.
func (b *Batch) Wait() (BatchSummary, error) {
	close(b.work)
	close(b.ordered)
	<-b.done
	b.workers.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sum.Failed > 0 {
		return b.sum, fmt.Errorf("publishers: %d of %d facts could not be published", b.sum.Failed, b.sum.Added)
	}
	return b.sum, b.ctx.Err()
}
