package hub

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// logMsg is an entry of the canonical log as read back.
type logMsg struct {
	seq     uint64
	subject string
	header  nats.Header
	data    []byte
}

// readLog reads the canonical log from sequence from through to, in order,
// and calls fn with each entry; an error from fn stops the read and is
// returned as it is. It is the one way the hub catches up with its log (the
// projector's replay at start, the view bucket's catch-up); batch is how
// many entries a pull asks for. The caller knows to is in the log (the
// log's tail when it started).
func readLog(ctx context.Context, logs jetstream.Stream, from, to uint64, batch int, fn func(m logMsg) error) error {
	if to < from {
		return nil
	}
	cons, err := logs.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return fmt.Errorf("read the log from %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(batch))
	if err != nil {
		return fmt.Errorf("read the log from %d: %w", from, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read the log from %d: %w", from, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read the log from %d: %w", from, err)
		}
		seq := md.Sequence.Stream
		if err := fn(logMsg{seq: seq, subject: msg.Subject(), header: msg.Headers(), data: msg.Data()}); err != nil {
			return err
		}
		if seq >= to {
			return nil
		}
	}
}
