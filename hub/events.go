package hub

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// This file is the hub's own events (clock ticks, warning changes): how
// they are built and how the gate writes them to the log.

// hubSource is the CloudEvent source of the hub's own events.
const hubSource = fact.SourcePrefix + "hub"

// submission is an event of the hub's own to write to the log: a built
// message (a clock tick) or a warning change to turn into one.
type submission struct {
	msg    *nats.Msg
	change *view.Change
	// stored, when set, is closed once the event is stored in the log (or
	// found there already); an event the gate cannot write never closes it.
	stored chan struct{}
}

// closeStored tells a submission's waiter its event is in the log. Only the
// writer's goroutine and the gate's call it, one after the other for an
// event, so a check suffices against closing twice.
func closeStored(ch chan struct{}) {
	if ch == nil {
		return
	}
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// write appends one of the hub's own events, after the same checks as a
// department's (a hub event that breaks the contract is a bug, logged and
// dropped, never written).
func (g *gate) write(ctx context.Context, w *logWriter, s submission) error {
	if s.change != nil {
		if key := changeKey(*s.change); g.keys.seen(key) {
			g.pending.done(key)
			return nil // already in the log (a replay re-derived it)
		}
		msg, err := g.warningMsg(*s.change)
		if err != nil {
			g.log.Error("could not build a warning event", "warning", s.change.Warning.ID, "err", err)
			g.pending.done(changeKey(*s.change)) // never written: not pending either
			return nil
		}
		s.msg = msg
	}
	m := fact.Message{Subject: s.msg.Subject, Header: s.msg.Header, Data: s.msg.Data}
	vd := g.v.Check(m)
	if !vd.OK() || vd.Publisher.Dept != "hub" {
		g.log.Error("the hub built an invalid event; not written", "subject", s.msg.Subject, "err", vd.Err(s.msg.Subject))
		if s.change != nil {
			g.pending.done(changeKey(*s.change))
		}
		return nil
	}
	key := fact.Key(vd.Event.Source, vd.Event.ID)
	if g.keys.seen(key) {
		closeStored(s.stored)
		return nil // already in the log (a replay re-derived it)
	}
	return g.appendFact(ctx, w, m, vd, nil, 0, time.Now(), key, &s)
}

// hubEvent builds a structured CloudEvent of the hub's own.
func (g *gate) hubEvent(family, area, id, subject string, t time.Time, data any) (*nats.Msg, error) {
	fam, _ := g.cat.Family(family)
	b, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(fact.SubjectFor(family, area))
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Data = fact.Encode(nil, &fact.Outgoing{ID: id, Source: hubSource, Type: fam.Type, Subject: subject,
		Time: t.UTC(), DataSchema: fam.SchemaURI, Data: b})
	return msg, nil
}

// tickMsg is the hub.tick that advances the view's clock to at.
func (g *gate) tickMsg(at time.Time) (*nats.Msg, error) {
	at = at.UTC().Truncate(time.Second)
	return g.hubEvent("hub.tick", g.cat.City.Code, "tick-"+at.Format(time.RFC3339), "clock", at,
		map[string]string{"clock": "clock", "at": at.Format(time.RFC3339), "period": "minute"})
}

type evidenceJSON struct {
	Type    string `json:"type"`
	Source  string `json:"source"`
	Seq     uint64 `json:"seq"`
	Subject string `json:"subject,omitempty"`
	Time    string `json:"time,omitempty"`
}

// evidence resolves fact keys to their log sequence and publisher.
func (g *gate) evidence(es []view.Evidence) []evidenceJSON {
	out := []evidenceJSON{}
	for _, e := range es {
		seq, p, ok := g.keys.lookup(e.Key)
		if !ok {
			continue
		}
		out = append(out, evidenceJSON{Type: fact.TypeFor(e.Family), Source: p.Source(),
			Seq: seq, Subject: e.Subject, Time: e.Time.UTC().Format(time.RFC3339)})
	}
	return out
}

// warningRaised is the data of a warning.raised event (schemas/catalog/
// warning.raised.json). Fields are in the order of their JSON names, so the
// bytes are those the hub always wrote.
type warningRaised struct {
	Area        string         `json:"area"`
	Clause      string         `json:"clause"`
	DueOn       string         `json:"due_on"`
	EntityID    string         `json:"entity_id"`
	EntityKind  string         `json:"entity_kind"`
	Evidence    []evidenceJSON `json:"evidence"`
	Level       string         `json:"level"`
	Message     string         `json:"message"`
	RaisedAt    string         `json:"raised_at"`
	Responsible []string       `json:"responsible"`
	Rule        string         `json:"rule"`
	Supervision string         `json:"supervision"`
	WarningID   string         `json:"warning_id"`
}

// warningResolved is the data of a warning.resolved event
// (schemas/catalog/warning.resolved.json), fields in JSON name order.
type warningResolved struct {
	Area       string         `json:"area"`
	EntityID   string         `json:"entity_id"`
	EntityKind string         `json:"entity_kind"`
	Evidence   []evidenceJSON `json:"evidence"`
	Message    string         `json:"message"`
	ResolvedAt string         `json:"resolved_at"`
	Rule       string         `json:"rule"`
	WarningID  string         `json:"warning_id"`
}

// warningMsg builds the warning.raised or warning.resolved event of a change.
func (g *gate) warningMsg(c view.Change) (*nats.Msg, error) {
	w := c.Warning
	area := w.Area
	if !g.cat.ValidArea(area) {
		area = g.cat.City.Code
	}
	if c.Kind == view.Resolved {
		ev := c.Evidence
		if len(ev) == 0 {
			ev = w.Evidence
		}
		return g.hubEvent("warning.resolved", area, w.ID+".resolved", w.ID, c.At, warningResolved{
			WarningID: w.ID, Rule: w.Rule, EntityKind: w.EntityKind, EntityID: w.EntityID, Area: area,
			ResolvedAt: c.At.UTC().Format(time.RFC3339), Evidence: g.evidence(ev),
			Message: "规则已恢复满足: " + w.Message,
		})
	}
	r, _ := g.cat.Rules().Rule(w.Rule)
	clause := ""
	if r != nil {
		clause = r.Clause
	}
	responsible := w.Responsible
	if len(responsible) == 0 {
		responsible = []string{g.cat.Rules().Lead}
	}
	data := warningRaised{
		WarningID: w.ID, Rule: w.Rule, EntityKind: w.EntityKind, EntityID: w.EntityID, Area: area,
		Clause: clause, Evidence: g.evidence(w.Evidence), Responsible: responsible,
		DueOn: w.Due.UTC().Format(time.DateOnly), RaisedAt: w.RaisedAt.UTC().Format(time.RFC3339),
		Level: w.Level, Supervision: w.Supervision, Message: truncate(w.Message, 500),
	}
	return g.hubEvent("warning.raised", area, w.ID+"."+string(c.Kind), w.ID, c.At, data)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// ceID is the CloudEvent id of a change's event.
func ceID(c view.Change) string { return c.Warning.ID + "." + string(c.Kind) }
