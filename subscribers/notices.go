package subscribers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// This file is the notices a responsible unit receives (fact/contract.go,
// "Notices"): their JSON, how a unit follows its own, and how a webhook
// receiver checks the hub's signature.

// NoticeKind says what a notice announces.
type NoticeKind string

// Kinds of notices. The task kinds come from the responsibility-list board;
// a notice of a task kind carries Task instead of Warning.
const (
	NoticeWarningRaised    NoticeKind = "warning_raised"
	NoticeWarningEscalated NoticeKind = "warning_escalated"
	NoticeWarningDueSoon   NoticeKind = "warning_due_soon"
	NoticeTaskAtRisk       NoticeKind = "task_at_risk"
	NoticeTaskOverdue      NoticeKind = "task_overdue"
)

// NoticeKinds are every kind, in the order above.
func NoticeKinds() []NoticeKind {
	return []NoticeKind{NoticeWarningRaised, NoticeWarningEscalated, NoticeWarningDueSoon, NoticeTaskAtRisk, NoticeTaskOverdue}
}

// Notice is the data of a notice CloudEvent: what happened, to whom it is
// addressed, by when it is due, and where on the dashboard to look.
type Notice struct {
	Kind NoticeKind `json:"kind"`
	// Dept is the unit this copy is addressed to (hrss, county/610424).
	Dept string `json:"dept"`
	// At is when it happened on the hub's recorded clock.
	At time.Time `json:"at"`
	// DueOn is the date the warning or task is due (YYYY-MM-DD).
	DueOn string `json:"due_on,omitempty"`
	// Responsible are every unit the notice goes to.
	Responsible []string `json:"responsible"`
	// Path is the dashboard page of the warning or its entity
	// (/household/H610424-000001, /warnings?county=610424&rule=R4).
	Path string `json:"path"`
	// Warning is the warning as the log records it (warning kinds).
	Warning *NoticeWarning `json:"warning,omitempty"`
	// Task is the responsibility-list task (task kinds), as the board
	// gives it.
	Task json.RawMessage `json:"task,omitempty"`
	// LogSeq is the log entry the notice announces (the warning event).
	LogSeq uint64 `json:"log_seq,omitempty"`
}

// NoticeWarning is a warning as a notice carries it: view.Warning, with its
// evidence named by log sequence and source (what a unit can look up)
// rather than by the view's fact keys.
type NoticeWarning struct {
	view.Warning
	// Clause is the guidance's clause the rule enforces, quoted.
	Clause   string           `json:"clause,omitempty"`
	Evidence []NoticeEvidence `json:"evidence"`
}

// NoticeEvidence is a fact a warning rests on, as the log names it.
type NoticeEvidence struct {
	Family      string    `json:"family"`
	Source      string    `json:"source"`
	Seq         uint64    `json:"seq"`
	Subject     string    `json:"subject,omitempty"`
	Time        time.Time `json:"time"`
	EffectiveOn string    `json:"effective_on,omitempty"`
}

// NoticeEvent is a notice CloudEvent as a unit receives it (structured
// mode JSON, also the body of a webhook POST).
type NoticeEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            Notice    `json:"data"`
}

// DecodeNotice decodes a notice CloudEvent; it refuses an event that is
// not a notice.
func DecodeNotice(b []byte) (NoticeEvent, error) {
	var ev NoticeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("not a notice: %w", err)
	}
	if ev.Type != fact.NoticeType {
		return ev, fmt.Errorf("not a notice: type %q, want %s", ev.Type, fact.NoticeType)
	}
	return ev, nil
}

// Rule is the rule of a warning notice ("" for a task's).
func (n *Notice) Rule() string {
	if n.Warning == nil {
		return ""
	}
	return n.Warning.Rule
}

// Entity is what the notice is about: the warning's entity (kind/id), or
// the task's id.
func (n *Notice) Entity() string {
	if n.Warning != nil {
		return n.Warning.EntityKind + "/" + n.Warning.EntityID
	}
	var t struct {
		ID string `json:"task_id"`
	}
	_ = json.Unmarshal(n.Task, &t)
	return t.ID
}

// ErrUnknownUnit marks a unit that is not one of the catalog's departments
// or county governments.
var ErrUnknownUnit = errors.New("not a responsible unit")

// Units are the responsible units a notice may go to, as written after
// /xianyang/: the registry's departments, then the county governments
// (county/<code>).
func Units(cat *schemas.Catalog) []string {
	var out []string
	for _, d := range cat.Departments() {
		out = append(out, d.Code)
	}
	for _, c := range cat.Counties() {
		out = append(out, "county/"+c.Code)
	}
	return out
}

// FollowNotices calls fn with every notice of the unit dept (edu,
// county/610424) through its durable consumer, from the first one it has
// not acknowledged, until ctx ends or fn fails; each notice is
// acknowledged once fn returns nil, so a unit that stops and starts again
// misses none and sees each once (a notice fn failed on comes again). With
// identities on, js must be opened on the unit's own connection with
// jetstream.NewWithAPIPrefix(nc, fact.NoticeAPIPrefix) and the consumer is
// the hub's; in open trial mode the first follower of a unit makes it
// (NoticeConsumerConfig). There is one a unit, so two followers of one
// unit share its notices.
func FollowNotices(ctx context.Context, js jetstream.JetStream, dept string, fn func(NoticeEvent) error) error {
	cons, err := js.Consumer(ctx, fact.NoticeStream, fact.NoticeConsumer(dept))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		// Open trial mode: the hub keeps a consumer for every unit only with
		// identities on; without them the first follower makes its unit's.
		cons, err = js.CreateOrUpdateConsumer(ctx, fact.NoticeStream, NoticeConsumerConfig(dept))
	}
	if err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("no notices for %s on this NATS (has a hub with notices run here?): %w", dept, err)
		}
		return fmt.Errorf("notices of %s: %w", dept, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return fmt.Errorf("notices of %s: %w", dept, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return fmt.Errorf("notices of %s: %w", dept, err)
		}
		ev, err := DecodeNotice(m.Data())
		if err != nil {
			_ = m.Term() // never a notice: do not hand it out again
			continue
		}
		if err := fn(ev); err != nil {
			_ = m.Nak()
			return err
		}
		if err := m.Ack(); err != nil {
			return fmt.Errorf("notices of %s: acknowledge %s: %w", dept, ev.ID, err)
		}
	}
}

// NoticeConsumerConfig is the configuration of a unit's durable notice
// consumer: all its notices kept, each acknowledged once read.
func NoticeConsumerConfig(dept string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable: fact.NoticeConsumer(dept), Description: "notices of " + dept + ", for the unit to read",
		FilterSubject: fact.NoticeSubject(dept), DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: 1000,
	}
}

// SignWebhook returns the value of fact.HeaderWebhookSignature for a body
// signed at timestamp (Unix seconds, as fact.HeaderWebhookTimestamp
// carries it): sha256= and the hex HMAC-SHA256 under secret of timestamp,
// ".", body.
func SignWebhook(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature marks a webhook POST whose signature does not verify.
var ErrBadSignature = errors.New("webhook signature does not verify")

// VerifyWebhook checks a webhook POST as its receiver gets it: the
// signature over timestamp and body under secret, and a timestamp no
// further than maxSkew from now (0: not checked), so that a recorded POST
// cannot be replayed much later.
func VerifyWebhook(secret []byte, timestamp, signature string, body []byte, now time.Time, maxSkew time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	if maxSkew > 0 {
		if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
			return fmt.Errorf("%w: timestamp %s is %v away from now", ErrBadSignature, timestamp, d.Round(time.Second))
		}
	}
	if !strings.HasPrefix(signature, "sha256=") {
		return fmt.Errorf("%w: %q does not start with sha256=", ErrBadSignature, signature)
	}
	if !hmac.Equal([]byte(SignWebhook(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// Delivery outcomes.
const (
	DeliveryDelivered = "delivered" // the webhook answered 2xx
	DeliveryRetrying  = "retrying"  // an attempt failed; another follows
	DeliveryFailed    = "failed"    // given up: a 4xx (not 429), or out of attempts
)

// Delivery is one attempt to POST a notice to a unit's webhook, as the
// hub records it in fact.DeliveryStream.
type Delivery struct {
	NoticeID string     `json:"notice_id"`
	Kind     NoticeKind `json:"kind"`
	Dept     string     `json:"dept"`
	// URL is the webhook, without any password it holds.
	URL     string `json:"url"`
	Attempt int    `json:"attempt"`
	Outcome string `json:"outcome"`
	// Status is the HTTP status the webhook answered (0: no answer).
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// At is when the attempt ended (wall clock); Took how long it took.
	At     time.Time `json:"at"`
	TookMS int64     `json:"took_ms"`
	// Next is when the next attempt is due (outcome retrying).
	Next time.Time `json:"next,omitzero"`
}

// DeliveryLog is what the hub shows of a unit's webhook: whether one is
// configured, and the latest attempts, newest first.
type DeliveryLog struct {
	Dept string `json:"dept"`
	// Webhook is the unit's webhook URL (without a password), "" if none.
	Webhook string `json:"webhook,omitempty"`
	// Delivered and Failed count the notices delivered and given up among
	// the records kept.
	Delivered int        `json:"delivered"`
	Failed    int        `json:"failed"`
	Items     []Delivery `json:"items"`
}

// NoticeDigest is a unit's daily digest: the warnings raised to it and
// escalated that day (the notices it was sent), and those due within the
// next 7 days.
type NoticeDigest struct {
	Dept string `json:"dept"`
	// Date is the day (China Standard Time) of the digest.
	Date string `json:"date"`
	// Clock is the hub's recorded clock when the digest was made.
	Clock     time.Time       `json:"clock"`
	New       []NoticeWarning `json:"new"`
	Escalated []NoticeWarning `json:"escalated"`
	// Due are the open warnings due from Date to 7 days after it.
	Due []NoticeWarning `json:"due"`
	// Counts are len of each list: new, escalated, due.
	Counts map[string]int `json:"counts"`
}
