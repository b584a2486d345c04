package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/dashboard"
	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// This file runs the notices inside the hub (notices.go, webhooks.go) and
// reads them back for the HTTP API and the dashboard: a unit's webhook
// deliveries and its daily digest.

// The unit pages of the dashboard show the webhook deliveries.
var _ dashboard.DeliverySource = (*Hub)(nil)

// noticeService is the hub's notices: the notifier, the webhook senders and
// the connection they use, apart from the ingest's.
type noticeService struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	notifier   *notifier
	senders    []*webhookSender
	deliveries jetstream.Stream
	cfg        NoticeConfig
}

// setUpNotices makes the notice streams and consumers and reads where
// noticing stopped (logEnd: the log's last sequence at start), before the
// guard starts watching the streams.
func (h *Hub) setUpNotices(ctx context.Context, opts []nats.Option, logEnd uint64) error {
	nc, err := nats.Connect(h.ownURL, append(opts, nats.Name("anzhi-hub-notices"))...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", h.url, err)
	}
	s := &noticeService{nc: nc, cfg: h.cfg.Notices}
	h.notices = s
	if s.js, err = jetstream.New(nc); err != nil {
		return err
	}
	notices, deliveries, state, err := EnsureNoticeStreams(ctx, s.js, h.cfg.Catalog, h.cfg.Identities != nil)
	if err != nil {
		return err
	}
	s.deliveries = deliveries
	h.guard.expect = append(h.guard.expect, notices.CachedInfo().Config, deliveries.CachedInfo().Config)
	logs, err := s.js.Stream(ctx, fact.LogStream)
	if err != nil {
		return err
	}
	log := h.cfg.Logger.With("component", "notices")
	if s.notifier, err = newNotifier(h.cfg.Catalog, s.js, logs, state, log); err != nil {
		return err
	}
	if err := s.notifier.takeUp(ctx, logEnd); err != nil {
		return err
	}
	if s.senders, err = startWebhooks(ctx, s.js, notices, s.cfg, log); err != nil {
		return err
	}
	for _, w := range s.cfg.Webhooks {
		log.Info("webhook: notices of the unit are POSTed", "webhook", w)
	}
	return nil
}

// runNotices starts the notifier and the webhook senders.
func (h *Hub) runNotices(ctx context.Context) {
	s := h.notices
	h.wg.Add(1 + len(s.senders))
	go func() {
		defer h.wg.Done()
		s.notifier.run(ctx)
	}()
	for _, w := range s.senders {
		go func() {
			defer h.wg.Done()
			w.run(ctx)
		}()
	}
}

func (s *noticeService) close() {
	if s != nil && s.nc != nil {
		_ = s.nc.Drain()
	}
}

// WaitNotices waits until the hub is idle (WaitIdle) and every notice the
// log's warnings and ticks make so far is stored in the notice stream.
// Webhook deliveries follow on their own.
func (h *Hub) WaitNotices(ctx context.Context) error {
	if err := h.WaitIdle(ctx); err != nil {
		return err
	}
	var target uint64
	for _, f := range noticeFilters() {
		m, err := h.logs.GetLastMsgForSubject(ctx, f)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return fmt.Errorf("notices: %w", err)
		default:
			target = max(target, m.Sequence)
		}
	}
	for h.notices.notifier.noticed.Load() < target {
		select {
		case <-ctx.Done():
			return fmt.Errorf("notices not sent up to log sequence %d (at %d): %w", target, h.notices.notifier.noticed.Load(), ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// Deliveries returns a unit's webhook and its latest delivery records,
// newest first, at most limit (1 to maxDeliveryRecords).
func (h *Hub) Deliveries(ctx context.Context, dept string, limit int) (subscribers.DeliveryLog, error) {
	out := subscribers.DeliveryLog{Dept: dept, Items: []subscribers.Delivery{}}
	if err := checkUnit(h.cfg.Catalog, dept); err != nil {
		return out, fmt.Errorf("%q: %w", dept, err)
	}
	limit = min(max(limit, 1), maxDeliveryRecords)
	for _, w := range h.notices.cfg.Webhooks {
		if w.Dept == dept {
			out.Webhook = redactURL(w.URL)
		}
	}
	subject := fact.DeliverySubject(dept)
	info, err := h.notices.deliveries.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return out, fmt.Errorf("%w: delivery records: %v", errUnavailable, err)
	}
	n := info.State.Subjects[subject]
	if n == 0 {
		return out, nil
	}
	cons, err := h.notices.deliveries.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject},
		InactiveThreshold: 10 * time.Second})
	if err != nil {
		return out, fmt.Errorf("%w: delivery records: %v", errUnavailable, err)
	}
	// A read leaves no consumer behind: every page view and API call is
	// one, and they would fill the server's consumers.
	defer func() {
		if info := cons.CachedInfo(); info != nil {
			dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = h.notices.deliveries.DeleteConsumer(dctx, info.Name) // if it fails, the inactive threshold removes it
		}
	}()
	var all []subscribers.Delivery
	for uint64(len(all)) < n {
		batch, err := cons.Fetch(int(n)-len(all), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return out, fmt.Errorf("%w: delivery records: %v", errUnavailable, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			var d subscribers.Delivery
			if err := json.Unmarshal(m.Data(), &d); err == nil {
				all = append(all, d)
			}
		}
		if got == 0 {
			break // some aged out meanwhile
		}
	}
	for _, d := range all {
		switch d.Outcome {
		case subscribers.DeliveryDelivered:
			out.Delivered++
		case subscribers.DeliveryFailed:
			out.Failed++
		}
	}
	slices.Reverse(all)
	out.Items = all[:min(limit, len(all))]
	return out, nil
}

// NoticeDigest is a unit's digest of a day (YYYY-MM-DD in China Standard
// Time; "" for the recorded clock's day): the warnings raised to it and
// escalated that day, as its notices told it, and the open warnings it is
// responsible for (a county government: of its county too) due within
// dueSoonDays after the day.
func (h *Hub) NoticeDigest(ctx context.Context, dept, date string) (subscribers.NoticeDigest, error) {
	d := subscribers.NoticeDigest{Dept: dept, New: []subscribers.NoticeWarning{}, Escalated: []subscribers.NoticeWarning{},
		Due: []subscribers.NoticeWarning{}}
	if err := checkUnit(h.cfg.Catalog, dept); err != nil {
		return d, badParam("dept", dept, "%v", err)
	}
	n := h.notices.notifier
	clock, oldest := n.ledger.window()
	if clock.IsZero() {
		clock = h.view.Clock()
	}
	d.Clock = clock.In(view.ChinaTime())
	if date == "" {
		date = d.Clock.Format(time.DateOnly)
	}
	day, err := time.ParseInLocation(time.DateOnly, date, view.ChinaTime())
	if err != nil {
		return d, badParam("date", date, "not a date (YYYY-MM-DD)")
	}
	if date < oldest {
		return d, badParam("date", date, "the hub keeps the notices of the last %d days on its clock (from %s)", noticeDigestDays, oldest)
	}
	d.Date = date
	items := n.ledger.items(date, dept)
	for _, it := range items {
		w, err := h.loggedWarning(ctx, it.seq)
		if err != nil {
			return d, fmt.Errorf("%w: %v", errUnavailable, err)
		}
		switch it.kind {
		case subscribers.NoticeWarningRaised:
			d.New = append(d.New, *w)
		case subscribers.NoticeWarningEscalated:
			d.Escalated = append(d.Escalated, *w)
		}
	}
	// Due: the view's open warnings of the unit.
	var ws []view.Warning
	if code, ok := strings.CutPrefix(dept, "county/"); ok {
		ws = append(h.view.Warnings(view.WarningQuery{County: code}), h.view.Warnings(view.WarningQuery{Dept: dept})...)
	} else {
		ws = h.view.Warnings(view.WarningQuery{Dept: dept})
	}
	last := day.AddDate(0, 0, dueSoonDays+1)
	seen := map[string]bool{}
	for i := range ws {
		w := &ws[i]
		if seen[w.ID] || w.Due.Before(day) || !w.Due.Before(last) {
			continue
		}
		seen[w.ID] = true
		d.Due = append(d.Due, h.viewNoticeWarning(w))
	}
	slices.SortFunc(d.Due, func(a, b subscribers.NoticeWarning) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	d.Counts = map[string]int{"new": len(d.New), "escalated": len(d.Escalated), "due": len(d.Due)}
	return d, nil
}

// loggedWarning reads the warning.raised event at a log sequence.
func (h *Hub) loggedWarning(ctx context.Context, seq uint64) (*subscribers.NoticeWarning, error) {
	m, err := h.logs.GetMsg(ctx, seq)
	if err != nil {
		return nil, fmt.Errorf("log sequence %d: %w", seq, err)
	}
	e, err := fact.DecodeEntry(seq, m.Subject, m.Header, m.Data)
	if err != nil {
		return nil, err
	}
	var d warningRaised
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, fmt.Errorf("log sequence %d: %w", seq, err)
	}
	return noticeWarning(seq, &d)
}

// viewNoticeWarning is a warning of the view as a notice carries it.
func (h *Hub) viewNoticeWarning(w *view.Warning) subscribers.NoticeWarning {
	out := subscribers.NoticeWarning{Warning: *w, Evidence: make([]subscribers.NoticeEvidence, 0, len(w.Evidence))}
	out.Warning.Evidence = nil
	if r, ok := h.cfg.Catalog.Rules().Rule(w.Rule); ok {
		out.Clause = r.Clause
	}
	for _, e := range w.Evidence {
		seq, source, _ := h.ResolveFact(e.Key)
		out.Evidence = append(out.Evidence, subscribers.NoticeEvidence{Family: e.Family, Source: source, Seq: seq,
			Subject: e.Subject, Time: e.Time, EffectiveOn: e.EffectiveOn})
	}
	return out
}

// noticeLimit parses a limit parameter of the notice routes.
func noticeLimit(s string) (int, error) {
	if s == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxDeliveryRecords {
		return 0, badParam("limit", s, "give 1 to %d", maxDeliveryRecords)
	}
	return n, nil
}
