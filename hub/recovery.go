package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
// submitted again), and the positions are those of the log's tail. It
// returns a log writer appending after that tail and the intake sequence
// judging resumes after.
func (g *gate) resume(ctx context.Context) (*logWriter, uint64, error) {
	lastSeq, lastIntake, err := tail(ctx, g.logs)
	if err != nil {
		return nil, 0, err
	}
	// Entries the log stored whose acknowledgement never came (a timeout,
	// a dropped connection) were neither folded nor confirmed: hand them
	// on now, in order, as the writer would have.
	stored, err := g.catchUp(ctx, g.confirmedLog.Load()+1, lastSeq)
	if err != nil {
		return nil, 0, err
	}
	// Forget keys of appends that never reached the log, and submit again
	// the hub's own events among them, in their order, before anything
	// submitted since.
	g.submit.pushFront(g.keys.rollback(lastSeq, stored)...)
	g.position.Store(lastIntake)
	g.confirmedIntake.Store(lastIntake)
	g.confirmedLog.Store(lastSeq)
	g.appended.Store(lastSeq)

	w := newLogWriter(g.js, lastSeq, lastIntake, g.maxInFlight, g.onStored)
	w.loseAck = g.loseAck
	return w, lastIntake, nil

}

// tail reads the log's last sequence and the intake sequence it recorded.
func tail(ctx context.Context, logs jetstream.Stream) (lastSeq, lastIntake uint64, err error) {
	info, err := logs.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("log stream info: %w", err)
	}
	lastSeq = info.State.LastSeq
	if lastSeq == 0 {
		return 0, 0, nil
	}
	// The last entry the hub wrote: entries without its header were put
	// there by someone else (on a NATS that does not keep the log's
	// subjects to the hub) and say nothing about the intake.
	for seq := lastSeq; seq >= info.State.FirstSeq && seq > 0; seq-- {
		m, err := logs.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read log entry %d: %w", seq, err)
		}
		v := m.Header.Get(fact.HeaderIntakeSeq)
		if v == "" {
			continue
		}
		lastIntake, err = strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("log entry %d has no valid %s header: %w", seq, fact.HeaderIntakeSeq, err)
		}
		return lastSeq, lastIntake, nil
	}
	return lastSeq, 0, nil
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
		e := &logEntry{msg: msg, intakeSeq: g.confirmedIntake.Load(), seq: seq}
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
			e.intakeSeq, e.rejected, e.erase, e.judges = headerSeq(raw.header), le.RejectedBy, r.IDNumbers > 0, true
		default:
			e.intakeSeq, e.key, e.judges = headerSeq(raw.header), le.Key(), le.Source != hubSource
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
