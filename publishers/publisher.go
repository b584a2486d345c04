// Package publishers is the small client each department runs to share its
// facts with anzhi: it builds a CloudEvent with the CloudEvents Go SDK,
// validates it locally against the same contract the hub enforces (returning
// every violation at once), and publishes it to JetStream with the event id as
// Nats-Msg-Id, retrying transient failures. Bulk loads go through Batch.
//
// JetStream's acknowledgement (a Receipt) means the intake stored the
// message, not that the hub accepted it: Receipt.Verdict, or
// Publisher.Verdicts for many receipts at once, asks the hub's verdict
// service (fact.VerdictSubject) whether the fact went into the canonical log
// or was refused, and why.
package publishers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// Fact is what a department states. Family, Time and Data are required; the
// rest is derived when left empty.
type Fact struct {
	// Family is the event family, e.g. edu.enrolment.
	Family string
	// County is the subject's county token; by default the county the data
	// names in its family's county fields (x-anzhi.county: site_id,
	// household_id, …), or for a citywide family whose data names none the
	// city's (610400; a county government's own county). See
	// schemas.Catalog.CountyOf.
	County string
	// Subject is the entity the fact is about; by default the value of the
	// family's subject field in Data (household_id, person_key, site_id, …).
	Subject string
	// ID identifies the fact from this department; republishing an id is a
	// no-op. By default it is derived from the family, subject, time and data,
	// so publishing the same statement twice never counts twice.
	ID string
	// Time is when the fact took effect (入学日期, 登记日期, …).
	Time time.Time
	// Data is the fact's content: a struct, a map, or json.RawMessage.
	Data any
	// Extensions are optional CloudEvents extension attributes.
	Extensions map[string]string
}

// Receipt is what JetStream acknowledged: the intake stored the message.
// Whether the hub accepted it is its Verdict.
type Receipt struct {
	ID      string // the CloudEvent id
	Subject string // the NATS subject published to
	// Seq is the sequence of the message in the intake stream (of the
	// original message when Duplicate).
	Seq uint64
	// Duplicate is true when JetStream recognised the id within its
	// duplicate window; outside it the hub recognises it and drops it.
	Duplicate bool

	p *Publisher // asks the hub for the Verdict
}

// Publisher publishes one department's facts. It is safe for concurrent use.
type Publisher struct {
	nc        *nats.Conn
	js        jetstream.JetStream
	who       schemas.Publisher
	cat       *schemas.Catalog
	v         *fact.Validator
	attempts  int
	backoff   time.Duration
	timeout   time.Duration
	binary    bool
	maxEvents int
}

// Option configures a Publisher.
type Option func(*Publisher) error

// WithCatalog uses another catalog than the embedded one.
func WithCatalog(cat *schemas.Catalog) Option {
	return func(p *Publisher) error { p.cat = cat; return nil }
}

// WithRetry sets how often a transient failure is retried and the first
// backoff (doubled each time, with jitter). Default: 6 attempts from 50ms.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(p *Publisher) error {
		if attempts < 1 || backoff < 0 {
			return fmt.Errorf("publishers: retry needs at least one attempt and a non-negative backoff")
		}
		p.attempts, p.backoff = attempts, backoff
		return nil
	}
}

// WithTimeout bounds one publish attempt (default 5s).
func WithTimeout(d time.Duration) Option {
	return func(p *Publisher) error { p.timeout = d; return nil }
}

// WithBinaryMode publishes events in binary mode (ce- headers, data as the
// body) instead of structured mode.
func WithBinaryMode() Option {
	return func(p *Publisher) error { p.binary = true; return nil }
}

// WithMaxEventBytes sets the local size limit (it should match the hub's).
func WithMaxEventBytes(n int) Option {
	return func(p *Publisher) error { p.maxEvents = n; return nil }
}

// New returns a publisher for a department (edu, county/610424, …) on a NATS
// connection.
func New(nc *nats.Conn, dept string, opts ...Option) (*Publisher, error) {
	p := &Publisher{nc: nc, attempts: 6, backoff: 50 * time.Millisecond, timeout: 5 * time.Second}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if p.cat == nil {
		cat, err := schemas.Load()
		if err != nil {
			return nil, fmt.Errorf("publishers: %w", err)
		}
		p.cat = cat
	}
	who, err := p.cat.ParsePublisher(dept)
	if err != nil {
		return nil, fmt.Errorf("publishers: department: %w", err)
	}
	if who.Dept == "hub" {
		return nil, errors.New("publishers: the hub publishes its own events; a department publisher cannot be the hub")
	}
	p.who = who
	p.v = fact.NewValidator(p.cat, p.maxEvents)
	if p.js, err = jetstream.New(nc); err != nil {
		return nil, fmt.Errorf("publishers: %w", err)
	}
	return p, nil
}

// Department returns the publishing department as written after /xianyang/.
func (p *Publisher) Department() string { return p.who.String() }

// Build turns a fact into the NATS message to publish, building the
// CloudEvent with the CloudEvents SDK, and validates it exactly as the hub
// will. A contract violation is a *fact.ValidationError listing every reason.
func (p *Publisher) Build(f Fact) (*nats.Msg, error) {
	o, subject, err := p.prepare(f)
	if err != nil {
		return nil, err
	}
	ev := cloudevents.New(cloudevents.CloudEventsVersionV1)
	ev.SetID(o.ID)
	ev.SetSource(o.Source)
	ev.SetType(o.Type)
	ev.SetSubject(o.Subject)
	ev.SetTime(o.Time)
	ev.SetDataSchema(o.DataSchema)
	ev.SetDataContentType(fact.DataContentType)
	ev.DataEncoded = o.Data
	for k, v := range o.Extensions {
		ev.SetExtension(k, v)
	}
	if err := ev.Validate(); err != nil {
		return nil, &fact.ValidationError{ID: o.ID, Source: o.Source, Subject: subject,
			Violations: []schemas.Violation{{Reason: schemas.ReasonAttribute, Message: err.Error()}}}
	}
	msg := nats.NewMsg(subject)
	if p.binary {
		msg.Header.Set("ce-specversion", ev.SpecVersion())
		msg.Header.Set("ce-id", ev.ID())
		msg.Header.Set("ce-source", ev.Source())
		msg.Header.Set("ce-type", ev.Type())
		msg.Header.Set("ce-subject", ev.Subject())
		msg.Header.Set("ce-time", ev.Time().Format(time.RFC3339Nano))
		msg.Header.Set("ce-dataschema", ev.DataSchema())
		msg.Header.Set("content-type", fact.DataContentType)
		for k, v := range o.Extensions {
			msg.Header.Set("ce-"+k, v)
		}
		msg.Data = o.Data
	} else {
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("publishers: encode CloudEvent: %w", err)
		}
		msg.Header.Set("Content-Type", fact.ContentType)
		msg.Data = body
	}
	SetMsgID(msg, o.Source, o.ID)
	if err := p.check(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// BuildUnchecked is Build without the local check of the contract: for
// diagnostics (to see the hub's own verdict on a fact) and for testing the
// hub. The hub refuses exactly what Build would have refused.
func (p *Publisher) BuildUnchecked(f Fact) (*nats.Msg, error) {
	o, subject, err := p.prepare(f)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Data = fact.Encode(make([]byte, 0, 256+len(o.Data)), o)
	SetMsgID(msg, o.Source, o.ID)
	return msg, nil
}

// check validates a built message with the hub's validator.
func (p *Publisher) check(msg *nats.Msg) error {
	vd := p.v.Check(fact.Message{Subject: msg.Subject, Header: msg.Header, Data: msg.Data})
	return vd.Err(msg.Subject)
}

// prepare fills the defaults of a fact and encodes its data.
func (p *Publisher) prepare(f Fact) (*fact.Outgoing, string, error) {
	var vs []schemas.Violation
	bad := func(ptr, format string, args ...any) {
		vs = append(vs, schemas.Violation{Pointer: ptr, Reason: schemas.ReasonAttribute, Message: fmt.Sprintf(format, args...)})
	}
	fam, ok := p.cat.Family(f.Family)
	if !ok {
		return nil, "", &fact.ValidationError{ID: f.ID, Source: p.who.Source(), Violations: []schemas.Violation{{
			Pointer: "/type", Reason: schemas.ReasonUnknownType, Message: fmt.Sprintf("family %q is not in the catalog (anzhi schemas list)", f.Family)}}}
	}
	if f.Time.IsZero() {
		bad("/time", "the time the fact took effect is required")
	}
	var data json.RawMessage
	switch d := f.Data.(type) {
	case nil:
		bad("/data", "data is required")
	case json.RawMessage:
		data = d
	case []byte:
		data = d
	default:
		b, err := json.Marshal(d)
		if err != nil {
			bad("/data", "data cannot be encoded as JSON: %v", err)
		}
		data = b
	}
	// Only the subject and county fields are needed here (the full check
	// comes after encoding): read just those.
	var obj map[string]any
	if data != nil {
		obj = map[string]any{}
		err := fact.Members(data, func(k, v []byte) error {
			if key := string(k); key == fam.SubjectField || slices.Contains(fam.CountyFields, key) {
				if s := fact.UnquoteString(v); s != "" {
					obj[key] = s
				}
			}
			return nil
		})
		if err != nil {
			bad("/data", "data must be a JSON object: %v", err)
			obj = nil
		}
	}
	subject := f.Subject
	if subject == "" {
		subject, _ = obj[fam.SubjectField].(string)
	}
	county := f.County
	if county == "" && obj != nil {
		var err error
		if county, err = p.cat.CountyOf(fam, p.who, obj); err != nil {
			vs = append(vs, schemas.Violation{Pointer: "/data", Reason: schemas.ReasonCounty,
				Message: err.Error() + "; set Fact.County (anzhi publish --county)"})
		}
	}
	if len(vs) > 0 {
		return nil, "", &fact.ValidationError{ID: f.ID, Source: p.who.Source(), Violations: vs}
	}
	id := f.ID
	if id == "" {
		id = DeriveID(fam.Name, subject, f.Time, data)
	}
	return &fact.Outgoing{
		ID: id, Source: p.who.Source(), Type: fam.Type, Subject: subject, Time: f.Time,
		DataSchema: fam.SchemaURI, Extensions: f.Extensions, Data: data,
	}, fact.SubjectFor(fam.Name, county), nil
}

// MsgID is the start of the Nats-Msg-Id a publisher sends: the CloudEvent
// id scoped by its source. CloudEvents makes source and id unique together,
// not the id alone; keying JetStream's duplicate window by the id alone would
// drop a second department's fact that happens to reuse an id within the
// window. SetMsgID adds a digest of the content.
func MsgID(source, id string) string {
	return fact.DeptOf(source) + ":" + id
}

// SetMsgID sets a built message's Nats-Msg-Id: MsgID and a digest of what
// the message says (subject, ce- headers, body). JetStream's duplicate
// window then drops only true repeats; the same id with other content
// reaches the hub, which refuses it as an id_conflict instead of it being
// dropped in silence as a "duplicate".
func SetMsgID(msg *nats.Msg, source, id string) {
	h := sha256.New()
	h.Write([]byte(msg.Subject))
	h.Write([]byte{0})
	names := make([]string, 0, len(msg.Header))
	for k := range msg.Header {
		if len(k) >= 3 && strings.EqualFold(k[:3], "ce-") {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, k := range names {
		h.Write([]byte(strings.ToLower(k)))
		h.Write([]byte{0})
		for _, v := range msg.Header[k] {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
	}
	h.Write(msg.Data)
	msg.Header.Set(jetstream.MsgIDHeader, MsgID(source, id)+":"+hex.EncodeToString(h.Sum(nil)[:8]))
}

// DeriveID is the default fact id: the family and a digest of the subject,
// the effective time and the data, so that the same statement always gets the
// same id.
func DeriveID(family, subject string, t time.Time, data []byte) string {
	h := sha256.New()
	h.Write([]byte(family))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	h.Write([]byte{0})
	h.Write([]byte(t.UTC().Format(time.RFC3339Nano)))
	h.Write([]byte{0})
	h.Write(data)
	return family + "-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Publish builds, validates and publishes one fact, and waits for JetStream
// to store it. Invalid facts are never sent: the error is a
// *fact.ValidationError (errors.Is(err, fact.ErrInvalid)).
func (p *Publisher) Publish(ctx context.Context, f Fact) (Receipt, error) {
	msg, err := p.Build(f)
	if err != nil {
		return Receipt{}, err
	}
	return p.PublishMsg(ctx, msg)
}

// PublishMsg publishes a built message (see Build) with retries.
func (p *Publisher) PublishMsg(ctx context.Context, msg *nats.Msg) (Receipt, error) {
	id := eventID(msg)
	var last error
	for attempt := 0; attempt < p.attempts; attempt++ {
		if attempt > 0 {
			wait := p.backoff << (attempt - 1)
			wait += time.Duration(rand.Int64N(int64(wait/2) + 1))
			select {
			case <-ctx.Done():
				return Receipt{}, fmt.Errorf("publish %s on %s: %w (last error: %v)", id, msg.Subject, ctx.Err(), last)
			case <-time.After(wait):
			}
		}
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		// This loop owns the retries: the client library's own retries on
		// "no responders" (2 × 250ms) would stretch every attempt.
		ack, err := p.js.PublishMsg(actx, msg, jetstream.WithRetryAttempts(0))
		cancel()
		if err == nil && ack.Duplicate && !preemptRetried(msg) && p.preempted(ctx, ack.Sequence) {
			// Someone else sent a message with this fact's Nats-Msg-Id
			// first, and the hub refused it for its source: ours was
			// never judged. Send a copy again under an id nobody can
			// guess (the caller's message is left as it is).
			msg = withFreshMsgID(msg)
			attempt--
			continue
		}
		if err == nil {
			return Receipt{ID: id, Subject: msg.Subject, Seq: ack.Sequence, Duplicate: ack.Duplicate, p: p}, nil
		}
		last = err
		if refused := p.refusedByServer(msg.Subject); refused != nil {
			return Receipt{}, fmt.Errorf("publish %s on %s: %w", id, msg.Subject, refused)
		}
		if !Transient(err) || ctx.Err() != nil {
			break
		}
	}
	return Receipt{}, fmt.Errorf("publish %s on %s: %w", id, msg.Subject, last)
}

// preemptMark starts the random tail of the Nats-Msg-Id of a fact sent
// again because another sender's message had taken its id (see preempted).
const preemptMark = ":again-"

func preemptRetried(msg *nats.Msg) bool {
	return strings.Contains(msg.Header.Get(jetstream.MsgIDHeader), preemptMark)
}

// withFreshMsgID returns a copy of msg whose Nats-Msg-Id has an
// unpredictable tail, so that no one can have taken it first too.
func withFreshMsgID(msg *nats.Msg) *nats.Msg {
	c := nats.NewMsg(msg.Subject)
	for k, vs := range msg.Header {
		c.Header[k] = append([]string(nil), vs...)
	}
	c.Data = msg.Data
	c.Header.Set(jetstream.MsgIDHeader, msg.Header.Get(jetstream.MsgIDHeader)+preemptMark+nuid.Next())
	return c
}

// preempted reports whether the message JetStream took a publication for
// a duplicate of (intake sequence seq) was refused by the hub for its
// source: a message from another sender that used this fact's Nats-Msg-Id
// to have ours dropped. An honest publisher's own message is never refused
// for its source (it only builds its own), so a real duplicate is never
// sent twice. When the hub cannot tell in a few seconds, the duplicate
// stands.
func (p *Publisher) preempted(ctx context.Context, seq uint64) bool {
	// One request, no retries: no hub answering (none runs, or it
	// restarts) leaves the duplicate as it is.
	vctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	reply, err := p.askVerdicts(vctx, []uint64{seq})
	if err != nil || reply.Verdicts[0].Status != fact.VerdictRefused {
		return false
	}
	if reply.Verdicts[0].NotYours {
		return true // refused, and sent by another identity than ours
	}
	for _, r := range reply.Verdicts[0].Reasons {
		if r.Reason == schemas.ReasonSource {
			return true
		}
	}
	return false
}

// ErrNotPermitted means the NATS server refused a publication: the identity
// the connection presents may not publish on that subject (identities on: a
// family outside the department's domains, another county's token). Retrying
// cannot help.
var ErrNotPermitted = errors.New("this identity may not publish there (the server refused it: permissions violation)")

// refusedByServer returns ErrNotPermitted, with the server's words, when the
// connection's last error is a permissions violation on subject. The
// server reports it asynchronously, so a refused publication otherwise only
// times out, and would be retried.
func (p *Publisher) refusedByServer(subject string) error {
	last := p.nc.LastError()
	if last == nil || !errors.Is(last, nats.ErrPermissionViolation) || !strings.Contains(last.Error(), `"`+subject+`"`) {
		return nil
	}
	return fmt.Errorf("%w; %v", ErrNotPermitted, last)
}

// Transient reports whether a publish error may go away on retry: no stream
// answering yet, a timeout, a reconnect in progress.
func Transient(err error) bool {
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503: JetStream temporarily unavailable (e.g. leader election).
		return apiErr.Code == 503
	}
	return false
}

// eventID returns the CloudEvent id of a built message (from its
// Nats-Msg-Id, or its ce-id header in binary mode).
func eventID(msg *nats.Msg) string {
	if id := msg.Header.Get("ce-id"); id != "" {
		return id
	}
	// <dept>:<id>:<digest>; the id itself may hold colons.
	v := msg.Header.Get(jetstream.MsgIDHeader)
	_, rest, _ := strings.Cut(v, ":")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
