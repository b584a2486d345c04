package hub

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/xianyang/anzhi/fact"
)

// This file is the intake as the gate reads it: its streams (the open one,
// fact.IntakeStream, and with identities on one of each sender's own), how
// far the hub has judged and recorded each, where a restart takes up, and
// the fair reading of them all.

// stampEvery is how many log entries the gate writes between two records of
// every intake stream's position (fact.HeaderIntakePositions); the first
// entry of every run carries one too, so a restart finds one within this
// many entries of the log's tail.
const stampEvery = 1024

// judgeQueue is how many read intake messages may wait for the gate's
// verdict when it reads several intake streams: the order the sources were
// taken in is fixed when a message joins it, so a short queue keeps a
// sender's fact from waiting long behind another's flood, while the checking
// workers still have work ahead. A single intake (open trial mode) has no
// one to be fair to, and queues as deep as the log's appends in flight.
const judgeQueue = 256

// turnQuantum is how many messages of one sender the gate takes before it
// turns to the next one that has messages waiting.
const turnQuantum = 16

// intakeSource is one intake stream as the gate reads it. Its messages are
// judged in their own order; between sources the gate takes turns.
type intakeSource struct {
	name     string           // stream name
	sender   string           // the identity whose stream it is ("" for fact.IntakeStream)
	stream   jetstream.Stream // read on the hub's intake connection
	verdicts *verdictIndex    // what the verdict service answers on it
	limiter  *rate.Limiter    // per-sender rate of judging (nil: none)

	judged   atomic.Uint64 // last sequence judged (in order)
	recorded atomic.Uint64 // sequence of the last message whose verdict the log stored
	purged   uint64        // the janitor's: purged below this + 1
}

// intakeSources are the hub's intake streams: the open intake first, then
// the senders' in a fixed order.
type intakeSources struct {
	all      []*intakeSource
	bySender map[string]*intakeSource
	byName   map[string]*intakeSource
	// gone are the positions the log records for streams the hub no longer
	// reads (a sender left the identities): carried into every position
	// record, so that a sender added back is not judged again.
	gone positions
}

// newIntakeSources makes the sources of streams: the open intake, then one
// for each of senders, in order. Where each takes up is set by takeUp.
func newIntakeSources(streams []jetstream.Stream, senders []string, limits SenderLimits) *intakeSources {
	in := &intakeSources{bySender: map[string]*intakeSource{}, byName: map[string]*intakeSource{}}
	for i, s := range streams {
		src := &intakeSource{name: s.CachedInfo().Config.Name, stream: s}
		if i > 0 {
			src.sender = senders[i-1]
			if limits.Rate > 0 {
				src.limiter = rate.NewLimiter(rate.Limit(limits.Rate), max(limits.Burst, 1))
			}
		}
		// purged stays 0: what an earlier run judged and did not purge is
		// purged at the janitor's first round.
		in.all = append(in.all, src)
		in.bySender[src.sender] = src
		in.byName[src.name] = src
	}
	return in
}

// takeUp sets every source to judge on after the position at records for
// it (capped at what its stream holds, see capAt), and keeps the positions
// of streams no source reads (gone). It is where a start and every resume
// take up the intake.
func (in *intakeSources) takeUp(ctx context.Context, at positions, log *slog.Logger) error {
	if err := in.capAt(ctx, at, log); err != nil {
		return err
	}
	in.gone = positions{}
	for name, seq := range at {
		if in.byName[name] == nil {
			in.gone[name] = seq
		}
	}
	for _, src := range in.all {
		src.judged.Store(at[src.name])
		src.recorded.Store(at[src.name])
	}
	return nil
}

// newVerdicts gives every source a verdict index that knows the hub judged
// its stream up to where takeUp set it; newLog says there is nothing to
// read back.
func (in *intakeSources) newVerdicts(memory int, newLog bool) {
	for _, src := range in.all {
		src.verdicts = newVerdictIndex(memory, src.judged.Load(), newLog)
	}
}

// capAt lowers each source's position in at to the last sequence its
// stream holds, and says so: a position past it (a stream deleted and made
// anew, a log written elsewhere) would make the hub skip new messages.
func (in *intakeSources) capAt(ctx context.Context, at positions, log *slog.Logger) error {
	for _, src := range in.all {
		info, err := src.stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("intake stream %s info: %w", src.name, err)
		}
		if last := info.State.LastSeq; at[src.name] > last {
			log.Error("the log records an intake stream judged past its last message: the stream was made anew, or the log is not this intake's; judging its messages from the start of what it holds",
				"stream", src.name, "recorded", at[src.name], "last", last)
			at[src.name] = last
		}
	}
	return nil
}

// of returns the source a log entry's headers name (nil: none of the hub's).
func (in *intakeSources) of(h nats.Header) *intakeSource {
	name := h.Get(fact.HeaderIntakeStream)
	if name == "" {
		name = fact.IntakeStream
	}
	return in.byName[name]
}

// judgedPositions is every source's judged position, with src at seq.
func (in *intakeSources) judgedPositions(src *intakeSource, seq uint64) positions {
	p := positions{}
	for name, seq := range in.gone {
		p[name] = seq
	}
	for _, s := range in.all {
		p[s.name] = s.judged.Load()
	}
	if src != nil {
		p[src.name] = max(p[src.name], seq)
	}
	return p
}

// recordedPositions is how far the log has stored each source's verdicts.
func (in *intakeSources) recordedPositions() positions {
	p := positions{}
	for _, s := range in.all {
		p[s.name] = s.recorded.Load()
	}
	return p
}

// sum adds up a counter of every source: totals for Status.
func (in *intakeSources) sum(f func(*intakeSource) uint64) uint64 {
	var n uint64
	for _, s := range in.all {
		n += f(s)
	}
	return n
}

// positions maps an intake stream to a sequence in it.
type positions map[string]uint64

// String encodes p as fact.HeaderIntakePositions carries it: "NAME=SEQ ..."
// in name order.
func (p positions) String() string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strconv.FormatUint(p[n], 10))
	}
	return b.String()
}

// parsePositions decodes a fact.HeaderIntakePositions value.
func parsePositions(v string) (positions, error) {
	p := positions{}
	for _, f := range strings.Fields(v) {
		name, seq, ok := strings.Cut(f, "=")
		n, err := strconv.ParseUint(seq, 10, 64)
		if !ok || name == "" || err != nil {
			return nil, fmt.Errorf("%s %q: %q is not STREAM=SEQ", fact.HeaderIntakePositions, v, f)
		}
		p[name] = n
	}
	return p, nil
}

// resumePoint reads where the log ends and how far it records each intake
// stream judged: the last position record (fact.HeaderIntakePositions)
// within the log's last 2·stampEvery entries, raised by the entries after
// it. A log older than those records (or without one in that window) is
// read the way it was written: each entry names the intake sequence it
// judged, so the newest one of a stream is how far that stream was judged.
func resumePoint(ctx context.Context, logs jetstream.Stream) (lastSeq uint64, at positions, err error) {
	info, err := logs.Info(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("log stream info: %w", err)
	}
	lastSeq, at = info.State.LastSeq, positions{}
	if lastSeq == 0 || info.State.Msgs == 0 {
		return lastSeq, at, nil
	}
	from := max(info.State.FirstSeq, 1)
	if lastSeq > 2*stampEvery && lastSeq-2*stampEvery+1 > from {
		from = lastSeq - 2*stampEvery + 1
	}
	err = readLog(ctx, logs, from, lastSeq, 512, func(m logMsg) error {
		if v := m.header.Get(fact.HeaderIntakePositions); v != "" {
			p, err := parsePositions(v)
			if err != nil {
				return fmt.Errorf("log entry %d: %w", m.seq, err)
			}
			for n, s := range p {
				at[n] = max(at[n], s)
			}
		}
		seq := headerSeq(m.header)
		if seq == 0 {
			return nil
		}
		name := m.header.Get(fact.HeaderIntakeStream)
		if name == "" {
			name = fact.IntakeStream
		}
		at[name] = max(at[name], seq)
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read the log's tail: %w", err)
	}
	return lastSeq, at, nil
}

// intakeJobs reads every source after its judged position until ctx ends:
// every message goes to the checking workers (one per processor) and, in the
// order the gate is to judge them, to the returned channel, where the gate
// waits for its verdict. The order keeps each source's own and takes the
// sources in turn, turnQuantum messages at a time from each that has some
// (and whose rate allows), so one sender's flood delays another's facts by
// a turn, not by the flood. The channel is closed when reading stops; an
// intake error is then on readErr.
func (g *gate) intakeJobs(ctx context.Context) (ordered <-chan *job, readErr <-chan error, err error) {
	ctx, cancel := context.WithCancel(ctx)
	n := len(g.sources.all)
	pull := max(64, 2048/n)
	failed := make(chan error, n)
	wake := make(chan struct{}, 1)
	readers := make([]chan *job, n)
	for i, src := range g.sources.all {
		cons, err := src.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:   src.judged.Load() + 1,
		})
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("intake consumer on %s: %w", src.name, err)
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(pull))
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("intake consumer on %s: %w", src.name, err)
		}
		context.AfterFunc(ctx, it.Stop)
		readers[i] = make(chan *job, pull)
		go func(src *intakeSource, out chan<- *job) {
			for {
				msg, err := it.Next()
				if err != nil {
					if ctx.Err() == nil {
						failed <- fmt.Errorf("%s: %w", src.name, err)
						cancel()
					}
					return
				}
				j := &job{src: src, done: make(chan struct{})}
				if md, err := msg.Metadata(); err == nil {
					j.seq, j.received = md.Sequence.Stream, md.Timestamp
				}
				j.m = fact.Message{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}
				select {
				case out <- j:
				case <-ctx.Done():
					return
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}(src, readers[i])
	}

	depth := judgeQueue
	if n == 1 {
		depth = 4 * g.maxInFlight
	}
	work := make(chan *job, depth)
	out := make(chan *job, depth)
	for range max(1, runtime.GOMAXPROCS(0)) {
		go func() {
			for j := range work {
				j.verdict = g.check(j.m)
				close(j.done)
			}
		}()
	}
	go func() {
		defer cancel()
		defer close(work)
		defer close(out)
		held := make([]*job, n) // taken from a reader, waiting for its sender's rate
		send := func(j *job) bool {
			select {
			case work <- j:
			case <-ctx.Done():
				return false
			}
			select {
			case out <- j:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for turn := 0; ; turn = (turn + 1) % n {
			sent, throttled := false, time.Duration(0)
			for k := range n {
				i := (turn + k) % n
				lim := g.sources.all[i].limiter
				for range turnQuantum {
					j := held[i]
					if j == nil {
						select {
						case j = <-readers[i]:
						default:
						}
					}
					if j == nil {
						break
					}
					if lim != nil && !lim.Allow() {
						held[i] = j
						wait := time.Duration(float64(time.Second) / float64(lim.Limit()))
						if throttled == 0 || wait < throttled {
							throttled = wait
						}
						break
					}
					held[i] = nil
					if !send(j) {
						return
					}
					sent = true
				}
			}
			if sent {
				continue
			}
			var retry <-chan time.Time
			if throttled > 0 {
				retry = time.After(throttled)
			}
			select {
			case <-wake:
			case <-retry:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, failed, nil
}
