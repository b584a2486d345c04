package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// Stream names (see package fact for their contract).
const (
	IntakeStream = fact.IntakeStream
	LogStream    = fact.LogStream
)

// DefaultDuplicateWindow is how long JetStream remembers Nats-Msg-Id values
// of the intake (the hub's own key index covers republishing after that).
const DefaultDuplicateWindow = 2 * time.Minute

// IntakeSubjects returns the intake stream's subjects: every domain of the
// catalog with a full wildcard, so a misspelt event name or a malformed county
// token still lands and is refused visibly instead of vanishing.
func IntakeSubjects(cat *schemas.Catalog) []string {
	var domains []string
	for _, f := range cat.Families() {
		d, _, _ := strings.Cut(f.Name, ".")
		domains = append(domains, d)
	}
	slices.Sort(domains)
	domains = slices.Compact(domains)
	out := make([]string, len(domains))
	for i, d := range domains {
		out[i] = d + ".>"
	}
	return out
}

// StreamOptions tune the streams.
type StreamOptions struct {
	DuplicateWindow time.Duration
	Replicas        int
}

// EnsureStreams creates or updates the intake and log streams.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cat *schemas.Catalog, o StreamOptions) (intake, log jetstream.Stream, err error) {
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = DefaultDuplicateWindow
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	intake, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        IntakeStream,
		Description: "anzhi intake: CloudEvents as departments publish them, before validation",
		Subjects:    IntakeSubjects(cat),
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  o.DuplicateWindow,
		Replicas:    o.Replicas,
		AllowDirect: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", IntakeStream, err)
	}
	log, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        LogStream,
		Description: "anzhi canonical log: accepted facts and the rejection ledger, never rewritten",
		Subjects:    []string{fact.FactSubjectPrefix + ">", fact.RejectedSubjectPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s: %w", LogStream, err)
	}
	return intake, log, nil
}
