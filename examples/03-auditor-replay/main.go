// Command auditor-replay is the third of anzhi's examples: an auditor
// (审计局) reading the canonical log from its first entry.
//
// The canonical log is the JetStream stream ANZHI_LOG. Only the hub writes
// it, in the order it judged what departments published, and it is never
// rewritten, so anyone replaying it sees the same history:
//
//   - accepted facts on anzhi.fact.<family>.<county>, each the message
//     exactly as its department sent it (a CloudEvent, structured or
//     binary), plus the hub's headers Anzhi-Intake-Seq and Anzhi-Received;
//   - refused messages on anzhi.rejected.<dept>: a JSON rejection record
//     with every reason (the rejection ledger);
//   - the hub's own events among the facts: its clock (hub.tick) and the
//     warnings it raises and resolves (warning.raised, warning.resolved),
//     from source /xianyang/hub.
//
// It replays the log with an ordered consumer (no state kept on the server,
// delivered in order, gaps recovered by the client library), prints each
// entry and the counts, and exits once it has read the last entry that was
// there when it started. Run it against a hub (go run ./cmd/anzhi hub):
//
//	go run ./examples/03-auditor-replay
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// chinaTime is the zone times are shown in (the instant is the one the
// fact states, whatever offset its department wrote it with).
var chinaTime = time.FixedZone("CST", 8*3600)

func main() {
	natsURL := flag.String("nats-url", nats.DefaultURL, "NATS server of the hub")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *natsURL, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auditor-replay:", err)
		if ctx.Err() != nil {
			os.Exit(130) // interrupted
		}
		os.Exit(1)
	}
}

// run connects to NATS and replays the log.
func run(ctx context.Context, natsURL string, w io.Writer) error {
	nc, err := nats.Connect(natsURL, nats.Name("anzhi example: auditor replay"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	_, err = replay(ctx, js, w)
	return err
}

// Counts are what a replay read.
type Counts struct {
	Facts      int // accepted facts from departments
	HubEvents  int // the hub's own events (clock ticks, warnings)
	Rejections int // entries of the rejection ledger
	Foreign    int // entries the hub did not write (see below)
}

// replay writes every entry of the canonical log up to its last one at the
// start, then the counts, to w.
func replay(ctx context.Context, js jetstream.JetStream, w io.Writer) (Counts, error) {
	var n Counts
	log, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		return n, fmt.Errorf("stream %s (has a hub run on this NATS?): %w", fact.LogStream, err)
	}
	info, err := log.Info(ctx)
	if err != nil {
		return n, err
	}
	last := info.State.LastSeq
	fmt.Fprintf(w, "%s: %d entries\n", fact.LogStream, info.State.Msgs)
	if last > 0 {
		// An ordered consumer from the first entry, every subject.
		cons, err := log.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return n, err
		}
		msgs, err := cons.Messages()
		if err != nil {
			return n, err
		}
		defer msgs.Stop()
		stop := context.AfterFunc(ctx, msgs.Stop)
		defer stop()
		for {
			m, err := msgs.Next()
			if err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				return n, fmt.Errorf("read %s: %w", fact.LogStream, err)
			}
			md, err := m.Metadata()
			if err != nil {
				return n, err
			}
			if err := printEntry(w, md.Sequence.Stream, m, &n); err != nil {
				return n, err
			}
			if md.Sequence.Stream >= last {
				break
			}
		}
	}
	_, err = fmt.Fprintf(w, "facts %d, hub events %d, rejections %d, not written by the hub %d\n",
		n.Facts, n.HubEvents, n.Rejections, n.Foreign)
	return n, err
}

// printEntry prints one log entry and counts it.
func printEntry(w io.Writer, seq uint64, m jetstream.Msg, n *Counts) error {
	// Every entry the hub writes carries Anzhi-Intake-Seq. One without it
	// was put there by someone else, on a NATS that does not keep the log's
	// subjects to the hub: every reader skips it.
	if m.Headers().Get(fact.HeaderIntakeSeq) == "" {
		n.Foreign++
		fmt.Fprintf(w, "%6d  skipped: not written by the hub (%s)\n", seq, m.Subject())
		return nil
	}
	if strings.HasPrefix(m.Subject(), fact.RejectedSubjectPrefix) {
		var r fact.Rejection
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			return fmt.Errorf("log entry %d: not a rejection record: %w", seq, err)
		}
		n.Rejections++
		fmt.Fprintf(w, "%6d  rejected  %s from %s (intake %d, id %s)\n", seq, r.Type, r.Department, r.IntakeSeq, r.ID)
		for _, v := range r.Violations {
			fmt.Fprintf(w, "          %s %s: %s\n", v.Reason, v.Pointer, v.Message)
		}
		return nil
	}
	// A fact: DecodeEntry reads it as the hub's check read it, in either
	// CloudEvents mode.
	e, err := fact.DecodeEntry(seq, m.Subject(), m.Headers(), m.Data())
	if errors.Is(err, fact.ErrNotFact) {
		n.Foreign++
		return nil
	}
	if err != nil {
		return err
	}
	kind := "fact"
	if e.Dept() == "hub" {
		kind = "hub"
		n.HubEvents++
	} else {
		n.Facts++
	}
	fmt.Fprintf(w, "%6d  %-8s  %-18s %s  from %-18s id %s  subject %s  time %s\n",
		seq, kind, e.Family, e.Area, e.Source, e.ID, e.Subject, e.Time.In(chinaTime).Format(time.RFC3339))
	return nil
}
