package hub

import (
	"context"
	"fmt"
	"strings"
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
	// inboxes are the deliver subject prefixes allowed ("_INBOX_auditor.").
	inboxes []string
	removed func(stream, consumer, deliver string) // counts a removal
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
			if deliver == "" || g.consumers.allowed(deliver) {
				continue
			}
			err := s.DeleteConsumer(ctx, info.Name)
			msg := fmt.Sprintf("stream %s: removed consumer %s, which delivered to %s, outside its creator's inbox", name, info.Name, deliver)
			if err != nil {
				msg = fmt.Sprintf("stream %s: consumer %s delivers to %s, outside its creator's inbox, and could not be removed: %v", name, info.Name, deliver, err)
			}
			g.log.Error("a consumer delivered where no reader of its stream may receive; the hub removed it", "stream", name,
				"consumer", info.Name, "deliver_subject", deliver, "err", err)
			if g.consumers.removed != nil {
				g.consumers.removed(name, info.Name, deliver)
			}
			out = append(out, msg)
		}
		if err := lister.Err(); err != nil && ctx.Err() == nil {
			g.log.Warn("could not list the consumers of a stream", "stream", name, "err", err)
		}
	}
	return out
}

func (w *consumerWatch) allowed(deliver string) bool {
	for _, p := range w.inboxes {
		if strings.HasPrefix(deliver, p) {
			return true
		}
	}
	return false
}
