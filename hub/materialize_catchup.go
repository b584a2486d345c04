package hub

import (
	"context"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// catchUp notes the keys of the log entries from..to (folded before the
// hub started, after the bucket's mark), reading the log in the
// background and pausing while many households wait.
func (m *materializer) catchUp(ctx context.Context, from, to uint64) {
	defer func() {
		m.mu.Lock()
		m.catchingUp = false
		m.mu.Unlock()
		m.signal()
	}()
	start := time.Now()
	m.log.Info("writing the view bucket from the log", "from", from, "to", to)
	logs, err := m.js.Stream(ctx, fact.LogStream)
	if err != nil {
		m.log.Error("view bucket catch-up", "err", err)
		return
	}
	// The view says what each entry concerns as it stands now.
	batch := make([]view.LogEntry, 0, 256)
	flush := func() {
		var t view.Touched
		m.v.Touches(batch, &t)
		batch = batch[:0]
		m.mu.Lock()
		m.note(&t)
		m.mu.Unlock()
	}
	defer flush()
	n := 0
	err = readLog(ctx, logs, from, to, 1024, func(msg logMsg) error {
		if le, err := decodeLogEntry(msg.seq, msg.subject, msg.header, msg.data); err == nil {
			batch = append(batch, le)
		}
		if len(batch) == cap(batch) {
			flush()
		}
		if n++; n%1024 == 0 {
			m.signal()
			for m.backlog() > maxBacklog {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			m.log.Error("view bucket catch-up", "err", err)
		}
		return
	}
	m.log.Info("view bucket caught up with the log", "entries", to-from+1, "took", time.Since(start).Round(time.Millisecond))
}

func (m *materializer) backlog() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending.hh)
}
