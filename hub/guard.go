package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// guard watches the streams the hub owns — the intake streams, the
// canonical log and the view bucket's stream — for drift from the configuration the hub set: subjects,
// transforms, retention, limits, the deny flags, sealing, replicas. A
// change there can forge facts into the log (a subject transform), erase it
// (retention, limits, a purge) or halt the ingest (sealing). The guard
// never repairs in silence: it reports every problem in /healthz (not ok),
// /readyz, /metrics (anzhi_stream_drift) and the log, until an operator
// puts it right. The hub has no durable consumers to watch: it reads with
// ordered consumers it makes anew each time.
type guard struct {
	js     jetstream.JetStream
	every  time.Duration
	expect []jetstream.StreamConfig
	log    *slog.Logger
	// confirmedLog is the last log sequence the hub knows is stored: the
	// log may never end before it (entries removed from its tail).
	confirmedLog func() uint64
	// consumers, with identities on, watches the consumers overseers may
	// make (guard_consumers.go).
	consumers *consumerWatch

	mu       sync.Mutex
	problems []string
}

// check looks at every stream once and records what is wrong.
func (g *guard) check(ctx context.Context) []string {
	var problems []string
	// What the hub knows is stored is read before the streams are: read
	// after, it could count entries stored since the log's state was read,
	// and a busy hub would see a log that ends "before" its own tail.
	var confirmed uint64
	if g.confirmedLog != nil {
		confirmed = g.confirmedLog()
	}
	for _, want := range g.expect {
		s, err := g.js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			problems = append(problems, fmt.Sprintf("stream %s is missing", want.Name))
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return g.current()
			}
			problems = append(problems, fmt.Sprintf("stream %s cannot be read: %v", want.Name, err))
			continue
		}
		info := s.CachedInfo()
		for _, d := range configDrift(want, info.Config) {
			problems = append(problems, fmt.Sprintf("stream %s: %s", want.Name, d))
		}
		if want.Name == fact.LogStream {
			problems = append(problems, logDrift(info.State, confirmed)...)
		}
	}
	g.mu.Lock()
	changed := !slices.Equal(problems, g.problems)
	g.problems = problems
	g.mu.Unlock()
	if changed {
		if len(problems) == 0 {
			g.log.Info("the hub's streams are as configured again")
		}
		for _, p := range problems {
			g.log.Error("the hub's streams drifted from their configuration; the hub is not healthy until an operator restores it", "problem", p)
		}
	}
	return problems
}

// current returns the problems found by the last check.
func (g *guard) current() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.problems)
}

// consumerEvery is how often, at most, the guard looks for consumers
// delivering outside their creator's inbox: a cheap list of two streams'
// consumers, kept short because such a consumer delivers while it exists.
const consumerEvery = 2 * time.Second

// run checks the streams every g.every and the consumers every
// consumerEvery (or g.every if shorter) until ctx ends. Consumers removed
// are logged and counted, not standing problems.
func (g *guard) run(ctx context.Context) {
	t := time.NewTicker(g.every)
	defer t.Stop()
	c := time.NewTicker(min(g.every, consumerEvery))
	defer c.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			g.check(cctx)
			cancel()
		case <-c.C:
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			g.checkConsumers(cctx)
			cancel()
		}
	}
}

// logDrift names what is wrong with the log's state: entries gone from its
// head (a purge, limits) or its tail.
func logDrift(st jetstream.StreamState, confirmed uint64) []string {
	var out []string
	if st.Msgs > 0 && st.FirstSeq > 1 {
		out = append(out, fmt.Sprintf("log %s starts at sequence %d: entries 1–%d are gone", fact.LogStream, st.FirstSeq, st.FirstSeq-1))
	}
	if st.NumDeleted > 0 {
		out = append(out, fmt.Sprintf("log %s has %d deleted entries", fact.LogStream, st.NumDeleted))
	}
	if st.LastSeq < confirmed {
		out = append(out, fmt.Sprintf("log %s ends at sequence %d, before %d which the hub stored", fact.LogStream, st.LastSeq, confirmed))
	}
	return out
}

// configDrift names every way got differs from want in what protects the
// stream (not its description or placement).
func configDrift(want, got jetstream.StreamConfig) []string {
	var out []string
	diff := func(what string, w, g any) {
		out = append(out, fmt.Sprintf("%s is %v, want %v", what, g, w))
	}
	if !sameSubjects(want.Subjects, got.Subjects) {
		diff("subjects", want.Subjects, got.Subjects)
	}
	if got.SubjectTransform != nil {
		out = append(out, fmt.Sprintf("has a subject transform %s → %s", got.SubjectTransform.Source, got.SubjectTransform.Destination))
	}
	if got.RePublish != nil {
		out = append(out, fmt.Sprintf("republishes %s → %s", got.RePublish.Source, got.RePublish.Destination))
	}
	if got.Mirror != nil || len(got.Sources) > 0 {
		out = append(out, "takes messages from other streams (mirror or sources)")
	}
	if got.Sealed {
		out = append(out, "is sealed")
	}
	for _, c := range []struct {
		what string
		w, g any
	}{
		{"retention", want.Retention, got.Retention},
		{"storage", want.Storage, got.Storage},
		{"deny delete", want.DenyDelete, got.DenyDelete},
		{"deny purge", want.DenyPurge, got.DenyPurge},
		{"replicas", max(want.Replicas, 1), max(got.Replicas, 1)},
		{"duplicate window", want.Duplicates, got.Duplicates},
		{"max messages", limit(want.MaxMsgs), limit(got.MaxMsgs)},
		{"max bytes", limit(want.MaxBytes), limit(got.MaxBytes)},
		{"max age", want.MaxAge, got.MaxAge},
		{"max messages per subject", limit(want.MaxMsgsPerSubject), limit(got.MaxMsgsPerSubject)},
		{"discard policy", want.Discard, got.Discard},
	} {
		if c.w != c.g {
			diff(c.what, c.w, c.g)
		}
	}
	return out
}

// limit reads a stream limit: 0 and -1 both mean none.
func limit(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

func sameSubjects(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// ErrLostLog means the canonical log is missing while the hub's snapshots
// say it held entries: it was deleted, and recreating it empty would hide
// that.
var ErrLostLog = errors.New("the canonical log is missing")

// refuseLostLog refuses to start when the log is gone but snapshots of a
// view folded from it remain.
func (h *Hub) refuseLostLog(ctx context.Context) error {
	if _, err := h.js.Stream(ctx, fact.LogStream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	store, err := h.js.ObjectStore(ctx, fact.SnapshotBucket)
	if err != nil {
		return nil // no snapshots: a new hub
	}
	objs, err := store.List(ctx)
	if err != nil || len(objs) == 0 {
		return nil
	}
	return fmt.Errorf("hub: %w: stream %s does not exist, but %d snapshots of a view folded from it do (%s): "+
		"the log was deleted; restore it from a backup (the hub will not recreate it empty)",
		ErrLostLog, fact.LogStream, len(objs), fact.SnapshotBucket)
}

// streamConfigs returns the current configuration of the streams the hub
// owns that exist (the senders' intake streams among them).
func (h *Hub) streamConfigs(ctx context.Context, senders []string) map[string]jetstream.StreamConfig {
	out := map[string]jetstream.StreamConfig{}
	names := []string{fact.IntakeStream, fact.LogStream}
	for _, s := range senders {
		names = append(names, fact.SenderIntakeStream(s))
	}
	for _, name := range names {
		if s, err := h.js.Stream(ctx, name); err == nil {
			out[name] = s.CachedInfo().Config
		}
	}
	return out
}
