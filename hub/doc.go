// Package hub is anzhi's centre: it runs (or connects to) NATS with
// JetStream, sets up the intake and the canonical log, and judges every
// message departments publish — accepted facts go to the log in order,
// refused ones to the rejection ledger with every reason. It serves what it
// knows over HTTP.
//
// # Goroutines and queues
//
// Start restores the newest snapshot, erases clear ID-card numbers an
// earlier run left, replays the log's tail into the view and the key index,
// and then starts the goroutines below. Arrows are hand-offs; the channel or
// queue of each is named on it. A queue[T] (queue.go) is unbounded and never
// blocks its producer; the channels are bounded and give back-pressure.
//
//	departments --NATS--> intake stream (ANZHI_INTAKE, own connection)
//	                          |
//	                          v
//	  intake consumer (gate.intakeJobs: one goroutine, ordered consumer)
//	     |  every job on both channels (each 4*MaxInFlight):
//	     +--> chan *job "work" ---> checking workers (GOMAXPROCS of them:
//	     |                          fact.Validator.CheckIntake, then
//	     |                          close(job.done))
//	     +--> chan *job "ordered", in intake order; the gate waits on
//	     |    job.done
//	     v
//	  gate (gate.run/runOnce: judge; owns keyIndex writes, keyIndex.recent,
//	     |   the log position)  <-- queue[submission] -- projector (warning
//	     |                                              changes), clock
//	     |                                              (ticks), Start
//	     |  logWriter.Append: an async publish to the log (ANZHI_LOG) and
//	     |  chan pendingAppend (MaxInFlight)
//	     v
//	  log writer (logWriter.drain: acknowledgements in log order; calls
//	     |   gate.onStored)
//	     +--> verdictIndex.stored ........> verdict service (NATS
//	     |                                   subscription on
//	     |                                   fact.VerdictSubject)
//	     +--> queue[uint64] ..............> janitor (secure erase of
//	     |                                   ID-bearing intake messages,
//	     |                                   intake purge)
//	     +--> pendingChanges.done
//	     v
//	  queue[storedEntry]
//	     v
//	  projector (projector.run: fold into the view.View under foldMu;
//	     |   pendingChanges.add; warning changes back to queue[submission])
//	     |  onFold = materializer.folded (on the projector's goroutine)
//	     v
//	  materializer (materializer.run, own connection: KV bucket
//	     ANZHI_VIEW and view.> subjects, in rounds)
//
//	  clock (Hub.runClock): hub.tick --> queue[submission]
//	  snapshotter (Hub.runSnapshots): under projector.foldMu the view and
//	     pendingChanges.list, then keyIndex.snapshot (read lock), to the
//	     object store ANZHI_SNAPSHOTS
//	  HTTP server: reads the view, keyIndex.resolve (read lock), Status
//	  notifier (notifier.run, own connection, notices.go): reads the log's
//	     warning events and ticks (ordered consumer) and publishes notices
//	     to ANZHI_NOTICES, never touching the gate; one webhook sender a
//	     unit with a webhook (webhooks.go), each from its own consumer
//
// Who owns what: the gate goroutine alone writes the keyIndex once it runs
// (others read it under its read lock) and alone appends to the log; the
// log writer's goroutine runs onStored, so the janitor's queue, the verdict
// index's stored verdicts and the projector's queue are fed in log order;
// the projector alone folds the view (HTTP and the snapshotter read it
// under its own locks); the janitor is started and stopped by the gate
// (gate.run), which on stop sweeps what was stored without acknowledgement
// (gate.eraseUnacknowledged). When an append fails, the gate resumes from
// the log's tail (recovery.go).
package hub
