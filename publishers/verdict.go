package publishers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// Verdict is the hub's verdict on a published fact. JetStream's receipt
// only says the intake stored the message; the hub then judges it against
// the contract and the facts it already holds, and either appends it to the
// canonical log or refuses it into the rejection ledger.
type Verdict struct {
	// IntakeSeq is the intake sequence judged (Receipt.Seq).
	IntakeSeq uint64
	// Status is the hub's word for the verdict (accepted, duplicate,
	// refused; unknown when the hub cannot know; pending when it gave no
	// verdict in time).
	Status fact.VerdictStatus
	// Accepted is true when the fact is in the canonical log: just stored,
	// or already there (Duplicate).
	Accepted bool
	// Duplicate is true when the hub already held the same fact and
	// stored nothing new; LogSeq is then the original's (0 when the hub no
	// longer knows it: judged before the hub restarted).
	Duplicate bool
	// LogSeq is the canonical-log sequence of the fact, or of its rejection
	// record when refused.
	LogSeq uint64
	// Reasons lists every reason of a refusal, ID-card numbers masked as in
	// the ledger; OmittedReasons counts those the ledger left out.
	Reasons        []schemas.Violation
	OmittedReasons int
	// Note explains an unknown or pending verdict.
	Note string
}

// ErrNoVerdict means the hub cannot know the verdict on a receipt: the
// intake holds no such message, or it is older than what the hub remembers.
var ErrNoVerdict = errors.New("the hub has no verdict on this message")

// ErrNoVerdictService means no hub answered on fact.VerdictSubject: none
// is running, or it predates the verdict service.
var ErrNoVerdictService = errors.New("no hub answers verdict requests on " + fact.VerdictSubject)

// Verdict asks the hub for its verdict on the published fact, waiting until
// the hub has judged it or ctx ends. A receipt of a duplicate (JetStream
// recognised the id) names the original message, so it gets the original's
// verdict. The error wraps ErrNoVerdict when the hub cannot know, and
// ctx.Err() when it gave no verdict in time.
func (r Receipt) Verdict(ctx context.Context) (Verdict, error) {
	if r.p == nil {
		return Verdict{IntakeSeq: r.Seq}, errors.New("publishers: the receipt did not come from a Publisher")
	}
	vs, err := r.p.Verdicts(ctx, []Receipt{r})
	if err != nil {
		return vs[0], err
	}
	if vs[0].Status == fact.VerdictUnknown {
		return vs[0], fmt.Errorf("publishers: intake sequence %d: %w (%s)", r.Seq, ErrNoVerdict, vs[0].Note)
	}
	return vs[0], nil
}

// verdictRound is how long one request waits at the hub when ctx has no
// deadline.
const verdictRound = 30 * time.Second

// Verdicts asks the hub for its verdicts on many published facts at once
// (in requests of up to fact.MaxVerdictSeqs), waiting until every one is
// judged or ctx ends. It returns one Verdict per receipt, in order; those
// the hub cannot know have Status fact.VerdictUnknown. When ctx ends first,
// the ones not judged yet have Status fact.VerdictPending and the error
// wraps ctx.Err().
func (p *Publisher) Verdicts(ctx context.Context, receipts []Receipt) ([]Verdict, error) {
	out := make([]Verdict, len(receipts))
	bySeq := map[uint64][]int{}
	var open []uint64
	for i, r := range receipts {
		out[i] = Verdict{IntakeSeq: r.Seq, Status: fact.VerdictPending}
		if _, seen := bySeq[r.Seq]; !seen {
			open = append(open, r.Seq)
		}
		bySeq[r.Seq] = append(bySeq[r.Seq], i)
	}
	var last error
	for len(open) > 0 {
		if err := ctx.Err(); err != nil {
			if last != nil {
				err = fmt.Errorf("%w (last error: %v)", err, last)
			}
			return out, fmt.Errorf("publishers: no verdict from the hub on %d of %d facts in time: %w", len(open), len(receipts), err)
		}
		n := min(len(open), fact.MaxVerdictSeqs)
		reply, err := p.askVerdicts(ctx, open[:n])
		if err != nil {
			if errors.Is(err, ErrNoVerdictService) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
				// The hub may be restarting: ask again until ctx ends.
				last = err
				select {
				case <-ctx.Done():
				case <-time.After(250 * time.Millisecond):
				}
				continue
			}
			return out, err
		}
		last = nil
		still := open[:0:0]
		for _, v := range reply.Verdicts {
			for _, i := range bySeq[v.IntakeSeq] {
				out[i] = verdictOf(v)
			}
			if v.Status == fact.VerdictPending {
				still = append(still, v.IntakeSeq)
			}
		}
		open = append(still, open[n:]...)
	}
	return out, nil
}

// askVerdicts sends one request and checks the reply answers it.
func (p *Publisher) askVerdicts(ctx context.Context, seqs []uint64) (fact.VerdictReply, error) {
	wait := verdictRound
	rctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		// Leave the reply time to come back before ctx ends.
		left := time.Until(dl)
		wait = max(0, left-min(2*time.Second, left/5))
	} else {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, wait+10*time.Second)
		defer cancel()
	}
	body, err := json.Marshal(fact.VerdictRequest{Source: p.who.Source(), IntakeSeqs: seqs, WaitMillis: wait.Milliseconds()})
	if err != nil {
		return fact.VerdictReply{}, fmt.Errorf("publishers: verdict request: %w", err)
	}
	msg, err := p.nc.RequestWithContext(rctx, fact.VerdictSubject, body)
	if errors.Is(err, nats.ErrNoResponders) {
		return fact.VerdictReply{}, fmt.Errorf("publishers: %w", ErrNoVerdictService)
	}
	if err != nil {
		return fact.VerdictReply{}, fmt.Errorf("publishers: verdict request on %s: %w", fact.VerdictSubject, err)
	}
	var reply fact.VerdictReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return reply, fmt.Errorf("publishers: the hub's verdict reply is not JSON: %w", err)
	}
	if reply.Error != "" {
		return reply, fmt.Errorf("publishers: the hub refused the verdict request: %s", reply.Error)
	}
	if len(reply.Verdicts) != len(seqs) {
		return reply, fmt.Errorf("publishers: the hub answered %d verdicts for %d intake sequences", len(reply.Verdicts), len(seqs))
	}
	for i, v := range reply.Verdicts {
		if v.IntakeSeq != seqs[i] {
			return reply, fmt.Errorf("publishers: the hub's verdict %d is on intake sequence %d, not %d", i, v.IntakeSeq, seqs[i])
		}
	}
	return reply, nil
}

// verdictOf turns the hub's wire verdict into a Verdict.
func verdictOf(v fact.IntakeVerdict) Verdict {
	return Verdict{
		IntakeSeq: v.IntakeSeq, Status: v.Status, LogSeq: v.LogSeq, Note: v.Note,
		Accepted:  v.Status == fact.VerdictAccepted || v.Status == fact.VerdictDuplicate,
		Duplicate: v.Status == fact.VerdictDuplicate,
		Reasons:   v.Reasons, OmittedReasons: v.OmittedReasons,
	}
}
