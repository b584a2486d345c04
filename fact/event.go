// Package fact is the domain core of anzhi's wire contract: a fact is a
// CloudEvent 1.0 about a household, person, site, task or area, published by
// one department on the subject <domain>.<event>.<county>. The package decodes
// events in structured and binary mode, checks them against the contract and
// the catalog (every reason at once, with JSON pointers), and encodes them. It
// imports no NATS code: the hub, the publishers and the tests share it.
package fact

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// Mode is how a CloudEvent travels in a NATS message.
type Mode uint8

// Modes of the CloudEvents NATS protocol binding.
const (
	// Structured: the whole event is the JSON body (application/cloudevents+json).
	Structured Mode = iota + 1
	// Binary: attributes are ce- headers, the body is the data.
	Binary
)

func (m Mode) String() string {
	switch m {
	case Structured:
		return "structured"
	case Binary:
		return "binary"
	}
	return "unknown"
}

// Message is a NATS message as it arrives: subject, headers and body. Header
// has the shape of nats.Header.
type Message struct {
	Subject string
	Header  map[string][]string
	Data    []byte
}

// Size is the number of bytes the message occupies: subject, header names and
// values, and body.
func (m Message) Size() int {
	n := len(m.Subject) + len(m.Data)
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// HeaderValue returns the first value of a header, matching its name without
// regard to case (NATS headers are case-sensitive on the wire, CloudEvents
// bindings disagree on case).
func (m Message) HeaderValue(name string) (string, bool) {
	if vs, ok := m.Header[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	for k, vs := range m.Header {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0], true
		}
	}
	return "", false
}

// Event is a decoded CloudEvent.
type Event struct {
	Mode            Mode
	SpecVersion     string
	ID              string
	Source          string
	Type            string
	Subject         string
	Time            time.Time
	DataContentType string
	DataSchema      string
	// Extensions holds extension attributes as strings (numbers and
	// booleans of structured mode in their JSON text).
	Extensions map[string]string
	// Data is the decoded data (objects as map[string]any, numbers as
	// json.Number), nil when absent.
	Data any
}

// Family returns the family name of the event's type (anzhi.edu.enrolment.v1 →
// edu.enrolment), or "" when the type is not of the anzhi form.
func (e *Event) Family() string {
	t, ok := strings.CutPrefix(e.Type, TypePrefix)
	if !ok {
		return ""
	}
	t, ok = strings.CutSuffix(t, TypeSuffix)
	if !ok {
		return ""
	}
	return t
}

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("invalid fact")

// ValidationError lists every reason a fact was refused.
type ValidationError struct {
	ID         string
	Source     string
	Subject    string // NATS subject
	Violations []schemas.Violation
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid fact")
	if e.ID != "" {
		fmt.Fprintf(&b, " %q", e.ID)
	}
	if e.Source != "" {
		fmt.Fprintf(&b, " from %s", e.Source)
	}
	if e.Subject != "" {
		fmt.Fprintf(&b, " on %s", e.Subject)
	}
	n := len(e.Violations)
	fmt.Fprintf(&b, ": %d violation", n)
	if n != 1 {
		b.WriteByte('s')
	}
	for i, v := range e.Violations {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Has reports whether a violation of the given reason is present.
func (e *ValidationError) Has(r schemas.Reason) bool {
	for _, v := range e.Violations {
		if v.Reason == r {
			return true
		}
	}
	return false
}

// Encode writes the structured-mode JSON of a CloudEvent whose data is
// already JSON. It is the allocation-light counterpart of sdk-go's
// event.MarshalJSON, producing the same attributes; it does not validate.
func Encode(dst []byte, e *Outgoing) []byte {
	dst = append(dst, `{"specversion":"1.0","id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, e.Source)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, e.Type)
	if e.Subject != "" {
		dst = append(dst, `,"subject":`...)
		dst = appendString(dst, e.Subject)
	}
	if !e.Time.IsZero() {
		dst = append(dst, `,"time":"`...)
		dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}
	if e.DataSchema != "" {
		dst = append(dst, `,"dataschema":`...)
		dst = appendString(dst, e.DataSchema)
	}
	dst = append(dst, `,"datacontenttype":"application/json"`...)
	for _, k := range sortedKeys(e.Extensions) {
		dst = append(dst, ',')
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, e.Extensions[k])
	}
	if e.Data != nil {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	return append(dst, '}')
}

// Outgoing is a CloudEvent to encode: attributes and JSON data.
type Outgoing struct {
	ID         string
	Source     string
	Type       string
	Subject    string
	Time       time.Time
	DataSchema string
	Extensions map[string]string
	Data       json.RawMessage
}

// Key identifies a fact by its source and id (CloudEvents: the pair is unique
// per fact): FNV-1a 64 of source, a zero byte and id. The hub keeps the keys of
// accepted facts to make republishing a no-op; a key match is confirmed
// against the stored fact, so a hash collision cannot drop a fact.
func Key(source, id string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(source); i++ {
		h ^= uint64(source[i])
		h *= prime
	}
	h *= prime // the zero separator
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= prime
	}
	return h
}
