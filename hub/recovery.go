package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
)

// This file is how the gate resumes after an interruption (a failed append,
// a lost acknowledgement, the intake consumer gone): the log is the truth,
// so the gate reads its tail, hands on what was stored without its hearing
// of it, forgets what was not, and judges on from the intake sequence the
// log last recorded.

// run judges the intake until ctx ends, resuming from the log's tail after
// every interruption, with a growing pause.
func (g *gate) run(ctx context.Context) error {
	// The janitor outlives the gate by the erases the last stored entries
	// asked for: run returns once they are done.
	stopped, janitorDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(janitorDone)
		g.janitor.run(ctx, stopped)
	}()
	defer func() {
		close(stopped)
		<-janitorDone
		g.eraseUnacknowledged()
	}()
	backoff := 100 * time.Millisecond
	for {
		err := g.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		g.log.Warn("gate interrupted; resuming from the log's tail", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// resume sets the gate up to judge on after the log's last entry: entries
// stored without acknowledgement are caught up with, appends that never
// reached the log are rolled back (the hub's own events among them are
// submitted again), and every intake stream's position is the one the log
// records (resumePoint). It returns a log writer appending after the tail.
func (g *gate) resume(ctx context.Context) (*logWriter, error) {
	lastSeq, at, err := resumePoint(ctx, g.logs)
	if err != nil {
		return nil, err
	}
	// Entries the log stored whose acknowledgement never came (a timeout,
	// a dropped connection) were neither folded nor confirmed: hand them
	// on now, in order, as the writer would have.
	stored, err := g.catchUp(ctx, g.confirmedLog.Load()+1, lastSeq)
	if err != nil {
		return nil, err
	}
	// Forget keys of appends that never reached the log, and submit again
	// the hub's own events among them, in their order, before anything
	// submitted since.
	g.submit.pushFront(g.keys.rollback(lastSeq, stored)...)
	if err := g.sources.takeUp(ctx, at, g.log); err != nil {
		return nil, err
	}
	g.confirmedLog.Store(lastSeq)
	g.appended.Store(lastSeq)
	g.sinceStamp = 0 // the run's first entry records the positions

	w := newLogWriter(g.js, lastSeq, g.maxInFlight, g.onStored)
	w.loseAck = g.loseAck
	return w, nil
}

// catchUp hands the log entries from..to, stored without the gate hearing
// of it, to onStored: their keys go (back) into the index, the view folds
// them, erases they call for are queued. It returns the fact key found at
// each of those sequences (0 for other entries), so that appends the gate
// made can be told from entries someone else put there.
func (g *gate) catchUp(ctx context.Context, from, to uint64) (map[uint64]uint64, error) {
	stored := map[uint64]uint64{}
	err := readLog(ctx, g.logs, from, to, 256, func(raw logMsg) error {
		seq := raw.seq
		stored[seq] = 0
		msg := &nats.Msg{Subject: raw.subject, Header: raw.header, Data: raw.data}
		// Not the hub's (errForeign) moves the log on, not the intake; the
		// projector skips it.
		e := &logEntry{msg: msg, seq: seq}
		le, err := decodeLogEntry(seq, raw.subject, raw.header, raw.data)
		switch {
		case errors.Is(err, errForeign):
		case err != nil:
			return fmt.Errorf("catch up with log entry %d: %w", seq, err)
		case le.RejectedBy != "":
			var r struct {
				IDNumbers int `json:"id_numbers"`
			}
			if err := json.Unmarshal(raw.data, &r); err != nil {
				return fmt.Errorf("catch up with log entry %d: %w", seq, err)
			}
			e.src, e.intakeSeq, e.rejected, e.erase = g.sources.of(raw.header), headerSeq(raw.header), le.RejectedBy, r.IDNumbers > 0
		default:
			e.intakeSeq, e.key = headerSeq(raw.header), le.Key()
			if le.Source != hubSource {
				e.src = g.sources.of(raw.header)
			}
			stored[seq] = e.key
			g.keys.index(le, seq)
		}
		g.log.Warn("log entry stored without acknowledgement; caught up", "seq", seq)
		g.onStored(e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	return stored, nil
}

// headerSeq reads the intake sequence a log entry of the hub's records.
func headerSeq(h nats.Header) uint64 {
	n, _ := strconv.ParseUint(h.Get(fact.HeaderIntakeSeq), 10, 64)
	return n
}
