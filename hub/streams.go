package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// DefaultDuplicateWindow is how long JetStream remembers Nats-Msg-Id values
// of the intake (the hub's own key index covers republishing after that).
const DefaultDuplicateWindow = 2 * time.Minute

// StreamOptions tune the streams.
type StreamOptions struct {
	DuplicateWindow time.Duration
	Replicas        int
	// Senders are the publishing identities (identities on): each gets an
	// intake stream of its own (fact.SenderIntakeStream) beside the open
	// one, which then takes nothing new.
	Senders []string
	// SenderLimits bound each sender's intake stream.
	SenderLimits SenderLimits
}

// SenderLimits are what one publishing identity may have the hub hold and
// judge (identities on); the zero value of each field takes its default.
type SenderLimits struct {
	// MaxMsgs and MaxBytes bound the messages a sender's intake stream holds
	// unjudged (default 1,000,000 and 1 GiB): past them the server refuses
	// that sender's publishes (its client sees the error; nothing
	// acknowledged is dropped) while every other sender goes on.
	MaxMsgs  int64
	MaxBytes int64
	// Rate and Burst bound how many of one sender's messages the hub judges
	// a second (default 10,000/s, burst 1,000); beyond it they wait in the
	// sender's own stream while the others are judged. Negative: no limit.
	Rate  float64
	Burst int
}

func (l *SenderLimits) setDefaults() {
	if l.MaxMsgs <= 0 {
		l.MaxMsgs = 1_000_000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 1 << 30
	}
	if l.Rate == 0 {
		l.Rate = 10_000
	}
	if l.Burst <= 0 {
		l.Burst = 1_000
	}
}

// intakeConfigs are the intake streams' configurations: the open intake
// first (updated before the senders' so that an intake which took the
// senders' subjects gives them up), then one per sender.
func intakeConfigs(cat *schemas.Catalog, o StreamOptions) []jetstream.StreamConfig {
	base := jetstream.StreamConfig{
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
		AllowDirect: true,
	}
	open := base
	open.Name, open.Subjects = fact.IntakeStream, fact.IntakeSubjects(cat)
	open.Description = "anzhi intake: CloudEvents as departments publish them, before validation"
	out := []jetstream.StreamConfig{open}
	for _, s := range o.Senders {
		c := base
		c.Name, c.Subjects = fact.SenderIntakeStream(s), []string{fact.SenderIntakeSubject(s)}
		c.Description = "anzhi intake of " + s + ": what it publishes, before validation"
		c.MaxMsgs, c.MaxBytes, c.Discard = o.SenderLimits.MaxMsgs, o.SenderLimits.MaxBytes, jetstream.DiscardNew
		out = append(out, c)
	}
	return out
}

// EnsureStreams creates or updates the intake streams (the open intake,
// then each sender's) and the log.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cat *schemas.Catalog, o StreamOptions) (intakes []jetstream.Stream, log jetstream.Stream, err error) {
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	o.SenderLimits.setDefaults()
	for _, c := range intakeConfigs(cat, o) {
		s, err := js.CreateOrUpdateStream(ctx, c)
		if err != nil {
			return nil, nil, fmt.Errorf("stream %s: %w", c.Name, err)
		}
		intakes = append(intakes, s)
	}
	log, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        fact.LogStream,
		Description: "anzhi canonical log: accepted facts and the rejection ledger, never rewritten",
		Subjects:    fact.LogSubjects(),
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", fact.LogStream, err)
	}
	return intakes, log, nil
}

// EnsureAuditStream creates or updates the audit stream: the hub's signed
// checkpoints of the log's tree, never rewritten either.
func EnsureAuditStream(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        fact.AuditStream,
		Description: "anzhi audit: signed checkpoints of the Merkle tree over the canonical log, never rewritten",
		Subjects:    []string{fact.AuditSubjectPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", fact.AuditStream, err)
	}
	return s, nil
}
