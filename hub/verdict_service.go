package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// maxVerdictRequests bounds the verdict requests the hub serves at once;
// past it a request is answered with an error at once.
const maxVerdictRequests = 1024

// verdictService answers requests on fact.VerdictSubject from the verdict
// indexes of the intake streams, reading the reasons of refusals from the
// rejection ledger. A sender's sequences are those of its own intake stream
// (the one its publish acknowledgements name); anyone else's, the open
// intake's.
type verdictService struct {
	sources *intakeSources
	logs    jetstream.Stream
	log     *slog.Logger
	slots   chan struct{} // one per request being served
	// maxReply bounds a reply (the server's largest message): reasons are
	// left out past it.
	maxReply int
	// askerOf names the publisher identity of a requester's account (the
	// server stamps it on requests that come through an account import);
	// nil without identities.
	askerOf func(account string) (string, bool)

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup // requests being served
}

// serve subscribes the service on nc; requests are served until ctx ends.
func (s *verdictService) serve(ctx context.Context, nc *nats.Conn) (*nats.Subscription, error) {
	s.slots = make(chan struct{}, maxVerdictRequests)
	s.maxReply = int(nc.MaxPayload())
	return nc.QueueSubscribe(fact.VerdictSubject, "anzhi-hub", func(m *nats.Msg) {
		if m.Reply == "" {
			return
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.respond(m, fact.VerdictReply{Error: fmt.Sprintf("the hub is serving %d verdict requests already; ask again shortly", maxVerdictRequests)})
			return
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			<-s.slots
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			s.respond(m, s.answer(ctx, m.Data, s.asker(m)))
		}()
	})
}

// stop waits for the requests being served (they answer at once once the
// serving context ends) and serves no more.
func (s *verdictService) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *verdictService) respond(m *nats.Msg, r fact.VerdictReply) {
	b, err := json.Marshal(r)
	if err == nil {
		err = m.Respond(b)
	}
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		s.log.Warn("could not answer a verdict request", "err", err)
	}
}

// requestInfoHeader is where the NATS server says who sent a request that
// crossed accounts (set by the server; a client's own is replaced).
const requestInfoHeader = "Nats-Request-Info"

// asker returns the publisher identity that sent a request through its
// account's import ("" for the hub's own account, or without identities).
func (s *verdictService) asker(m *nats.Msg) string {
	if s.askerOf == nil || m.Header == nil {
		return ""
	}
	var ci struct {
		Account string `json:"acc"`
	}
	if json.Unmarshal([]byte(m.Header.Get(requestInfoHeader)), &ci) != nil {
		return ""
	}
	name, _ := s.askerOf(ci.Account)
	return name
}

// answer decodes a request and judges its sequences. A publisher identity
// (asker) learns the verdicts on its own messages only.
func (s *verdictService) answer(ctx context.Context, data []byte, asker string) fact.VerdictReply {
	var req fact.VerdictRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return fact.VerdictReply{Error: fmt.Sprintf("not a verdict request (JSON {\"intake_seqs\": [...], \"wait_ms\": N}): %v", err)}
	}
	switch {
	case len(req.IntakeSeqs) == 0:
		return fact.VerdictReply{Error: "intake_seqs is empty: name the intake sequences JetStream acknowledged"}
	case len(req.IntakeSeqs) > fact.MaxVerdictSeqs:
		return fact.VerdictReply{Error: fmt.Sprintf("%d intake sequences in one request; at most %d", len(req.IntakeSeqs), fact.MaxVerdictSeqs)}
	case req.WaitMillis < 0:
		return fact.VerdictReply{Error: fmt.Sprintf("wait_ms %d is negative", req.WaitMillis)}
	}
	src := s.sources.bySender[asker]
	if src == nil {
		return fact.VerdictReply{Error: fmt.Sprintf("the hub has no intake stream of %s", asker)}
	}
	wait := min(time.Duration(req.WaitMillis)*time.Millisecond, fact.MaxVerdictWait)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	verdicts := src.verdicts.wait(wctx, req.IntakeSeqs, s.lastIntake(ctx, src, req.IntakeSeqs))
	// The verdicts themselves take at most a few hundred bytes each; the
	// reasons share what is left of one message, first come first served.
	budget := s.maxReply - 512*len(verdicts) - 4096
	for i := range verdicts {
		v := &verdicts[i]
		refused := v.Status == fact.VerdictRefused
		if v.LogSeq == 0 || !refused && asker == "" {
			continue
		}
		// The log entry says who sent it and, for a refusal, why: read once.
		raw, err := s.logs.GetMsg(ctx, v.LogSeq)
		if asker != "" && (err != nil || senderOf(raw) != asker) {
			*v = fact.IntakeVerdict{IntakeSeq: v.IntakeSeq, Status: v.Status, NotYours: true,
				Note: "this intake message was sent by another identity; its verdict is its sender's to read"}
			if !refused {
				v.Status = fact.VerdictUnknown
			}
			continue
		}
		if !refused {
			continue
		}
		if err != nil {
			v.Note = fmt.Sprintf("the rejection record at log sequence %d could not be read: %v", v.LogSeq, err)
			continue
		}
		reasonsFrom(raw, v)
		if size := reasonsSize(v.Reasons); size > budget {
			v.OmittedReasons += len(v.Reasons)
			v.Reasons = nil
			v.Note = fmt.Sprintf("reasons left out to keep the reply within one message; the rejection record at log sequence %d holds them (anzhi rejections)", v.LogSeq)
		} else {
			budget -= size
		}
	}
	return fact.VerdictReply{Verdicts: verdicts}
}

// senderOf returns the identity that sent a log entry (an accepted fact's
// Anzhi-Sender, a rejection record's sender; "" without identities).
func senderOf(raw *jetstream.RawStreamMsg) string {
	if strings.HasPrefix(raw.Subject, fact.RejectedSubjectPrefix) {
		var r struct {
			Sender string `json:"sender"`
		}
		_ = json.Unmarshal(raw.Data, &r)
		return r.Sender
	}
	return raw.Header.Get(fact.HeaderSender)
}

// reasonsSize is the encoded size of a refusal's reasons.
func reasonsSize(vs []schemas.Violation) int {
	b, _ := json.Marshal(vs)
	return len(b)
}

// lastIntake returns the intake's last sequence when some of seqs lie
// beyond what the hub has judged (math.MaxUint64 otherwise, or when it
// cannot be read):
// sequences past it name no message, and nothing will ever judge them.
func (s *verdictService) lastIntake(ctx context.Context, src *intakeSource, seqs []uint64) uint64 {
	var top uint64
	for _, q := range seqs {
		top = max(top, q)
	}
	src.verdicts.mu.Lock()
	judged := src.verdicts.judged
	src.verdicts.mu.Unlock()
	if top <= judged {
		return math.MaxUint64
	}
	info, err := src.stream.Info(ctx)
	if err != nil {
		return math.MaxUint64 // wait for them; the deadline bounds it
	}
	return info.State.LastSeq
}

// reasonsFrom fills a refusal's reasons from its rejection record.
func reasonsFrom(raw *jetstream.RawStreamMsg, v *fact.IntakeVerdict) {
	var r fact.Rejection
	if err := json.Unmarshal(raw.Data, &r); err != nil {
		v.Note = fmt.Sprintf("the rejection record at log sequence %d could not be decoded: %v", v.LogSeq, err)
		return
	}
	v.Reasons, v.OmittedReasons = r.Violations, r.OmittedViolations
}

// rebuildVerdicts reads the log's headers from log sequence from to to back
// into the intake streams' verdict indexes: every entry of the hub's names
// the intake message it judged.
func rebuildVerdicts(ctx context.Context, logs jetstream.Stream, cat *schemas.Catalog, sources *intakeSources, from, to uint64) (err error) {
	defer func() {
		for _, src := range sources.all {
			src.verdicts.scanDone(err == nil)
		}
	}()
	if to < from {
		return nil
	}
	hubFamilies := map[string]bool{}
	for _, f := range cat.Hub().Families {
		hubFamilies[f] = true
	}
	cons, err := logs.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from, HeadersOnly: true,
	})
	if err != nil {
		return fmt.Errorf("read the log's verdicts back: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return fmt.Errorf("read the log's verdicts back: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	later := map[*intakeSource]bool{} // sources with an entry scanned already
	for {
		msg, err := it.Next()
		if err != nil {
			return fmt.Errorf("read the log's verdicts back: %w", err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read the log's verdicts back: %w", err)
		}
		seq := md.Sequence.Stream
		intake, err := strconv.ParseUint(msg.Headers().Get(fact.HeaderIntakeSeq), 10, 64)
		if err == nil {
			kind := kindNone
			if _, ok := strings.CutPrefix(msg.Subject(), fact.RejectedSubjectPrefix); ok {
				kind = kindRefused
			} else if rest, ok := strings.CutPrefix(msg.Subject(), fact.FactSubjectPrefix); ok {
				if fam := familyOf(rest); !hubFamilies[fam] {
					kind = kindAccepted
				}
			}
			if src := sources.of(msg.Headers()); kind != kindNone && src != nil {
				src.verdicts.scanned(intake, seq, kind, from > 1 && !later[src])
				later[src] = true
			}
		}
		if seq >= to {
			return nil
		}
	}
}

// familyOf returns the family of a subject <domain>.<event>.<county>.
func familyOf(subject string) string {
	i := strings.IndexByte(subject, '.')
	if i < 0 {
		return subject
	}
	j := strings.IndexByte(subject[i+1:], '.')
	if j < 0 {
		return subject
	}
	return subject[:i+1+j]
}
