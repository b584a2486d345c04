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

// ReplayQuery selects the entries of the canonical log an auditor replays.
// Family and County narrow the facts by JetStream subject filter (the
// server sends nothing else); Dept and Entity are checked on each entry.
type ReplayQuery struct {
	Family string // edu.enrolment
	County string // 610424 (a fact's county token)
	Dept   string // the publisher as written after /xianyang/ (edu, county/610424)
	// Entity keeps the entries about one entity: the CloudEvent subject, or
	// a household_id, site_id, person_key or entity_id in the data.
	Entity string
	// IncludeRejected adds the rejection ledger (of Dept only, when set);
	// IncludeHub the hub's own events (clock, warnings, read records).
	IncludeRejected, IncludeHub bool
	// FromSeq and ToSeq bound the log sequences (0: the first entry; the
	// last entry when the replay starts). Since and Until bound the
	// recorded time (when the log stored the entry).
	FromSeq, ToSeq uint64
	Since, Until   time.Time
	// Limit stops after this many entries (0: no limit).
	Limit int
}

// ReplayedEntry is one entry of the log as it is stored.
type ReplayedEntry struct {
	Seq      uint64    `json:"log_seq"`
	Recorded time.Time `json:"recorded"`
	Subject  string    `json:"subject"`
	// Kind is fact (a department's), hub (the hub's own event) or rejection.
	Kind string `json:"kind"`
	// Header holds the CloudEvents headers of a binary-mode fact (ce-*),
	// which carry its attributes; Body is the stored bytes: a structured
	// CloudEvent, a binary-mode fact's data, or a rejection record.
	Header map[string][]string `json:"header,omitempty"`
	Body   json.RawMessage     `json:"body"`
}

// Replay calls fn with every entry the query selects, in log order, up to
// the log's last entry when it starts (or q.ToSeq), and returns how many it
// passed. An error from fn stops it and is returned as it is.
func Replay(ctx context.Context, js jetstream.JetStream, q ReplayQuery, fn func(ReplayedEntry) error) (int, error) {
	logs, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		return 0, fmt.Errorf("replay: stream %s: %w", fact.LogStream, err)
	}
	last := logs.CachedInfo().State.LastSeq
	if q.ToSeq > 0 && q.ToSeq < last {
		last = q.ToSeq
	}
	if last == 0 || q.FromSeq > last {
		return 0, nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: replayFilters(q), InactiveThreshold: pageIdle}
	switch {
	case q.FromSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, q.FromSeq
	case !q.Since.IsZero():
		if q.Since.After(time.Now()) {
			return 0, nil // nothing is recorded in the future
		}
		t := q.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	cons, err := logs.OrderedConsumer(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	defer dropConsumer(js, cons)
	n := 0
	for {
		// NoWait: what the log holds now; an empty answer means the
		// filtered entries up to its end are all read.
		batch, err := cons.FetchNoWait(512)
		if err != nil {
			return n, fmt.Errorf("replay: %w", err)
		}
		got, more := 0, true
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return n, fmt.Errorf("replay: %w", err)
			}
			more = md.NumPending > 0
			seq := md.Sequence.Stream
			if seq > last || !q.Until.IsZero() && md.Timestamp.After(q.Until) {
				return n, nil
			}
			if !q.Since.IsZero() && md.Timestamp.Before(q.Since) {
				continue // started by sequence: the time bound still holds
			}
			e, ok := q.pick(seq, md.Timestamp, m)
			if !ok {
				continue
			}
			if err := fn(e); err != nil {
				return n, err
			}
			n++
			if seq == last || q.Limit > 0 && n >= q.Limit {
				return n, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			return n, fmt.Errorf("replay: %w", err)
		}
		if got == 0 || !more {
			return n, ctx.Err()
		}
	}
}

// replayFilters are the JetStream subject filters of a query.
func replayFilters(q ReplayQuery) []string {
	facts := fact.FactSubjectPrefix + ">"
	switch {
	case q.Family != "" && q.County != "":
		facts = fact.FactSubjectPrefix + q.Family + "." + q.County
	case q.Family != "":
		facts = fact.FactSubjectPrefix + q.Family + ".*"
	case q.County != "":
		facts = fact.FactSubjectPrefix + "*.*." + q.County
	}
	out := []string{facts}
	if q.IncludeRejected {
		rejected := fact.RejectedSubjectPrefix + ">"
		if q.Dept != "" {
			rejected = fact.RejectedSubject(q.Dept)
		}
		out = append(out, rejected)
	}
	return out
}

// pick turns a stored message into a replayed entry, or says the query
// does not want it.
func (q ReplayQuery) pick(seq uint64, stored time.Time, m jetstream.Msg) (ReplayedEntry, bool) {
	e := ReplayedEntry{Seq: seq, Recorded: stored.UTC(), Subject: m.Subject(), Body: m.Data()}
	if t, err := time.Parse(time.RFC3339Nano, m.Headers().Get(fact.HeaderReceived)); err == nil {
		e.Recorded = t.UTC()
	}
	if !json.Valid(e.Body) {
		b, _ := json.Marshal(string(m.Data())) // kept, as a JSON string of its bytes
		e.Body = b
	}
	entry, err := fact.DecodeEntry(seq, m.Subject(), m.Headers(), m.Data())
	if errors.Is(err, fact.ErrNotFact) {
		e.Kind = "rejection" // only rejections are filtered in besides facts
		return e, q.Entity == ""
	}
	e.Kind = "fact"
	if entry.Source == fact.SourceFor("hub") {
		e.Kind = "hub"
		if !q.IncludeHub {
			return e, false
		}
	}
	if q.Dept != "" && entry.Dept() != q.Dept {
		return e, false
	}
	if q.Entity != "" && !about(entry, q.Entity) {
		return e, false
	}
	for k, vs := range m.Headers() {
		if len(k) > 3 && (k[:3] == "ce-" || k[:3] == "Ce-") {
			if e.Header == nil {
				e.Header = map[string][]string{}
			}
			e.Header[k] = vs
		}
	}
	return e, true
}

// about reports whether a fact concerns the entity id.
func about(e fact.Entry, id string) bool {
	if e.Subject == id {
		return true
	}
	found := false
	_ = fact.Members(e.Data, func(k, v []byte) error {
		switch string(k) {
		case "household_id", "site_id", "person_key", "entity_id":
			if fact.UnquoteString(v) == id {
				found = true
			}
		}
		return nil
	})
	return found
}
