package subscribers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"

	"github.com/xianyang/anzhi/audit"
	"github.com/xianyang/anzhi/fact"
)

// ErrNoCheckpoints means the audit stream holds no checkpoint to verify the
// log against (the hub signs none, or the stream is gone).
var ErrNoCheckpoints = errors.New("no signed checkpoint")

// StoredCheckpoint is a checkpoint as the audit stream holds it: its
// sequence there, the signed note and the compact range kept beside it.
type StoredCheckpoint struct {
	AuditSeq uint64
	Note     []byte
	Range    [][]byte
}

// Checkpoints reads every checkpoint of the audit stream, in order.
func Checkpoints(ctx context.Context, js jetstream.JetStream) ([]StoredCheckpoint, error) {
	s, err := js.Stream(ctx, fact.AuditStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: the audit stream %s does not exist", ErrNoCheckpoints, fact.AuditStream)
	}
	if err != nil {
		return nil, fmt.Errorf("audit stream %s: %w", fact.AuditStream, err)
	}
	state := s.CachedInfo().State
	var out []StoredCheckpoint
	if state.Msgs == 0 {
		return nil, nil
	}
	err = readOrdered(ctx, s, fact.AuditCheckpointSubject, 1, state.LastSeq, func(seq uint64, m jetstream.Msg) error {
		c := StoredCheckpoint{AuditSeq: seq, Note: m.Data()}
		for _, h := range strings.Fields(m.Headers().Get(fact.HeaderAuditRange)) {
			b, err := base64.StdEncoding.DecodeString(h)
			if err != nil {
				return fmt.Errorf("audit stream entry %d: compact range: %w", seq, err)
			}
			c.Range = append(c.Range, b)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// VerifyLog recomputes the Merkle tree from the canonical log and checks
// every checkpoint of the audit stream against it with the hub's verifier
// key v (see audit.Checker): the report names the first log sequence where
// history diverges. With from > 1 it takes up the tree from the last
// checkpoint before from, by the compact range kept beside it, instead of
// reading the log from its start. It reads up to the log's end when it
// starts.
func VerifyLog(ctx context.Context, js jetstream.JetStream, v note.Verifier, from uint64) (*audit.Report, error) {
	cps, err := Checkpoints(ctx, js)
	if err != nil {
		return nil, err
	}
	if len(cps) == 0 {
		return nil, fmt.Errorf("%w: the audit stream %s is empty", ErrNoCheckpoints, fact.AuditStream)
	}
	c := audit.NewChecker(v)
	if from > 1 {
		var resume *StoredCheckpoint
		for i := range cps {
			cp, err := audit.OpenCheckpoint(cps[i].Note, v)
			if err == nil && cp.Size < from {
				resume = &cps[i]
			}
		}
		if resume != nil {
			if err := c.ResumeFrom(resume.Note, resume.Range); err != nil {
				return nil, fmt.Errorf("--from %d: checkpoint at audit seq %d: %w", from, resume.AuditSeq, err)
			}
		}
	}
	for _, cp := range cps {
		c.AddCheckpoint("at audit seq "+strconv.FormatUint(cp.AuditSeq, 10), cp.Note)
	}
	logs, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		return nil, fmt.Errorf("verify: stream %s: %w", fact.LogStream, err)
	}
	state := logs.CachedInfo().State
	start := c.Report().From
	if state.Msgs > 0 && state.LastSeq >= start {
		// Read and hash on two goroutines: the reader hands on batches.
		batches := make(chan []audit.Entry, 4)
		readErr := make(chan error, 1)
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			defer close(batches)
			batch := make([]audit.Entry, 0, 512)
			err := readOrdered(rctx, logs, "", start, state.LastSeq, func(seq uint64, m jetstream.Msg) error {
				batch = append(batch, audit.Entry{Seq: seq, Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
				if len(batch) == cap(batch) {
					select {
					case batches <- batch:
					case <-rctx.Done():
						return rctx.Err()
					}
					batch = make([]audit.Entry, 0, 512)
				}
				return nil
			})
			if err == nil && len(batch) > 0 {
				batches <- batch
			}
			readErr <- err
		}()
		for b := range batches {
			for _, e := range b {
				c.AddEntry(e)
			}
		}
		if err := <-readErr; err != nil {
			return nil, fmt.Errorf("verify: read the log: %w", err)
		}
	}
	return c.Finish(state.LastSeq), nil
}

// readOrdered reads stream s from sequence from through to (a sequence the
// stream held when the caller looked), optionally on one subject, and calls
// fn with each message's stream sequence.
func readOrdered(ctx context.Context, s jetstream.Stream, subject string, from, to uint64, fn func(uint64, jetstream.Msg) error) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from}
	if subject != "" {
		cfg.FilterSubjects = []string{subject}
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		if err := fn(md.Sequence.Stream, m); err != nil {
			return err
		}
		if md.Sequence.Stream >= to || md.NumPending == 0 {
			return nil
		}
	}
}
