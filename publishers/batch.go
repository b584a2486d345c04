package publishers

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
// the simulator): facts are encoded without the SDK's reflection, validated
// locally like Publish, and sent with many acknowledgements in flight.
// Failed publishes are retried synchronously. Add from one goroutine.
type Batch struct {
	p     *Publisher
	js    jetstream.JetStream
	opts  BatchOptions
	acks  chan pendingAck
	done  chan struct{}
	mu    sync.Mutex
	sum   BatchSummary
	buf   []byte
	ctx   context.Context
	added int
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
	js, err := jetstream.New(p.nc, jetstream.WithPublishAsyncMaxPending(opts.MaxPending))
	if err != nil {
		return nil, fmt.Errorf("publishers: batch: %w", err)
	}
	b := &Batch{p: p, js: js, opts: opts, ctx: ctx, acks: make(chan pendingAck, opts.MaxPending), done: make(chan struct{})}
	go b.collect()
	return b, nil
}

// buildFast encodes and validates a fact for a batch: the same event Publisher.Build
// makes, encoded by hand (structured mode) instead of through the SDK.
func (p *Publisher) buildFast(f Fact, buf []byte) (*nats.Msg, []byte, error) {
	if p.binary {
		msg, err := p.Build(f)
		return msg, buf, err
	}
	o, subject, err := p.prepare(f)
	if err != nil {
		return nil, buf, err
	}
	buf = fact.Encode(buf[:0], o)
	msg := nats.NewMsg(subject)
	msg.Header.Set(jetstream.MsgIDHeader, o.ID)
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Data = append([]byte(nil), buf...)
	if err := p.check(msg); err != nil {
		return nil, buf, err
	}
	return msg, buf, nil
}

// Add validates a fact and sends it; it blocks while MaxPending publishes
// await acknowledgement. A validation error is returned (and reported to
// OnResult); the batch goes on.
func (b *Batch) Add(f Fact) (int, error) {
	index := b.added
	b.added++
	b.mu.Lock()
	b.sum.Added++
	b.mu.Unlock()
	msg, buf, err := b.p.buildFast(f, b.buf)
	b.buf = buf
	if err != nil {
		b.finish(BatchResult{Index: index, Err: err})
		return index, err
	}
	return index, b.AddMsg(index, msg)
}

// AddMsg sends an already built and validated message (see Publisher.Build)
// under the given index.
func (b *Batch) AddMsg(index int, msg *nats.Msg) error {
	fut, err := b.js.PublishMsgAsync(msg)
	if err != nil {
		// Could not even queue it (e.g. disconnected): fall back to the
		// synchronous path with retries.
		r, err := b.p.PublishMsg(b.ctx, msg)
		b.finish(BatchResult{Index: index, Receipt: r, Err: err})
		return err
	}
	select {
	case b.acks <- pendingAck{index, msg, fut}:
		return nil
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}

func (b *Batch) collect() {
	defer close(b.done)
	for pa := range b.acks {
		select {
		case ack := <-pa.fut.Ok():
			b.finish(BatchResult{Index: pa.index, Receipt: Receipt{
				ID: pa.msg.Header.Get(jetstream.MsgIDHeader), Subject: pa.msg.Subject, Seq: ack.Sequence, Duplicate: ack.Duplicate}})
		case err := <-pa.fut.Err():
			if Transient(err) && b.ctx.Err() == nil {
				r, err2 := b.p.PublishMsg(b.ctx, pa.msg)
				b.finish(BatchResult{Index: pa.index, Receipt: r, Err: err2})
				continue
			}
			b.finish(BatchResult{Index: pa.index, Err: fmt.Errorf("publish %s: %w", pa.msg.Header.Get(jetstream.MsgIDHeader), err)})
		case <-b.ctx.Done():
			b.finish(BatchResult{Index: pa.index, Err: b.ctx.Err()})
		}
	}
}

func (b *Batch) finish(r BatchResult) {
	b.mu.Lock()
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
	b.mu.Unlock()
}

// Wait waits for every acknowledgement and returns the summary. The error is
// non-nil when some fact could not be published (invalid facts are counted,
// not errors of the batch).
func (b *Batch) Wait() (BatchSummary, error) {
	close(b.acks)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sum.Failed > 0 {
		return b.sum, fmt.Errorf("publishers: %d of %d facts could not be published", b.sum.Failed, b.sum.Added)
	}
	return b.sum, b.ctx.Err()
}
