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
	// SendersBound takes the intake's messages on the subjects that name
	// their sender (fact.SenderIntakeSubjects: identities on) instead of the
	// families' own (open trial mode).
	SendersBound bool
}

// EnsureStreams creates or updates the intake and log streams.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cat *schemas.Catalog, o StreamOptions) (intake, log jetstream.Stream, err error) {
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	subjects := fact.IntakeSubjects(cat)
	if o.SendersBound {
		subjects = fact.SenderIntakeSubjects()
	}
	intake, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        fact.IntakeStream,
		Description: "anzhi intake: CloudEvents as departments publish them, before validation",
		Subjects:    subjects,
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
		AllowDirect: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", fact.IntakeStream, err)
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
	return intake, log, nil
}
