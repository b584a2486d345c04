package fact

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/schemas"
)

// MaxKeptBody is how much of a refused message's body a rejection keeps.
const MaxKeptBody = 64 << 10

// MaxRejectionBytes bounds an encoded rejection record: it must fit in one
// NATS message (1 MiB by default) whatever the refused message held — tens
// of kilobytes of odd headers each with a violation of its own, say.
const MaxRejectionBytes = 256 << 10

// Rejection is an entry of the rejection ledger: a message the hub refused,
// every reason, and the message itself (ID-card numbers masked, long bodies
// truncated) so that the department can see and fix it.
type Rejection struct {
	IntakeSeq  uint64    `json:"intake_seq"`
	Received   time.Time `json:"received"`
	Subject    string    `json:"subject"`
	Department string    `json:"department"`
	// Sender is the identity that sent the message (identities on): the
	// rejection is filed under its department, whatever the source says.
	Sender     string              `json:"sender,omitempty"`
	Source     string              `json:"source,omitempty"`
	ID         string              `json:"id,omitempty"`
	Type       string              `json:"type,omitempty"`
	Mode       string              `json:"mode"`
	Violations []schemas.Violation `json:"violations"`
	Size       int                 `json:"size"`
	// IDNumbers counts raw ID-card numbers found; when non-zero every copy
	// kept here is masked (110105********002X) and the clear message has been
	// erased from the intake stream.
	IDNumbers int                 `json:"id_numbers,omitempty"`
	Redacted  bool                `json:"redacted,omitempty"`
	Header    map[string][]string `json:"header,omitempty"`
	// Body is the message body when it is UTF-8, BodyBase64 otherwise.
	Body       string `json:"body,omitempty"`
	BodyBase64 string `json:"body_base64,omitempty"`
	Truncated  bool   `json:"truncated,omitempty"`
	// OmittedViolations and OmittedHeaders count what was left out to keep
	// the record within MaxRejectionBytes.
	OmittedViolations int `json:"omitted_violations,omitempty"`
	OmittedHeaders    int `json:"omitted_headers,omitempty"`
	// SHA256 is the hex digest of the whole original body; omitted when the
	// body carried an ID-card number, whose digest could be brute-forced.
	SHA256 string `json:"sha256,omitempty"`
}

// NewRejection builds the ledger entry for a refused message, masking every
// ID-card number in its body and headers.
func NewRejection(m Message, vd *Verdict, intakeSeq uint64, received time.Time) *Rejection {
	r := &Rejection{
		IntakeSeq:  intakeSeq,
		Received:   received.UTC(),
		Subject:    m.Subject,
		Department: vd.Publisher.String(),
		Source:     vd.Event.Source,
		ID:         vd.Event.ID,
		Type:       vd.Event.Type,
		Mode:       vd.Event.Mode.String(),
		Violations: vd.Violations,
		Size:       m.Size(),
		IDNumbers:  vd.IDNumbers,
	}
	if sender, sent, ok := CutSender(m.Subject); ok {
		r.Subject, r.Sender, r.Department = sent, sender, DeptOfIdentity(sender)
	}
	if r.Department == "" {
		r.Department = "unknown"
	}
	body := m.Data
	if vd.IDNumbers > 0 {
		r.Redacted = true
		body = redactBody(body)
		r.Source, _ = redactString(r.Source)
		r.ID, _ = redactString(r.ID)
		r.Type, _ = redactString(r.Type)
		r.Subject, _ = redactString(r.Subject)
		r.Violations = make([]schemas.Violation, len(vd.Violations))
		for i, v := range vd.Violations {
			v.Pointer, _ = redactString(v.Pointer)
			v.Message, _ = redactString(v.Message)
			r.Violations[i] = v
		}
	} else {
		sum := sha256.Sum256(m.Data)
		r.SHA256 = hex.EncodeToString(sum[:])
	}
	if len(m.Header) > 0 {
		r.Header = make(map[string][]string, len(m.Header))
		for _, k := range sortedHeaderNames(m.Header) {
			vs := m.Header[k]
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i], _ = redactString(v)
			}
			k, _ = redactString(k)
			r.Header[k] = append(r.Header[k], out...)
		}
	}
	if len(body) > MaxKeptBody {
		cut := MaxKeptBody
		for cut > MaxKeptBody-utf8.UTFMax && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = body[:cut]
		r.Truncated = true
	}
	if utf8.Valid(body) {
		r.Body = string(body)
	} else {
		r.BodyBase64 = base64.StdEncoding.EncodeToString(body)
	}
	return r
}

// Encode encodes the record as JSON of at most max bytes: past that it
// leaves out, in turn, violations after the first 20 (messages cut to 300
// bytes), the echoed headers, the body after 4 KiB and the attributes after
// 300 bytes, counting what it left out; as a last resort it keeps only the
// record's place and reasons in brief.
func (r *Rejection) Encode(max int) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil || len(b) <= max {
		return b, err
	}
	c := *r
	if len(c.Violations) > 20 {
		c.OmittedViolations = len(c.Violations) - 20
		c.Violations = c.Violations[:20]
	}
	vs := make([]schemas.Violation, len(c.Violations))
	for i, v := range c.Violations {
		v.Pointer, v.Message = cut(v.Pointer, 300), cut(v.Message, 300)
		vs[i] = v
	}
	c.Violations = vs
	if b, err = json.Marshal(&c); err != nil || len(b) <= max {
		return b, err
	}
	for _, vs := range c.Header {
		c.OmittedHeaders += len(vs)
	}
	c.Header = nil
	if b, err = json.Marshal(&c); err != nil || len(b) <= max {
		return b, err
	}
	c.Body, c.BodyBase64 = cut(c.Body, 4<<10), cut(c.BodyBase64, 4<<10)
	c.Truncated = true
	c.ID, c.Source, c.Type, c.Subject = cut(c.ID, 300), cut(c.Source, 300), cut(c.Type, 300), cut(c.Subject, 300)
	c.Department = cut(c.Department, 300)
	if b, err = json.Marshal(&c); err != nil || len(b) <= max {
		return b, err
	}
	// Still too large (max is very small): the place and the reasons only.
	brief := Rejection{IntakeSeq: c.IntakeSeq, Received: c.Received, Department: cut(c.Department, 64), Mode: c.Mode,
		Size: c.Size, IDNumbers: c.IDNumbers, Redacted: c.Redacted, Truncated: true,
		OmittedViolations: len(r.Violations), OmittedHeaders: c.OmittedHeaders, Violations: []schemas.Violation{}}
	return json.Marshal(&brief)
}

// cut shortens s to at most n bytes, on a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// redactString masks the ID-card numbers of s, finding them as the check
// does (next to escapes too).
func redactString(s string) (string, int) {
	u, ms := findIDNumbers([]byte(s))
	if len(ms) == 0 {
		return s, 0
	}
	return string(idcard.RedactMatches(u, ms)), len(ms)
}

// withheld replaces a body whose ID numbers could not be masked reliably.
const withheld = "(body withheld: it held an ID-card number that could not be masked in place)"

// redactBody masks every ID-card number of a refused body. A JSON body is
// decoded, masked string by string (numbers hidden by escapes included) and
// re-encoded; anything else is masked byte by byte. If a number could still
// be read in the result, the body is withheld altogether.
func redactBody(body []byte) []byte {
	var out []byte
	if v, err := schemas.Decode(body); err == nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(redactValue(v)) == nil {
			out = bytes.TrimRight(buf.Bytes(), "\n")
		}
	}
	if out == nil {
		u, ms := findIDNumbers(body)
		out = idcard.RedactMatches(u, ms)
	}
	if _, ms := findIDNumbers(out); len(ms) > 0 {
		return []byte(withheld)
	}
	if v, err := schemas.Decode(out); err == nil && len(idPointers(v, "")) > 0 {
		return []byte(withheld)
	}
	return out
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			rk, _ := redactString(k)
			m[rk] = redactValue(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	case string:
		s, _ := redactString(x)
		return s
	case json.Number:
		if s, n := redactString(x.String()); n > 0 {
			return s
		}
		return x
	}
	return v
}
