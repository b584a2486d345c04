package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// gate is the hub's ingest: it reads the intake in order, checks every
// message against the contract, drops republished facts, and appends each
// verdict — the fact itself, or a rejection — to the canonical log.
type gate struct {
	js      jetstream.JetStream
	intake  jetstream.Stream
	logs    jetstream.Stream
	v       *fact.Validator
	metrics *metrics
	log     *slog.Logger

	maxInFlight int
	purgeEvery  time.Duration

	// keys maps the fact key of every accepted fact to its log sequence.
	// Only the sequencer goroutine touches it.
	keys       map[uint64]uint64
	keysLoaded bool
	recent     []keyAt // accepted since the last confirmed entry, for rollback

	position        atomic.Uint64 // last intake sequence judged (in order)
	confirmedIntake atomic.Uint64 // intake sequence of the last entry stored in the log
	confirmedLog    atomic.Uint64 // log sequence of that entry
	appended        atomic.Uint64 // log sequence of the last entry sent
	erase           chan uint64
}

type keyAt struct{ key, seq uint64 }

// job is one intake message on its way through the checking workers.
type job struct {
	msg      jetstream.Msg
	seq      uint64
	received time.Time
	m        fact.Message
	verdict  *fact.Verdict
	done     chan struct{}
}

func (g *gate) run(ctx context.Context) error {
	go g.janitor(ctx)
	backoff := 100 * time.Millisecond
	for {
		err := g.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		g.log.Warn("ingest interrupted; resuming from the log's tail", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// tail reads the log's last sequence and the intake sequence it recorded.
func (g *gate) tail(ctx context.Context) (lastSeq, lastIntake uint64, err error) {
	info, err := g.logs.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("log stream info: %w", err)
	}
	lastSeq = info.State.LastSeq
	if lastSeq == 0 {
		return 0, 0, nil
	}
	m, err := g.logs.GetMsg(ctx, lastSeq)
	if err != nil {
		return 0, 0, fmt.Errorf("read log entry %d: %w", lastSeq, err)
	}
	lastIntake, err = strconv.ParseUint(m.Header.Get(fact.HeaderIntakeSeq), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("log entry %d has no valid %s header: %w", lastSeq, fact.HeaderIntakeSeq, err)
	}
	return lastSeq, lastIntake, nil
}

// loadKeys rebuilds the index of accepted fact keys from the log's headers.
func (g *gate) loadKeys(ctx context.Context, lastSeq uint64) error {
	g.keys = make(map[uint64]uint64)
	if lastSeq == 0 {
		return nil
	}
	cons, err := g.logs.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{fact.FactSubjectPrefix + ">"},
		HeadersOnly:    true,
	})
	if err != nil {
		return fmt.Errorf("scan log keys: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return fmt.Errorf("scan log keys: %w", err)
	}
	defer it.Stop()
	if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
		return nil
	}
	for {
		msg, err := nextMsg(ctx, it)
		if err != nil {
			return fmt.Errorf("scan log keys: %w", err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("scan log keys: %w", err)
		}
		if k, err := strconv.ParseUint(msg.Headers().Get(fact.HeaderKey), 16, 64); err == nil {
			g.keys[k] = md.Sequence.Stream
		}
		if md.Sequence.Stream >= lastSeq || md.NumPending == 0 {
			return nil
		}
	}
}

func nextMsg(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	type res struct {
		m   jetstream.Msg
		err error
	}
	// MessagesContext.Next blocks without a context; stop the iterator when
	// the context ends.
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	m, err := it.Next()
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return m, err
}

func (g *gate) runOnce(ctx context.Context) error {
	lastSeq, lastIntake, err := g.tail(ctx)
	if err != nil {
		return err
	}
	if !g.keysLoaded {
		if err := g.loadKeys(ctx, lastSeq); err != nil {
			return err
		}
		g.keysLoaded = true
	}
	// Forget keys of appends that never reached the log.
	for _, r := range g.recent {
		if r.seq > lastSeq && g.keys[r.key] == r.seq {
			delete(g.keys, r.key)
		}
	}
	g.recent = g.recent[:0]
	g.position.Store(lastIntake)
	g.confirmedIntake.Store(lastIntake)
	g.confirmedLog.Store(lastSeq)
	g.appended.Store(lastSeq)

	w := newLogWriter(g.js, lastSeq, lastIntake, g.maxInFlight, g.stored)
	defer w.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cons, err := g.intake.OrderedConsumer(runCtx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   lastIntake + 1,
	})
	if err != nil {
		return fmt.Errorf("intake consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2048))
	if err != nil {
		return fmt.Errorf("intake consumer: %w", err)
	}
	context.AfterFunc(runCtx, it.Stop)

	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *job, 4*g.maxInFlight)
	ordered := make(chan *job, 4*g.maxInFlight)
	for range workers {
		go func() {
			for j := range work {
				j.verdict = g.v.CheckIntake(j.m)
				close(j.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(ordered)
		for {
			msg, err := it.Next()
			if err != nil {
				readErr <- err
				return
			}
			j := &job{msg: msg, done: make(chan struct{})}
			if md, err := msg.Metadata(); err == nil {
				j.seq, j.received = md.Sequence.Stream, md.Timestamp
			}
			j.m = fact.Message{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}
			select {
			case work <- j:
			case <-runCtx.Done():
				return
			}
			select {
			case ordered <- j:
			case <-runCtx.Done():
				return
			}
		}
	}()
loop:
	for {
		select {
		case j, ok := <-ordered:
			if !ok {
				break loop
			}
			<-j.done
			if err := g.judge(runCtx, w, j); err != nil {
				return err
			}
			g.position.Store(j.seq)
			if len(g.recent) > 4*g.maxInFlight {
				g.trimRecent()
			}
		case <-w.failed:
			return w.Err()
		}
	}
	select {
	case err := <-readErr:
		return fmt.Errorf("intake consumer: %w", err)
	default:
		return ctx.Err()
	}
}

func (g *gate) trimRecent() {
	c := g.confirmedLog.Load()
	i := 0
	for i < len(g.recent) && g.recent[i].seq <= c {
		i++
	}
	g.recent = append(g.recent[:0], g.recent[i:]...)
}

// stored runs on the writer's goroutine for every entry stored in the log.
func (g *gate) stored(e *logEntry) {
	if e.erase {
		g.erase <- e.intakeSeq
	}
	g.confirmedIntake.Store(e.intakeSeq)
	g.confirmedLog.Store(e.seq)
}

// judge records the verdict on one message.
func (g *gate) judge(ctx context.Context, w *logWriter, j *job) error {
	vd := j.verdict
	if vd.OK() {
		key := fact.Key(vd.Event.Source, vd.Event.ID)
		if seq, seen := g.keys[key]; seen {
			same, err := g.sameAsStored(ctx, w, seq, vd)
			if err != nil {
				return err
			}
			if same {
				g.metrics.duplicate(vd.Publisher.String())
				return nil
			}
			vd.Violations = append(vd.Violations, schemas.Violation{
				Pointer: "/id", Reason: schemas.ReasonConflict,
				Message: fmt.Sprintf("id %q from %s was already used for a different fact (log sequence %d); a new fact needs a new id", vd.Event.ID, vd.Event.Source, seq),
			})
		} else {
			e := &logEntry{msg: g.factMsg(j, vd), intakeSeq: j.seq, key: key}
			if err := w.Append(ctx, e); err != nil {
				return err
			}
			g.appended.Store(e.seq)
			g.keys[key] = e.seq
			g.recent = append(g.recent, keyAt{key, e.seq})
			g.metrics.accepted(vd.Family.Name, vd.Publisher.String())
			return nil
		}
	}
	r := fact.NewRejection(j.m, vd, j.seq, j.received)
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode rejection of intake %d: %w", j.seq, err)
	}
	msg := nats.NewMsg(fact.RejectedSubject(vd.Publisher.String()))
	msg.Header.Set(fact.HeaderIntakeSeq, strconv.FormatUint(j.seq, 10))
	msg.Header.Set(fact.HeaderReceived, j.received.UTC().Format(time.RFC3339Nano))
	msg.Header.Set("Content-Type", "application/json")
	msg.Data = body
	e := &logEntry{msg: msg, intakeSeq: j.seq, erase: vd.IDNumbers > 0}
	if err := w.Append(ctx, e); err != nil {
		return err
	}
	g.appended.Store(e.seq)
	g.metrics.rejected(vd, r.Department)
	if g.log.Enabled(ctx, slog.LevelDebug) {
		g.log.Debug("rejected", "intake_seq", j.seq, "subject", r.Subject, "department", r.Department, "violations", len(r.Violations))
	}
	return nil
}

// factMsg is the log entry of an accepted fact: the original headers (minus
// JetStream's own) and body, on anzhi.fact.<family>.<county>.
func (g *gate) factMsg(j *job, vd *fact.Verdict) *nats.Msg {
	msg := nats.NewMsg(fact.FactSubjectPrefix + vd.Family.Name + "." + vd.Area)
	for k, vs := range j.m.Header {
		if len(k) >= 5 && strings.EqualFold(k[:5], "nats-") {
			continue
		}
		msg.Header[k] = vs
	}
	msg.Header.Set(fact.HeaderIntakeSeq, strconv.FormatUint(j.seq, 10))
	msg.Header.Set(fact.HeaderReceived, j.received.UTC().Format(time.RFC3339Nano))
	msg.Header.Set(fact.HeaderKey, strconv.FormatUint(fact.Key(vd.Event.Source, vd.Event.ID), 16))
	msg.Data = j.m.Data
	return msg
}

// sameAsStored compares a fact with the accepted one at log sequence seq.
func (g *gate) sameAsStored(ctx context.Context, w *logWriter, seq uint64, vd *fact.Verdict) (bool, error) {
	if g.confirmedLog.Load() < seq {
		if err := w.Flush(ctx); err != nil {
			return false, err
		}
	}
	raw, err := g.logs.GetMsg(ctx, seq)
	if err != nil {
		return false, fmt.Errorf("read accepted fact at log sequence %d: %w", seq, err)
	}
	sub := strings.TrimPrefix(raw.Subject, fact.FactSubjectPrefix)
	prev := g.v.Check(fact.Message{Subject: sub, Header: raw.Header, Data: raw.Data})
	a, b := &prev.Event, &vd.Event
	if a.Source != b.Source || a.ID != b.ID {
		return false, nil // a hash collision: a different fact altogether
	}
	return sub == vd.Family.Name+"."+vd.Area && a.Type == b.Type && a.Subject == b.Subject && a.Time.Equal(b.Time) &&
		a.DataSchema == b.DataSchema && reflect.DeepEqual(a.Extensions, b.Extensions) &&
		reflect.DeepEqual(a.Data, b.Data), nil
}

// janitor erases intake messages that carried raw ID-card numbers once their
// redacted rejection is stored, and purges the intake below what the log has
// recorded.
func (g *gate) janitor(ctx context.Context) {
	t := time.NewTicker(g.purgeEvery)
	defer t.Stop()
	var purged uint64
	eraseOne := func(seq uint64) {
		if err := g.intake.SecureDeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) && ctx.Err() == nil {
			g.log.Error("could not erase intake message carrying an ID-card number", "intake_seq", seq, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case seq := <-g.erase:
			eraseOne(seq)
		case <-t.C:
			upTo := g.confirmedIntake.Load()
		drain:
			for {
				select {
				case seq := <-g.erase:
					eraseOne(seq)
				default:
					break drain
				}
			}
			if upTo > purged {
				if err := g.intake.Purge(ctx, jetstream.WithPurgeSequence(upTo+1)); err != nil {
					if ctx.Err() == nil {
						g.log.Warn("intake purge failed", "up_to", upTo, "err", err)
					}
					continue
				}
				purged = upTo
			}
		}
	}
}
