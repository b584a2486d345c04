package hub

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// This file is the notices: how every warning raised, escalated or coming
// due reaches the units responsible for it on fact.NoticeSubject(<unit>).
//
// The notifier follows the canonical log, not the hub's write path: it reads
// the warning events and clock ticks the log stores, so a notice never
// announces what the log lacks and the ingest never waits for it. What it
// has noticed is kept in fact.NoticeStateBucket; after a restart it folds
// the log's warnings again (silently up to there) and takes up noticing
// where it left off, and a notice sent again (after a crash between storing
// it and recording so) is dropped by the stream's Nats-Msg-Id window, the
// id being the notice's: the warning id, the kind and the unit. The
// due-soon notices are derived from the log alone (due_on minus dueSoonDays
// crossed by a hub.tick), so a replay makes them again exactly.
//
// The task board's notices (a unit's share of a task turning at risk or
// overdue) come the same way, from the plan's facts on the log judged at its
// ticks (notices_tasks.go).

// dueSoonDays is how many days before its due date a warning still open is
// announced as coming due.
const dueSoonDays = 7

// noticeMaxAge is how long notices and delivery records are kept.
const noticeMaxAge = 180 * 24 * time.Hour

// noticeDuplicateWindow is how long the notice stream remembers notice ids;
// it covers sending a batch again after a failure or a quick restart.
const noticeDuplicateWindow = 10 * time.Minute

// noticeDigestDays is how many days of notices (on the recorded clock) the
// hub keeps in memory for the daily digest.
const noticeDigestDays = 31

// warningsStateKey is the state bucket's key of the warning notices: the
// log sequence from which they are taken up.
const warningsStateKey = "warnings"

// noticeBatch bounds how many notices are in flight before the notifier
// waits for them to be stored.
const noticeBatch = 256

// noticeStreamConfig is the notice stream's configuration.
func noticeStreamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        fact.NoticeStream,
		Description: "anzhi notices: warnings raised, escalated or coming due, one subject per responsible unit",
		Subjects:    []string{fact.NoticeSubjectPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		MaxAge:      noticeMaxAge,
		Duplicates:  noticeDuplicateWindow,
		AllowDirect: true,
	}
}

// deliveryStreamConfig is the configuration of the webhook delivery
// records: the latest maxDeliveryRecords of each unit, for 180 days.
func deliveryStreamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              fact.DeliveryStream,
		Description:       "anzhi webhook deliveries: every attempt to POST a notice to a unit's webhook",
		Subjects:          []string{fact.DeliverySubjectPrefix + ">"},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Replicas:          max(replicas, 1),
		MaxAge:            noticeMaxAge,
		MaxMsgsPerSubject: maxDeliveryRecords,
		AllowDirect:       true,
	}
}

// maxDeliveryRecords is how many delivery records are kept per unit.
const maxDeliveryRecords = 1000

// EnsureNoticeStreams creates or updates the notice stream, the delivery
// records and the state bucket and, when units is set, the durable notice
// consumer of each unit (fact.NoticeConsumer): with identities on a unit
// cannot make its own. Each consumer costs the server ≈10 ms to stop, so
// they are not made without identities, where a unit's first reader makes
// it (subscribers.FollowNotices).
func EnsureNoticeStreams(ctx context.Context, js jetstream.JetStream, cat *schemas.Catalog, units bool) (notices, deliveries jetstream.Stream, state jetstream.KeyValue, err error) {
	if notices, err = js.CreateOrUpdateStream(ctx, noticeStreamConfig(1)); err != nil {
		return nil, nil, nil, fmt.Errorf("stream %s: %w", fact.NoticeStream, err)
	}
	if deliveries, err = js.CreateOrUpdateStream(ctx, deliveryStreamConfig(1)); err != nil {
		return nil, nil, nil, fmt.Errorf("stream %s: %w", fact.DeliveryStream, err)
	}
	if state, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: fact.NoticeStateBucket,
		Description: "anzhi: how far the hub has noticed the log", Storage: jetstream.FileStorage}); err != nil {
		return nil, nil, nil, fmt.Errorf("bucket %s: %w", fact.NoticeStateBucket, err)
	}
	if !units {
		return notices, deliveries, state, nil
	}
	// The consumers are made a few at a time: one after another they hold
	// up the start by ≈3 ms each.
	var wg sync.WaitGroup
	all := subscribers.Units(cat)
	errs := make([]error, len(all))
	sem := make(chan struct{}, 8)
	for i, u := range all {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := notices.CreateOrUpdateConsumer(ctx, subscribers.NoticeConsumerConfig(u)); err != nil {
				errs[i] = fmt.Errorf("consumer %s: %w", fact.NoticeConsumer(u), err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}
	return notices, deliveries, state, nil
}

// units are the responsible units a notice may go to.
func units(cat *schemas.Catalog) []string { return subscribers.Units(cat) }

// checkUnit refuses a unit the catalog does not have.
func checkUnit(cat *schemas.Catalog, dept string) error {
	if slices.Contains(units(cat), dept) {
		return nil
	}
	return fmt.Errorf("%w (a department code such as hrss or edu, or county/610424 for a county government)", subscribers.ErrUnknownUnit)
}

// noticeInput is one notice before it is copied to each unit: what it is
// about (ID: a warning id, or a task's), its kind, when it happened, the
// units responsible and the area (whose county government is told too).
type noticeInput struct {
	ID          string
	Kind        subscribers.NoticeKind
	At          time.Time
	DueOn       string
	Responsible []string
	Area        string
	Path        string
	Warning     *subscribers.NoticeWarning
	Task        json.RawMessage
	LogSeq      uint64
}

// outNotice is one copy of a notice, for one unit, ready to publish.
type outNotice struct {
	id, dept, subject string
	kind              subscribers.NoticeKind
	ref               uint64 // log sequence of the event it announces
	body              []byte
}

// recipients are the units a notice goes to: the responsible units the
// catalog knows, then the county government of the area when the area is
// a county; the lead office when that names none.
func recipients(cat *schemas.Catalog, responsible []string, area string) []string {
	known := units(cat)
	var out []string
	for _, u := range responsible {
		if slices.Contains(known, u) && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if _, ok := cat.County(area); ok && area != cat.City.Code {
		if u := "county/" + area; !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		out = append(out, cat.Rules().Lead) // a warning nobody else is named for is the lead office's
	}
	return out
}

// copies builds the CloudEvent of a notice for each of its units. A copy's
// id, also its Nats-Msg-Id, is <what>.<kind>.<unit identity>: one copy a
// unit, stored once however often it is sent.
func copies(cat *schemas.Catalog, in noticeInput) ([]outNotice, error) {
	to := recipients(cat, in.Responsible, in.Area)
	out := make([]outNotice, 0, len(to))
	for _, u := range to {
		n := subscribers.Notice{Kind: in.Kind, Dept: u, At: in.At.UTC(), DueOn: in.DueOn, Responsible: to, Path: in.Path,
			Warning: in.Warning, Task: in.Task, LogSeq: in.LogSeq}
		data, err := json.Marshal(n)
		if err != nil {
			return nil, err
		}
		id := in.ID + "." + string(in.Kind) + "." + fact.IdentityOf(u)
		body := fact.Encode(nil, &fact.Outgoing{ID: id, Source: hubSource, Type: fact.NoticeType, Subject: in.ID,
			Time: in.At.UTC(), Data: data})
		out = append(out, outNotice{id: id, dept: u, subject: fact.NoticeSubject(u), kind: in.Kind, ref: in.LogSeq, body: body})
	}
	return out, nil
}

// warningPath is the dashboard page of a warning's entity (the household's,
// the site's, the task's, …), or the warnings of the rule in the area when
// the entity has no page of its own (a person, a project).
func warningPath(w *view.Warning) string {
	if p := dashboard.EntityPath(w.EntityKind, w.EntityID); p != "" {
		return p
	}
	return "/warnings?" + url.Values{"rule": {w.Rule}, "county": {w.Area}}.Encode()
}

// noticeWarning turns the data of a warning.raised event at log sequence
// seq into the warning a notice carries.
func noticeWarning(seq uint64, d *warningRaised) (*subscribers.NoticeWarning, error) {
	cst := view.ChinaTime()
	raised, err := time.Parse(time.RFC3339, d.RaisedAt)
	if err != nil {
		return nil, fmt.Errorf("raised_at %q: %w", d.RaisedAt, err)
	}
	due, err := time.Parse(time.DateOnly, d.DueOn)
	if err != nil {
		return nil, fmt.Errorf("due_on %q: %w", d.DueOn, err)
	}
	w := &subscribers.NoticeWarning{Warning: view.Warning{ID: d.WarningID, Rule: d.Rule, EntityKind: d.EntityKind,
		EntityID: d.EntityID, Area: d.Area, RaisedAt: raised.In(cst), Due: due.In(cst), Responsible: d.Responsible,
		Message: d.Message, Level: d.Level, Supervision: d.Supervision, Seq: seq},
		Clause: d.Clause, Evidence: make([]subscribers.NoticeEvidence, 0, len(d.Evidence))}
	for _, e := range d.Evidence {
		ne := subscribers.NoticeEvidence{Family: strings.TrimSuffix(strings.TrimPrefix(e.Type, fact.TypePrefix), fact.TypeSuffix),
			Source: e.Source, Seq: e.Seq, Subject: e.Subject}
		if t, err := time.Parse(time.RFC3339, e.Time); err == nil {
			ne.Time = t.In(cst)
			ne.EffectiveOn = ne.Time.Format(time.DateOnly)
		}
		w.Evidence = append(w.Evidence, ne)
	}
	return w, nil
}

// openWarning is what the notifier keeps of a warning the log holds open:
// its latest warning.raised event and when it comes due.
type openWarning struct {
	seq  uint64    // log sequence of its latest warning.raised event
	soon time.Time // due_on minus dueSoonDays (zero: raised that close already)
}

// soonItem is a warning in the due-soon heap.
type soonItem struct {
	at time.Time
	id string
}

type soonHeap []soonItem

func (h soonHeap) Len() int { return len(h) }
func (h soonHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].id < h[j].id
}
func (h soonHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *soonHeap) Push(x any)   { *h = append(*h, x.(soonItem)) }
func (h *soonHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ledgerItem is a notice of the digest ledger: its kind and the log
// sequence of the warning event it announced.
type ledgerItem struct {
	kind subscribers.NoticeKind
	seq  uint64
}

// noticeLedger keeps the notices of the last noticeDigestDays days on the
// recorded clock, by day (China Standard Time) and unit, for the digest.
type noticeLedger struct {
	mu    sync.Mutex
	days  map[string]map[string][]ledgerItem
	clock time.Time
}

func (l *noticeLedger) add(at time.Time, dept string, it ledgerItem) {
	day := at.In(view.ChinaTime()).Format(time.DateOnly)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.days == nil {
		l.days = map[string]map[string][]ledgerItem{}
	}
	if l.days[day] == nil {
		l.days[day] = map[string][]ledgerItem{}
	}
	l.days[day][dept] = append(l.days[day][dept], it)
}

// tick moves the ledger's clock and forgets the days that fell out of it.
func (l *noticeLedger) tick(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !at.After(l.clock) {
		return
	}
	l.clock = at
	oldest := l.oldestDay()
	for d := range l.days {
		if d < oldest {
			delete(l.days, d)
		}
	}
}

func (l *noticeLedger) oldestDay() string {
	return l.clock.In(view.ChinaTime()).AddDate(0, 0, -noticeDigestDays).Format(time.DateOnly)
}

// items returns the ledger of a unit on a day.
func (l *noticeLedger) items(day, dept string) []ledgerItem {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.days[day][dept])
}

// window returns the ledger's clock (the last tick) and the oldest day it
// keeps.
func (l *noticeLedger) window() (clock time.Time, oldest string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clock, l.oldestDay()
}

// notifier folds the log's warning events and ticks into notices.
type notifier struct {
	cat    *schemas.Catalog
	js     jetstream.JetStream
	logs   jetstream.Stream
	state  jetstream.KeyValue
	log    *slog.Logger
	ledger noticeLedger

	// The fold, on the notifier's goroutine only.
	tasks  *taskTracker // the board's rows, for tasks turning at risk or overdue
	open   map[string]*openWarning
	soon   soonHeap
	next   uint64 // log sequence to read from
	resume uint64 // log sequence from which notices are sent (those before were)

	// noticed is the log sequence up to which every notice is stored.
	noticed atomic.Uint64
	// started is closed once the notifier has read where to take up.
	started chan struct{}
}

func newNotifier(cat *schemas.Catalog, js jetstream.JetStream, logs jetstream.Stream, state jetstream.KeyValue, log *slog.Logger) (*notifier, error) {
	tasks, err := newTaskTracker(cat)
	if err != nil {
		return nil, err
	}
	return &notifier{cat: cat, js: js, logs: logs, state: state, log: log, tasks: tasks, open: map[string]*openWarning{}, next: 1,
		started: make(chan struct{})}, nil
}

// noticeFilters are the log subjects the notifier reads.
func noticeFilters() []string {
	out := []string{fact.FactSubject("warning.raised", ">"), fact.FactSubject("warning.resolved", ">"), fact.FactSubject("hub.tick", ">")}
	for _, f := range taskFamilies {
		out = append(out, fact.FactSubject(f, ">"))
	}
	return out
}

// takeUp reads where noticing stopped; on the first start of notices on a
// log (no state yet) it starts after logEnd, so that an existing log's past
// is not announced all at once, and records that at once.
func (n *notifier) takeUp(ctx context.Context, logEnd uint64) error {
	e, err := n.state.Get(ctx, warningsStateKey)
	switch {
	case err == nil:
		v, perr := strconv.ParseUint(string(e.Value()), 10, 64)
		if perr != nil {
			return fmt.Errorf("notices: %s %s holds %q, not a log sequence", fact.NoticeStateBucket, warningsStateKey, e.Value())
		}
		n.resume = v
	case errors.Is(err, jetstream.ErrKeyNotFound):
		n.resume = logEnd + 1
		if _, err := n.state.Put(ctx, warningsStateKey, []byte(strconv.FormatUint(n.resume, 10))); err != nil {
			return fmt.Errorf("notices: %w", err)
		}
		if logEnd > 0 {
			n.log.Info("notices start with this log: what it already holds is not announced", "from_log_seq", n.resume)
		}
	default:
		return fmt.Errorf("notices: %w", err)
	}
	n.noticed.Store(n.resume - 1)
	close(n.started)
	return nil
}

// run follows the log until ctx ends, taking up again after a failure.
func (n *notifier) run(ctx context.Context) {
	for ctx.Err() == nil {
		err := n.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		n.log.Error("notices: reading the log failed; taking up again", "from_log_seq", n.next, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// follow reads the log's warning events and ticks from n.next, folds each
// and sends the notices it makes, a batch at a time.
func (n *notifier) follow(ctx context.Context) error {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: noticeFilters()}
	if n.next > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, n.next
	}
	cons, err := n.logs.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	var batch []outNotice
	var batchFrom uint64
	flush := func(upTo uint64) error {
		if len(batch) > 0 {
			if err := n.send(ctx, batch); err != nil {
				return err
			}
			if _, err := n.state.Put(ctx, warningsStateKey, []byte(strconv.FormatUint(upTo+1, 10))); err != nil {
				n.log.Warn("notices: could not record how far they are sent (a restart sends some again; they are stored once)", "err", err)
			}
		}
		batch, batchFrom = batch[:0], 0
		n.noticed.Store(upTo)
		return nil
	}
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
		seq := md.Sequence.Stream
		out, err := n.fold(ctx, seq, m.Subject(), m.Headers(), m.Data())
		if err != nil {
			n.log.Error("notices: a log entry could not be read; no notice for it", "seq", seq, "err", err)
		}
		n.next = seq + 1
		if len(out) > 0 && batchFrom == 0 {
			batchFrom = seq
		}
		batch = append(batch, out...)
		if md.NumPending == 0 || len(batch) >= noticeBatch {
			if err := flush(seq); err != nil {
				return err
			}
		}
	}
}

// fold takes one log entry into the notifier's state and returns the
// notices it makes (none for entries before n.resume: those were sent).
func (n *notifier) fold(ctx context.Context, seq uint64, subject string, header nats.Header, data []byte) ([]outNotice, error) {
	e, err := fact.DecodeEntry(seq, subject, header, data)
	if err != nil {
		return nil, err
	}
	send := seq >= n.resume
	switch e.Family {
	case "hub.tick":
		n.ledger.tick(e.Time)
		out, err := n.dueSoon(ctx, e.Time, send)
		if err != nil {
			return out, err
		}
		tasks, err := n.tasks.turned(n.cat, &e, send)
		return append(out, tasks...), err
	case "plan.task", "task.progress", "plan.meeting":
		n.tasks.apply(&e)
		return nil, nil
	case "warning.resolved":
		var d struct {
			WarningID string `json:"warning_id"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, err
		}
		delete(n.open, d.WarningID)
		return nil, nil
	case "warning.raised":
	default:
		return nil, nil
	}
	var d warningRaised
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, err
	}
	kind := subscribers.NoticeWarningRaised
	if strings.HasSuffix(e.ID, "."+string(view.Escalated)) {
		kind = subscribers.NoticeWarningEscalated
	}
	ow := n.open[d.WarningID]
	if ow == nil {
		ow = &openWarning{}
		n.open[d.WarningID] = ow
		if due, err := time.Parse(time.DateOnly, d.DueOn); err == nil {
			if soon := due.AddDate(0, 0, -dueSoonDays); soon.After(e.Time) {
				ow.soon = soon
				heap.Push(&n.soon, soonItem{at: soon, id: d.WarningID})
			}
		}
	}
	ow.seq = seq
	return n.warningNotices(seq, e.Time, kind, &d, send)
}

// warningNotices are the copies of a warning notice; with send false they
// are only recorded in the digest ledger.
func (n *notifier) warningNotices(seq uint64, at time.Time, kind subscribers.NoticeKind, d *warningRaised, send bool) ([]outNotice, error) {
	w, err := noticeWarning(seq, d)
	if err != nil {
		return nil, err
	}
	in := noticeInput{ID: d.WarningID, Kind: kind, At: at, DueOn: d.DueOn, Responsible: d.Responsible, Area: d.Area,
		Path: warningPath(&w.Warning), Warning: w, LogSeq: seq}
	if kind != subscribers.NoticeWarningDueSoon {
		for _, u := range recipients(n.cat, d.Responsible, d.Area) {
			n.ledger.add(at, u, ledgerItem{kind: kind, seq: seq})
		}
	}
	if !send {
		return nil, nil
	}
	return copies(n.cat, in)
}

// dueSoon makes the due-soon notices of every open warning whose due date
// minus dueSoonDays the clock has reached at at.
func (n *notifier) dueSoon(ctx context.Context, at time.Time, send bool) ([]outNotice, error) {
	var out []outNotice
	for len(n.soon) > 0 && !n.soon[0].at.After(at) {
		it := heap.Pop(&n.soon).(soonItem)
		ow := n.open[it.id]
		if ow == nil || !ow.soon.Equal(it.at) {
			continue // resolved since
		}
		if !send {
			continue
		}
		m, err := n.logs.GetMsg(ctx, ow.seq)
		if err != nil {
			return out, fmt.Errorf("warning %s at log sequence %d: %w", it.id, ow.seq, err)
		}
		e, err := fact.DecodeEntry(ow.seq, m.Subject, m.Header, m.Data)
		if err != nil {
			return out, err
		}
		var d warningRaised
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return out, err
		}
		cs, err := n.warningNotices(ow.seq, at, subscribers.NoticeWarningDueSoon, &d, true)
		if err != nil {
			return out, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// send stores a batch of notices in the notice stream, each once (its id is
// its Nats-Msg-Id), trying again until every one is stored or ctx ends.
func (n *notifier) send(ctx context.Context, batch []outNotice) error {
	wait := 100 * time.Millisecond
	for {
		err := n.sendOnce(ctx, batch)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n.log.Warn("notices: storing a batch failed; trying again", "notices", len(batch), "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (n *notifier) sendOnce(ctx context.Context, batch []outNotice) error {
	futs := make([]jetstream.PubAckFuture, 0, len(batch))
	for _, o := range batch {
		msg := nats.NewMsg(o.subject)
		msg.Header.Set("Content-Type", fact.ContentType)
		msg.Data = o.body
		f, err := n.js.PublishMsgAsync(msg, jetstream.WithMsgID(o.id), jetstream.WithExpectStream(fact.NoticeStream))
		if err != nil {
			return err
		}
		futs = append(futs, f)
	}
	var errs []error
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}
