// Package subscribers holds the readers of anzhi's canonical log: the
// rejection ledger, and (as they come) the lead office's aggregate watch,
// the auditors' replay and verification, and warning notifiers.
package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// RejectionQuery selects entries of the rejection ledger.
type RejectionQuery struct {
	// Department as written after /xianyang/ (edu, county/610424, unknown);
	// "" for all.
	Department string
	// After returns only entries after this log sequence (a page cursor).
	After uint64
	// Since returns only entries recorded at or after this time.
	Since time.Time
	// Limit caps the number of entries (default 100, at most 10000).
	Limit int
}

// LoggedRejection is a rejection with its place in the log.
type LoggedRejection struct {
	Seq uint64 `json:"seq"`
	fact.Rejection
}

// ErrBadQuery marks a query that cannot be run.
var ErrBadQuery = errors.New("bad query")

// Rejections reads the ledger in log order. next is the cursor of the
// following page, 0 when there is none.
func Rejections(ctx context.Context, js jetstream.JetStream, q RejectionQuery) (out []LoggedRejection, next uint64, err error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if q.Limit > 10000 {
		return nil, 0, fmt.Errorf("%w: limit %d is above 10000", ErrBadQuery, q.Limit)
	}
	cons, err := ledgerConsumer(ctx, js, q)
	if err != nil {
		return nil, 0, fmt.Errorf("read rejection ledger: %w", err)
	}
	// A page leaves no consumer behind: many readers (every HTTP request
	// is one) would otherwise fill the server's consumer limit.
	defer dropConsumer(js, cons)
	if startsLater(q) {
		return nil, 0, nil // nothing is recorded in the future
	}
	more := true
	for len(out) < q.Limit {
		// NoWait: the server says what it holds now, which no client timer
		// can cut short on a loaded machine.
		batch, err := cons.FetchNoWait(q.Limit - len(out))
		if err != nil {
			return nil, 0, fmt.Errorf("read rejection ledger: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return nil, 0, fmt.Errorf("read rejection ledger: %w", err)
			}
			more = md.NumPending > 0
			r, ok, err := decodeRejection(m, md, q)
			if err != nil {
				return nil, 0, err
			}
			if ok {
				out = append(out, r)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			return nil, 0, fmt.Errorf("read rejection ledger: %w", err)
		}
		if n == 0 || !more {
			return out, 0, nil
		}
	}
	if !more || len(out) == 0 {
		return out, 0, nil
	}
	return out, out[len(out)-1].Seq, nil
}

// ledgerConsumer reads the ledger entries the query selects, from where it
// says to start.
func ledgerConsumer(ctx context.Context, js jetstream.JetStream, q RejectionQuery) (jetstream.Consumer, error) {
	filter := fact.RejectedSubjectPrefix + ">"
	if q.Department != "" {
		filter = fact.RejectedSubject(q.Department)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, InactiveThreshold: pageIdle}
	switch {
	case q.After > 0:
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = q.After + 1
	case startsLater(q):
		// JetStream turns a start time into nanoseconds since 1970, which
		// overflow after 2262 and wrap round to the start of the stream:
		// a start still to come is "new entries only", and decodeRejection
		// skips those before q.Since.
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	case !q.Since.IsZero():
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		t := q.Since
		cfg.OptStartTime = &t
	}
	return js.OrderedConsumer(ctx, fact.LogStream, cfg)
}

// pageIdle is how long the server keeps a page's consumer once nobody reads
// it, should the explicit delete not reach it.
const pageIdle = 10 * time.Second

// dropConsumer deletes the consumer of a page read.
func dropConsumer(js jetstream.JetStream, cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteConsumer(ctx, fact.LogStream, info.Name) // if it fails, pageIdle removes it
}

// startsLater reports whether the query starts at a time still to come.
func startsLater(q RejectionQuery) bool {
	return q.After == 0 && q.Since.After(time.Now())
}

// decodeRejection reads a ledger entry; ok is false for an entry the hub did
// not write (no Anzhi-Intake-Seq header: a client that published on the
// ledger's subject of a NATS that does not keep it to the hub) and for one
// recorded before q.Since.
func decodeRejection(m jetstream.Msg, md *jetstream.MsgMetadata, q RejectionQuery) (r LoggedRejection, ok bool, err error) {
	if m.Headers().Get(fact.HeaderIntakeSeq) == "" {
		return r, false, nil
	}
	if q.After == 0 && md.Timestamp.Before(q.Since) {
		return r, false, nil
	}
	if err := json.Unmarshal(m.Data(), &r.Rejection); err != nil {
		return r, false, fmt.Errorf("rejection at log sequence %d is not readable: %w", md.Sequence.Stream, err)
	}
	r.Seq = md.Sequence.Stream
	return r, true, nil
}

// FollowRejections calls fn for every entry of the ledger the query selects
// (its Limit aside), in log order, then for each new one as the hub records
// it, until ctx ends or fn fails. It reads the ledger itself, not the
// notices, so nothing is missed while the connection is down and nothing is
// shown that the log did not store; it returns an error when the connection
// is lost for good.
func FollowRejections(ctx context.Context, js jetstream.JetStream, q RejectionQuery, fn func(LoggedRejection) error) error {
	cons, err := ledgerConsumer(ctx, js, q)
	if err != nil {
		return fmt.Errorf("follow rejection ledger: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("follow rejection ledger: %w", err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("follow rejection ledger: %w", err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("follow rejection ledger: %w", err)
		}
		r, ok, err := decodeRejection(m, md, q)
		if err != nil {
			return err
		}
		if ok {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
}
