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
	intake     jetstream.Stream
	log        *slog.Logger
	purgeEvery time.Duration
	recorded   func() uint64 // intake sequence of the last entry stored in the log

	queue    *queue[uint64] // intake sequences to erase
	unerased atomic.Int64   // queued or being erased
	erased   chan struct{}  // signalled after every pass
}

func newJanitor(intake jetstream.Stream, log *slog.Logger, purgeEvery time.Duration, recorded func() uint64) *janitor {
	return &janitor{intake: intake, log: log, purgeEvery: purgeEvery, recorded: recorded,
		queue: newQueue[uint64](), erased: make(chan struct{}, 1)}
}

// enqueue asks for intake message seq to be erased; it never blocks (the log
// writer calls it and must not wait for the janitor).
func (j *janitor) enqueue(seq uint64) {
	j.unerased.Add(1)
	j.queue.push(seq)
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
	var purged uint64
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
			upTo := j.recorded()
			if !erase() {
				continue // purging now would remove an unerased message without overwriting it
			}
			if upTo > purged {
				if err := j.intake.Purge(ctx, jetstream.WithPurgeSequence(upTo+1)); err != nil {
					if ctx.Err() == nil {
						j.log.Warn("intake purge failed", "up_to", upTo, "err", err)
					}
					continue
				}
				purged = upTo
			}
		}
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
		failed []uint64
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
				seq := seqs[i]
				if err := j.erase(ctx, seq); err != nil {
					mu.Lock()
					failed = append(failed, seq)
					mu.Unlock()
					if ctx.Err() == nil {
						j.log.Error("could not erase intake message carrying an ID-card number; will retry", "intake_seq", seq, "err", err)
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

// erase securely erases intake message seq; one already gone (erased twice,
// or purged) counts as erased: the server refuses to delete it again with an
// error of its own, not always "not found".
func (j *janitor) erase(ctx context.Context, seq uint64) error {
	err := j.intake.SecureDeleteMsg(ctx, seq)
	if err == nil {
		return nil
	}
	if _, gerr := j.intake.GetMsg(ctx, seq); errors.Is(gerr, jetstream.ErrMsgNotFound) {
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
// judged from intake sequence from (0: the first kept) up to lastIntake (the
// intake sequence the log's last entry recorded) and not yet purged. At a
// start it covers what an earlier run judged and did not erase (a crash, or
// a stop that could not reach the server): the hub is not ready before it is
// done, so no clear number survives a start. At a stop it covers appends
// stored without their acknowledgement reaching the gate.
func (j *janitor) sweep(ctx context.Context, from, lastIntake uint64, idNumbers func(fact.Message) int) error {
	if lastIntake == 0 {
		return nil
	}
	info, err := j.intake.Info(ctx)
	if err != nil {
		return fmt.Errorf("look for unerased intake messages: %w", err)
	}
	end := min(lastIntake, info.State.LastSeq)
	from = max(from, info.State.FirstSeq)
	if info.State.Msgs == 0 || from > end {
		return nil
	}
	cons, err := j.intake.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return fmt.Errorf("look for unerased intake messages: %w", err)
	}
	found := 0
	for done := false; !done; {
		batch, err := cons.Fetch(1024, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return fmt.Errorf("look for unerased intake messages: %w", err)
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
				j.enqueue(seq)
				found++
			}
			if seq == end || md.NumPending == 0 {
				done = true
				break
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("look for unerased intake messages: %w", err)
		}
		if n == 0 {
			done = true
		}
	}
	if found == 0 {
		return nil
	}
	j.log.Warn("erasing intake messages carrying ID-card numbers judged and not yet erased", "count", found, "from", from, "to", end)
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
	confirmed := g.confirmedIntake.Load()
	_, lastIntake, err := tail(ctx, g.logs)
	if err != nil {
		g.log.Warn("could not read the log's tail at stop; the next start looks for unerased messages", "err", err)
		return
	}
	if lastIntake <= confirmed {
		return
	}
	if err := g.janitor.sweep(ctx, confirmed+1, lastIntake, g.idNumbers); err != nil {
		g.log.Warn("could not erase at stop what was stored without acknowledgement; the next start does", "err", err)
	}
}

// idNumbers counts the raw ID-card numbers the check finds in m: what the
// janitor's sweeps look for.
func (g *gate) idNumbers(m fact.Message) int { return g.check(m).IDNumbers }
