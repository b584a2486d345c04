package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// This file is the secure erase of intake messages carrying raw ID-card
// numbers: the janitor, which erases and purges while the hub runs, and the
// gate's last sweep at stop.

// maxEraseBacklog bounds how many judged intake messages carrying raw ID-card
// numbers may wait for their secure erase: past it the gate judges nothing
// more until the janitor has caught up, so a burst of such messages slows
// ingest instead of leaving clear numbers on disk for long.
const maxEraseBacklog = 256

// eraseWorkers is how many secure erases the janitor has in flight at once
// (each is one request to the server, which overwrites the message on disk).
const eraseWorkers = 8

// finishStall is how long a stop keeps trying to erase what is queued while
// no erase succeeds (the server gone): then the next start erases them.
const finishStall = 30 * time.Second

// janitor erases intake messages that carried raw ID-card numbers once their
// redacted rejection is stored in the log, and purges the intake below what
// the log has recorded (never past an unerased message, which a purge would
// remove without overwriting).
//
// Its promises: at most maxEraseBacklog (plus the log appends in flight)
// such messages wait for their erase while the hub runs; a stop finishes
// every erase queued, however long, while the server answers; a start
// erases what an earlier run judged and did not erase before the hub
// reports ready (sweep).
type janitor struct {
	sources    *intakeSources // each knows how far the log recorded its verdicts
	log        *slog.Logger
	purgeEvery time.Duration

	queue    *queue[intakeRef] // intake messages to erase
	unerased atomic.Int64      // queued or being erased
	erased   chan struct{}     // signalled after every pass
}

// intakeRef names one message of an intake stream.
type intakeRef struct {
	src *intakeSource
	seq uint64
}

func newJanitor(sources *intakeSources, log *slog.Logger, purgeEvery time.Duration) *janitor {
	return &janitor{sources: sources, log: log, purgeEvery: purgeEvery,
		queue: newQueue[intakeRef](), erased: make(chan struct{}, 1)}
}

// enqueue asks for an intake message to be erased; it never blocks (the log
// writer calls it and must not wait for the janitor).
func (j *janitor) enqueue(m intakeRef) {
	j.unerased.Add(1)
	j.queue.push(m)
}

// backlog is the number of messages waiting for their erase.
func (j *janitor) backlog() int { return int(j.unerased.Load()) }

// waitBelow blocks while more than n messages wait for their erase.
func (j *janitor) waitBelow(ctx context.Context, n int) error {
	for j.backlog() > n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-j.erased:
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// run erases as messages are queued and purges every purgeEvery. When ctx
// ends it waits for the gate to stop (stopped), so that the erases its last
// stored entries asked for are queued, and finishes them.
func (j *janitor) run(ctx context.Context, stopped <-chan struct{}) {
	t := time.NewTicker(j.purgeEvery)
	defer t.Stop()
	var retry <-chan time.Time // set while erases wait for another try
	erase := func() bool {
		ok := j.eraseQueued(ctx)
		if retry = nil; !ok {
			retry = time.After(time.Second)
		}
		return ok
	}
	for {
		select {
		case <-ctx.Done():
			<-stopped
			j.finish()
			return
		case <-j.queue.ready():
			erase()
		case <-retry:
			erase()
		case <-t.C:
			upTo := j.sources.recordedPositions()
			if !erase() {
				continue // purging now would remove an unerased message without overwriting it
			}
			j.purge(ctx, upTo)
		}
	}
}

// purge removes from every intake stream what the log has recorded the
// verdict of (upTo, read before the erases that went before it).
func (j *janitor) purge(ctx context.Context, upTo positions) {
	for _, src := range j.sources.all {
		n := upTo[src.name]
		if n <= src.purged {
			continue
		}
		if err := src.stream.Purge(ctx, jetstream.WithPurgeSequence(n+1)); err != nil {
			if ctx.Err() == nil {
				j.log.Warn("intake purge failed", "stream", src.name, "up_to", n, "err", err)
			}
			continue
		}
		src.purged = n
	}
}

// finish erases everything queued, however long it takes, as long as erases
// succeed; only when none has for finishStall (the server is gone) does it
// give up, leaving them to the next start's sweep.
func (j *janitor) finish() {
	last, since := j.backlog(), time.Now()
	for j.backlog() > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok := j.eraseQueued(ctx)
		cancel()
		if n := j.backlog(); n < last {
			last, since = n, time.Now()
		} else if !ok && time.Since(since) > finishStall {
			j.log.Error("intake messages carrying ID-card numbers left to erase at stop: the server does not answer; the next start erases them before it is ready",
				"count", n)
			return
		} else if !ok {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// eraseQueued securely erases every queued intake message, eraseWorkers at a
// time; it reports whether all were done. Those it could not do stay queued.
func (j *janitor) eraseQueued(ctx context.Context) bool {
	defer j.signal()
	seqs := j.queue.popAll()
	if len(seqs) == 0 {
		return true
	}
	var (
		mu     sync.Mutex
		failed []intakeRef
		wg     sync.WaitGroup
		next   atomic.Int64
	)
	for range min(eraseWorkers, len(seqs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(seqs) {
					return
				}
				m := seqs[i]
				if err := j.erase(ctx, m); err != nil {
					mu.Lock()
					failed = append(failed, m)
					mu.Unlock()
					if ctx.Err() == nil {
						j.log.Error("could not erase intake message carrying an ID-card number; will retry",
							"stream", m.src.name, "intake_seq", m.seq, "err", err)
					}
					continue
				}
				j.unerased.Add(-1)
			}
		})
	}
	wg.Wait()
	j.queue.pushFront(failed...)
	return len(failed) == 0
}

// erase securely erases an intake message; one already gone (erased twice,
// or purged) counts as erased: the server refuses to delete it again with an
// error of its own, not always "not found".
func (j *janitor) erase(ctx context.Context, m intakeRef) error {
	err := m.src.stream.SecureDeleteMsg(ctx, m.seq)
	if err == nil {
		return nil
	}
	if _, gerr := m.src.stream.GetMsg(ctx, m.seq); errors.Is(gerr, jetstream.ErrMsgNotFound) {
		return nil
	}
	return err
}

func (j *janitor) signal() {
	select {
	case j.erased <- struct{}{}:
	default:
	}
}

// sweep erases the intake messages carrying ID-card numbers among those
// judged in each intake stream after from (nil: from the first kept) up to
// to (how far the log records it judged) and not yet purged. At a start it
// covers what an earlier run judged and did not erase (a crash, or a stop
// that could not reach the server): the hub is not ready before it is done,
// so no clear number survives a start. At a stop it covers appends stored
// without their acknowledgement reaching the gate.
func (j *janitor) sweep(ctx context.Context, from, to positions, idNumbers func(fact.Message) int) error {
	found := 0
	for _, src := range j.sources.all {
		n, err := j.find(ctx, src, from[src.name]+1, to[src.name], idNumbers)
		if err != nil {
			return fmt.Errorf("look for unerased messages in %s: %w", src.name, err)
		}
		found += n
	}
	if found == 0 {
		return nil
	}
	j.log.Warn("erasing intake messages carrying ID-card numbers judged and not yet erased", "count", found)
	for attempt := 0; j.backlog() > 0; attempt++ {
		if j.eraseQueued(ctx) {
			break
		}
		if attempt == 4 {
			return fmt.Errorf("%d intake messages carrying ID-card numbers could not be erased", j.backlog())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

// find queues for erase the messages of src from sequence from to end that
// carry ID-card numbers, and returns how many it queued.
func (j *janitor) find(ctx context.Context, src *intakeSource, from, end uint64, idNumbers func(fact.Message) int) (int, error) {
	if end == 0 {
		return 0, nil
	}
	info, err := src.stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	end = min(end, info.State.LastSeq)
	from = max(from, info.State.FirstSeq)
	if info.State.Msgs == 0 || from > end {
		return 0, nil
	}
	cons, err := src.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return 0, err
	}
	found := 0
	for done := false; !done; {
		batch, err := cons.Fetch(1024, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return found, err
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				continue
			}
			seq := md.Sequence.Stream
			if seq > end {
				done = true
				break
			}
			if idNumbers(fact.Message{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}) > 0 {
				j.enqueue(intakeRef{src, seq})
				found++
			}
			if seq == end || md.NumPending == 0 {
				done = true
				break
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return found, err
		}
		if n == 0 {
			done = true
		}
	}
	return found, nil
}

// eraseUnacknowledged runs once the gate and the janitor have stopped: a
// log append in flight when the hub stopped may be stored without its
// acknowledgement reaching the writer, so the janitor was never asked to
// erase its intake message. The log's tail says how far the hub really
// judged; the intake between what the writer confirmed and that point is
// looked through for numbers and erased, so a stop leaves none judged in
// clear. If the server does not answer, the next start's sweep does it.
func (g *gate) eraseUnacknowledged() {
	ctx, cancel := context.WithTimeout(context.Background(), finishStall)
	defer cancel()
	confirmed := g.sources.recordedPositions()
	_, at, err := resumePoint(ctx, g.logs)
	if err != nil {
		g.log.Warn("could not read the log's tail at stop; the next start looks for unerased messages", "err", err)
		return
	}
	if err := g.janitor.sweep(ctx, confirmed, at, g.idNumbers); err != nil {
		g.log.Warn("could not erase at stop what was stored without acknowledgement; the next start does", "err", err)
	}
}

// idNumbers counts the raw ID-card numbers the check finds in m: what the
// janitor's sweeps look for.
func (g *gate) idNumbers(m fact.Message) int { return g.check(m).IDNumbers }
