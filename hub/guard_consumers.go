package hub

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// This file is the guard's look at the consumers on the streams overseers
// read (the view bucket, the log). NATS checks a push consumer's deliver
// subject against nothing its creator is allowed: an overseer allowed to
// make consumers on its stream could have one deliver the stream's messages
// on a subject it may not publish on (view.>, where the lead office's feed
// is). The hub's own readers pull, and overseers' watchers deliver to their
// own inbox; any other push consumer is removed, and logged.

// consumerWatch is what the guard knows of the consumers it watches.
type consumerWatch struct {
	streams []string // streams whose consumers are looked at
	// allowed says whether a push consumer of stream may deliver where it
	// does: into the inbox of a reader allowed what it delivers.
	allowed func(stream string, c jetstream.ConsumerConfig) bool
	removed func(stream string) // counts a removal
}

// overseerConsumers are the rules of a hub with identities: the view
// bucket may be delivered to the lead office, the log to the auditors and
// — filtered to the rejection ledger — to the lead office; the hub's own
// inbox (only the hub subscribes there) takes anything.
func overseerConsumers(leadOffice, auditor string) func(string, jetstream.ConsumerConfig) bool {
	ledgerOnly := func(c jetstream.ConsumerConfig) bool {
		filters := c.FilterSubjects
		if c.FilterSubject != "" {
			filters = append(filters, c.FilterSubject)
		}
		for _, f := range filters {
			if !strings.HasPrefix(f, fact.RejectedSubjectPrefix) {
				return false
			}
		}
		return len(filters) > 0
	}
	return func(stream string, c jetstream.ConsumerConfig) bool {
		d := c.DeliverSubject
		switch {
		case strings.HasPrefix(d, "_INBOX."):
			return true
		case stream == fact.ViewStream:
			return strings.HasPrefix(d, leadOffice+".")
		case stream == fact.LogStream:
			return strings.HasPrefix(d, auditor+".") || strings.HasPrefix(d, leadOffice+".") && ledgerOnly(c)
		}
		return false
	}
}

// checkConsumers removes every push consumer on the watched streams that
// delivers outside the allowed inboxes, and returns what it removed.
func (g *guard) checkConsumers(ctx context.Context) []string {
	if g.consumers == nil {
		return nil
	}
	var out []string
	for _, name := range g.consumers.streams {
		s, err := g.js.Stream(ctx, name)
		if err != nil {
			continue // the stream check reports it
		}
		lister := s.ListConsumers(ctx)
		for info := range lister.Info() {
			deliver := info.Config.DeliverSubject
			if deliver == "" || g.consumers.allowed(name, info.Config) {
				continue
			}
			if err := s.DeleteConsumer(ctx, info.Name); err != nil {
				g.log.Error("a consumer delivers where no reader of its stream may receive, and could not be removed", "stream", name,
					"consumer", info.Name, "deliver_subject", deliver, "err", err)
				out = append(out, fmt.Sprintf("stream %s: consumer %s delivers to %s, which no reader allowed it may receive, and could not be removed: %v",
					name, info.Name, deliver, err))
				continue
			}
			g.log.Error("a consumer delivered where no reader of its stream may receive; the hub removed it", "stream", name,
				"consumer", info.Name, "deliver_subject", deliver)
			if g.consumers.removed != nil {
				g.consumers.removed(name)
			}
			out = append(out, fmt.Sprintf("stream %s: removed consumer %s, which delivered to %s", name, info.Name, deliver))
		}
		if err := lister.Err(); err != nil && ctx.Err() == nil {
			g.log.Warn("could not list the consumers of a stream", "stream", name, "err", err)
		}
	}
	return out
}
