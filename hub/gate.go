package hub

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// This file is the gate's intake pipeline and its judging: the intake read
// in order, the checking workers, the verdict on each message (accepted,
// duplicate, refused) appended to the log, and what follows once the log
// stores an entry. Resuming after an interruption is in recovery.go, the
// "same fact?" comparison in conflict.go, the fact-key index in
// keyindex.go, the hub's own events in events.go.

// gate is the hub's ingest and the log's only writer: it reads the intake in
// order, checks every message against the contract, drops republished facts,
// and appends each verdict — the fact itself, or a rejection — to the
// canonical log. The hub's own events (clock ticks, warnings) are submitted
// to it and written the same way, never through the intake.
type gate struct {
	js      jetstream.JetStream
	sources *intakeSources
	logs    jetstream.Stream
	v       *fact.Validator
	cat     *schemas.Catalog
	metrics *metrics
	log     *slog.Logger

	maxInFlight int

	// keys indexes every accepted fact; only the gate goroutine writes it
	// once the gate runs.
	keys *keyIndex

	confirmedLog atomic.Uint64 // log sequence of the last entry stored in the log
	appended     atomic.Uint64 // log sequence of the last entry sent
	writing      atomic.Int32  // submissions taken from the queue and not yet appended
	janitor      *janitor      // erases ID-bearing intake messages, purges the intake
	sinceStamp   int           // entries to write before the next position record (gate goroutine)

	loseAck func(seq uint64) bool // tests: see logWriter.loseAck
	submit  *queue[submission]    // the hub's own events, from the projector and the clock
	pending *pendingChanges       // warning changes not yet in the log
	stored  func(*logEntry)       // called in log order for every stored entry
}

// newGate makes the gate of a hub configured by cfg (its defaults set):
// it reads the intake's sources, appends to logs through js, counts in m,
// and takes the hub's own events from submit. Each source's verdict index
// learns its verdicts; stored is called in log order for every entry the
// log stores. Its janitor is made with it, purging each intake stream below
// what the gate has recorded.
func newGate(cfg *Config, js jetstream.JetStream, sources *intakeSources, logs jetstream.Stream, m *metrics,
	submit *queue[submission], stored func(*logEntry)) *gate {
	g := &gate{
		js:          js,
		sources:     sources,
		logs:        logs,
		v:           fact.NewValidator(cfg.Catalog, cfg.MaxEventBytes),
		cat:         cfg.Catalog,
		metrics:     m,
		log:         cfg.Logger.With("component", "gate"),
		maxInFlight: cfg.MaxInFlight,
		keys:        newKeyIndex(cfg.Catalog),
		loseAck:     cfg.loseAck,
		submit:      submit,
		pending:     &pendingChanges{},
		stored:      stored,
	}
	g.janitor = newJanitor(sources, g.log, cfg.PurgeEvery)
	return g
}

// job is one intake message on its way through the checking workers.
type job struct {
	src      *intakeSource
	seq      uint64
	received time.Time
	m        fact.Message
	verdict  *fact.Verdict
	done     chan struct{}
}

// runOnce judges the intake from where the log's tail says the hub got to
// in each of its streams,
// until ctx ends or an append or the intake consumer fails.
func (g *gate) runOnce(ctx context.Context) error {
	w, err := g.resume(ctx)
	if err != nil {
		return err
	}
	defer w.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ordered, readErr, err := g.intakeJobs(runCtx)
	if err != nil {
		return err
	}
	for {
		select {
		case j, ok := <-ordered:
			if !ok {
				select {
				case err := <-readErr:
					return fmt.Errorf("intake consumer: %w", err)
				default:
					return ctx.Err()
				}
			}
			<-j.done
			// Back-pressure: judge no further while too many ID-bearing
			// messages wait for their erase.
			if err := g.janitor.waitBelow(runCtx, maxEraseBacklog); err != nil {
				return err
			}
			if err := g.judge(runCtx, w, j); err != nil {
				return err
			}
			j.src.judged.Store(j.seq)
			if g.keys.unconfirmed() > 4*g.maxInFlight {
				g.keys.confirmed(g.confirmedLog.Load())
			}
		case <-g.submit.ready():
			for {
				// Count the submission as in flight until it is appended, so
				// that Status never sees it neither queued nor sent.
				g.writing.Add(1)
				s, ok := g.submit.pop()
				if !ok {
					g.writing.Add(-1)
					break
				}
				err := g.write(runCtx, w, s)
				if err != nil {
					g.submit.pushFront(s)
				}
				g.writing.Add(-1)
				if err != nil {
					return err
				}
			}
		case <-w.failed:
			return w.Err()
		}
	}
}

// check judges one intake message. A panic in the checks (a bug: the fuzz
// tests find none) must neither crash the hub nor, worse, crash it again on
// the same message after every restart: the message is refused and kept.
func (g *gate) check(m fact.Message) (vd *fact.Verdict) {
	defer func() {
		if r := recover(); r != nil {
			g.log.Error("checking a message panicked; it is refused and kept in the ledger", "subject", m.Subject, "panic", r)
			vd = &fact.Verdict{Violations: []schemas.Violation{{Reason: schemas.ReasonMalformed,
				Message: "the hub could not check this message (an internal error, logged for the operators); refused and kept"}}}
		}
	}()
	return g.v.CheckIntake(m)
}

// onStored runs on the writer's goroutine for every entry stored in the log,
// in log order.
func (g *gate) onStored(e *logEntry) {
	defer closeStored(e.stored)
	if e.erase && e.src != nil {
		g.janitor.enqueue(intakeRef{e.src, e.intakeSeq}) // never blocks: the writer must not wait for the janitor
	}
	if e.key != 0 {
		g.pending.done(e.key)
	}
	if e.src != nil {
		e.src.recorded.Store(e.intakeSeq)
		kind := kindAccepted
		if e.rejected != "" {
			kind = kindRefused
		}
		e.src.verdicts.stored(e.intakeSeq, e.seq, kind)
	}
	g.confirmedLog.Store(e.seq)
	if g.stored != nil {
		g.stored(e)
	}
}

// judge records the verdict on one intake message.
func (g *gate) judge(ctx context.Context, w *logWriter, j *job) error {
	vd := j.verdict
	if vd.OK() && vd.Publisher.Dept == "hub" {
		vd.Violations = append(vd.Violations, schemas.Violation{Pointer: "/source", Reason: schemas.ReasonNotAllowed,
			Message: "the hub writes its own events (warnings, clock) to the log itself; they never come through the intake"})
	}
	if vd.OK() {
		key := fact.Key(vd.Event.Source, vd.Event.ID)
		if seq, _, seen := g.keys.lookup(key); seen {
			differs, err := g.differsFromStored(ctx, w, seq, vd)
			if err != nil {
				return err
			}
			if differs == "" {
				g.metrics.duplicate(vd.Publisher.String())
				j.src.verdicts.duplicate(j.seq, seq)
				return nil
			}
			vd.Violations = append(vd.Violations, schemas.Violation{
				Pointer: "/id", Reason: schemas.ReasonConflict,
				Message: fmt.Sprintf("id %q from %s was already used for a different fact (log sequence %d; %s differs); a new fact needs a new id", vd.Event.ID, vd.Event.Source, seq, differs),
			})
		} else {
			if err := g.appendFact(ctx, w, j.m, vd, j.src, j.seq, j.received, key, nil); err != nil {
				return err
			}
			g.metrics.accepted(vd.Family.Name, vd.Publisher.String())
			return nil
		}
	}
	r := fact.NewRejection(j.m, vd, j.seq, j.received)
	body, err := r.Encode(fact.MaxRejectionBytes)
	if err != nil {
		return fmt.Errorf("encode rejection of intake %d: %w", j.seq, err)
	}
	msg := nats.NewMsg(fact.RejectedSubject(r.Department))
	g.mark(msg.Header, j.src, j.seq)
	msg.Header.Set(fact.HeaderReceived, j.received.UTC().Format(time.RFC3339Nano))
	if vd.Sender != "" {
		msg.Header.Set(fact.HeaderSender, vd.Sender)
	}
	msg.Header.Set("Content-Type", "application/json")
	msg.Data = body
	e := &logEntry{msg: msg, src: j.src, intakeSeq: j.seq, erase: vd.IDNumbers > 0, rejected: r.Department}
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

// appendFact appends an accepted fact: the original headers (minus
// JetStream's own) and body, on anzhi.fact.<family>.<county>. src and
// intakeSeq name the intake message it judges (nil and 0 for the hub's own
// events, sub).
func (g *gate) appendFact(ctx context.Context, w *logWriter, m fact.Message, vd *fact.Verdict, src *intakeSource, intakeSeq uint64,
	received time.Time, key uint64, sub *submission) error {
	msg := nats.NewMsg(fact.FactSubjectPrefix + vd.Family.Name + "." + vd.Area)
	for k, vs := range m.Header {
		if len(k) >= 5 && strings.EqualFold(k[:5], "nats-") {
			continue
		}
		msg.Header[k] = vs
	}
	g.mark(msg.Header, src, intakeSeq)
	msg.Header.Set(fact.HeaderReceived, received.UTC().Format(time.RFC3339Nano))
	msg.Header.Set(fact.HeaderKey, strconv.FormatUint(key, 16))
	if vd.Sender != "" {
		msg.Header.Set(fact.HeaderSender, vd.Sender)
	}
	msg.Data = m.Data
	e := &logEntry{msg: msg, src: src, intakeSeq: intakeSeq, key: key}
	if sub != nil {
		e.stored = sub.stored
	}
	if err := w.Append(ctx, e); err != nil {
		return err
	}
	g.appended.Store(e.seq)
	g.keys.appended(key, e.seq, vd.Publisher, sub)
	return nil
}

// mark writes on an entry's headers which intake message it judges (src
// and seq; the hub's own events name none, seq 0) and, on the first entry of
// a run and every stampEvery entries, how far every intake stream is judged
// once it is written: a restart takes up judging from there.
func (g *gate) mark(h nats.Header, src *intakeSource, seq uint64) {
	h.Set(fact.HeaderIntakeSeq, strconv.FormatUint(seq, 10))
	if src != nil && src.name != fact.IntakeStream {
		h.Set(fact.HeaderIntakeStream, src.name)
	}
	if g.sinceStamp <= 0 {
		h.Set(fact.HeaderIntakePositions, g.sources.judgedPositions(src, seq).String())
		g.sinceStamp = stampEvery
	}
	g.sinceStamp--
}
