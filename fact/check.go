package fact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"mime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xianyang/anzhi/schemas"
)

// DefaultMaxBytes is the default size limit of one event (headers and body).
// Facts are small (≈0.5 KiB); the limit keeps a runaway export from filling
// the log.
const DefaultMaxBytes = 64 << 10

// Validator checks NATS messages against the wire contract and the catalog.
// The zero value is not usable; build one with NewValidator. It is safe for
// concurrent use.
type Validator struct {
	cat      *schemas.Catalog
	maxBytes int
}

// NewValidator returns a validator over the catalog with a size limit
// (DefaultMaxBytes when maxBytes <= 0).
func NewValidator(cat *schemas.Catalog, maxBytes int) *Validator {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Validator{cat: cat, maxBytes: maxBytes}
}

// Catalog returns the validator's catalog.
func (v *Validator) Catalog() *schemas.Catalog { return v.cat }

// MaxBytes returns the size limit.
func (v *Validator) MaxBytes() int { return v.maxBytes }

// Verdict is the outcome of checking one message: what could be decoded and
// every violation found. A verdict with no violations is an accepted fact.
type Verdict struct {
	Event      Event
	Family     *schemas.Family   // nil when the type or subject names no family
	Publisher  schemas.Publisher // zero when the source is not in the registry
	Area       string            // county token of the NATS subject
	Violations []schemas.Violation
	// IDNumbers counts raw ID-card numbers found anywhere in the message.
	IDNumbers int
	// Sender is the identity that sent the message, when the server binds
	// senders to subjects ("" in open trial mode; see SenderSubjectPrefix).
	Sender string
}

// OK reports whether the fact is valid.
func (vd *Verdict) OK() bool { return len(vd.Violations) == 0 }

// Err returns a *ValidationError listing the violations, or nil.
func (vd *Verdict) Err(subject string) error {
	if vd.OK() {
		return nil
	}
	return &ValidationError{ID: vd.Event.ID, Source: vd.Event.Source, Subject: subject, Violations: vd.Violations}
}

func (vd *Verdict) add(ptr string, r schemas.Reason, format string, args ...any) {
	vd.Violations = append(vd.Violations, schemas.Violation{Pointer: ptr, Reason: r, Message: fmt.Sprintf(format, args...)})
}

// Check decodes and checks a message. It never panics and reports every
// violation it can find, not only the first.
func (v *Validator) Check(m Message) *Verdict {
	vd := &Verdict{}
	if n := m.Size(); n > v.maxBytes {
		vd.add("", schemas.ReasonTooLarge, "message is %d bytes, the limit is %d", n, v.maxBytes)
	}
	binary := false
	if _, ok := m.HeaderValue("ce-specversion"); ok {
		binary = true
	}
	var attrs map[string]any
	ptr := func(attr string) string { return "/" + attr }
	if binary {
		vd.Event.Mode = Binary
		ptr = func(attr string) string { return "ce-" + attr }
		attrs = map[string]any{}
		from := map[string]string{} // attribute → header it came from
		for _, k := range sortedHeaderNames(m.Header) {
			vs := m.Header[k]
			lk := strings.ToLower(k)
			name, ok := strings.CutPrefix(lk, "ce-")
			if !ok && lk != "content-type" {
				continue
			}
			if !ok {
				name = "datacontenttype"
			}
			if len(vs) == 0 {
				continue
			}
			if name == "data" || name == "data_base64" {
				vd.add("header:"+k, schemas.ReasonAttribute, "header %s: %s is not an attribute name (CloudEvents reserves it); in binary mode the data is the message body", k, name)
				continue
			}
			if len(vs) > 1 {
				vd.add("header:"+k, schemas.ReasonAttribute, "header %s is repeated; a CloudEvents attribute has one value", k)
			}
			if prev, dup := from[name]; dup {
				if attrs[name] != vs[0] {
					vd.add("header:"+k, schemas.ReasonAttribute, "attribute %s is given twice with different values (headers %s and %s)", name, prev, k)
				}
				continue
			}
			from[name] = k
			attrs[name] = vs[0]
		}
		if ct, ok := m.HeaderValue("content-type"); ok {
			if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == ContentType {
				vd.add("header:Content-Type", schemas.ReasonMalformed, "content type %s says structured mode but the ce-specversion header says binary mode: send one or the other", ct)
			}
		}
		if len(bytes.TrimSpace(m.Data)) > 0 {
			d, err := schemas.Decode(m.Data)
			if err != nil {
				vd.add("/data", schemas.ReasonMalformed, "data is not JSON: %v", err)
			} else {
				attrs["data"] = d
			}
		}
	} else {
		vd.Event.Mode = Structured
		// Attributes live in the body in structured mode; a ce- header
		// beside them would be a second, conflicting reading of the event.
		for _, k := range sortedHeaderNames(m.Header) {
			if len(k) >= 3 && strings.EqualFold(k[:3], "ce-") {
				vd.add("header:"+k, schemas.ReasonAttribute, "header %s is a binary-mode attribute, but the message has no ce-specversion header, so it is a structured event whose attributes are in the body: drop the ce- headers, or send binary mode with ce-specversion", k)
			}
		}
		if ct, ok := m.HeaderValue("content-type"); ok {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || (mt != ContentType && mt != "application/json") {
				vd.add("header:Content-Type", schemas.ReasonMalformed, "content type %q is not %s (structured mode) and no ce-specversion header says binary mode", ct, ContentType)
			}
		}
		d, err := schemas.Decode(m.Data)
		if err != nil {
			vd.add("", schemas.ReasonMalformed, "body is not a JSON CloudEvent: %v", err)
		} else if obj, ok := d.(map[string]any); !ok {
			vd.add("", schemas.ReasonMalformed, "body is JSON but not an object, so not a structured CloudEvent")
		} else {
			attrs = obj
		}
	}
	v.scanIDNumbers(vd, m, attrs)
	if attrs == nil {
		return vd
	}
	v.checkAttributes(vd, attrs, ptr)
	v.checkRouting(vd, m.Subject)
	v.checkData(vd, attrs["data"], binary)
	sortViolations(vd.Violations)
	return vd
}

// sortViolations orders violations by reason, then pointer and message, so
// that the same message always gets the same verdict.
func sortViolations(vs []schemas.Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if ra, rb := reasonRank(a.Reason), reasonRank(b.Reason); ra != rb {
			return ra < rb
		}
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		return a.Message < b.Message
	})
}

func sortedHeaderNames(h map[string][]string) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// CheckIntake is Check for a message as a department published it: the
// hub's own headers (Anzhi-*), which the log adds to stored facts, may not
// come from a publisher.
//
// With identities on the intake subject names the sender
// (SenderSubjectPrefix): the message is checked as sent, and its source
// must be the sender's own department.
func (v *Validator) CheckIntake(m Message) *Verdict {
	sender, sent, bound := CutSender(m.Subject)
	m.Subject = sent
	vd := v.Check(m)
	if bound {
		vd.Sender = sender
		if dept := DeptOf(vd.Event.Source); vd.Event.Source != "" && IdentityOf(dept) != sender {
			vd.add("/source", schemas.ReasonSource, "source %s is not the sender's: this message was sent by %s, whose source is %s",
				vd.Event.Source, sender, SourceFor(DeptOfIdentity(sender)))
		}
	}
	for _, k := range sortedHeaderNames(m.Header) {
		if n := len(HeaderPrefix); len(k) >= n && strings.EqualFold(k[:n], HeaderPrefix) {
			vd.add("header:"+k, schemas.ReasonAttribute, "header %s is reserved for the hub (%s*), a publisher may not set it", k, HeaderPrefix)
		}
	}
	sortViolations(vd.Violations)
	return vd
}

var rank = map[schemas.Reason]int{
	schemas.ReasonIDNumber: 0, schemas.ReasonTooLarge: 1, schemas.ReasonMalformed: 2,
	schemas.ReasonAttribute: 3, schemas.ReasonUnknownType: 4, schemas.ReasonSubject: 5,
	schemas.ReasonSource: 6, schemas.ReasonNotAllowed: 7, schemas.ReasonCounty: 8, schemas.ReasonSchema: 9,
}

func reasonRank(r schemas.Reason) int {
	if n, ok := rank[r]; ok {
		return n
	}
	return len(rank)
}

// known CloudEvents context attributes (besides data).
var contextAttrs = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true,
}

func (v *Validator) checkAttributes(vd *Verdict, attrs map[string]any, ptr func(string) string) {
	e := &vd.Event
	str := func(name string, required bool) string {
		raw, ok := attrs[name]
		if raw == nil {
			// JSON null is an unset attribute (CloudEvents JSON format).
			ok = false
		}
		if !ok {
			if required {
				vd.add(ptr(name), schemas.ReasonAttribute, "required attribute %s is missing", name)
			}
			return ""
		}
		s, ok := raw.(string)
		if !ok {
			vd.add(ptr(name), schemas.ReasonAttribute, "attribute %s must be a string, got %s", name, jsonKind(raw))
			return ""
		}
		if s == "" && required {
			vd.add(ptr(name), schemas.ReasonAttribute, "attribute %s must not be empty", name)
		}
		if msg := ceString(s); msg != "" {
			vd.add(ptr(name), schemas.ReasonAttribute, "attribute %s %s", name, msg)
		}
		return s
	}
	e.SpecVersion = str("specversion", true)
	if e.SpecVersion != "" && e.SpecVersion != SpecVersion {
		vd.add(ptr("specversion"), schemas.ReasonAttribute, "specversion %q is not supported (want %s)", e.SpecVersion, SpecVersion)
	}
	e.ID = str("id", true)
	if len(e.ID) > 256 {
		vd.add(ptr("id"), schemas.ReasonAttribute, "id is %d bytes long (UTF-8); at most 256 are accepted", len(e.ID))
	}
	e.Source = str("source", true)
	e.Type = str("type", true)
	e.Subject = str("subject", true)
	if ts := str("time", true); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !rfc3339(ts) {
			vd.add(ptr("time"), schemas.ReasonAttribute, "time %q is not an RFC 3339 timestamp (like 2024-09-01T08:00:00+08:00)", ts)
		} else {
			e.Time = t
		}
	}
	e.DataContentType = str("datacontenttype", false)
	if e.DataContentType != "" {
		mt, _, err := mime.ParseMediaType(e.DataContentType)
		if err != nil || mt != DataContentType {
			vd.add(ptr("datacontenttype"), schemas.ReasonAttribute, "datacontenttype %q is not %s", e.DataContentType, DataContentType)
		}
	}
	e.DataSchema = str("dataschema", false)
	if _, ok := attrs["data_base64"]; ok {
		vd.add(ptr("data_base64"), schemas.ReasonMalformed, "data must be a JSON object, not data_base64 (with the CloudEvents Go SDK, pass SetData a struct or map, not []byte)")
	}
	// Extensions: CloudEvents names are lower-case letters and digits, at
	// most 20 characters; values are scalars.
	for name, raw := range attrs {
		if contextAttrs[name] || name == "data" || name == "data_base64" || raw == nil {
			continue
		}
		if !validExtensionName(name) {
			vd.add(ptr(name), schemas.ReasonAttribute, "extension attribute name %q must be lower-case letters or digits, at most 20 of them (CloudEvents advises 20; anzhi requires it)", name)
			continue
		}
		var s string
		switch x := raw.(type) {
		case string:
			if msg := ceString(x); msg != "" {
				vd.add(ptr(name), schemas.ReasonAttribute, "extension attribute %s %s", name, msg)
				continue
			}
			s = x
		case json.Number:
			// CloudEvents integers are 32-bit; other numbers have no
			// CloudEvents type and would read differently elsewhere.
			n, err := strconv.ParseInt(x.String(), 10, 32)
			if err != nil {
				vd.add(ptr(name), schemas.ReasonAttribute, "extension attribute %s must be a 32-bit integer, a string or a boolean, got %s", name, x)
				continue
			}
			s = strconv.FormatInt(n, 10)
		case bool:
			s = fmt.Sprint(x)
		default:
			vd.add(ptr(name), schemas.ReasonAttribute, "extension attribute %s must be a string, number or boolean, got %s", name, jsonKind(raw))
			continue
		}
		if e.Extensions == nil {
			e.Extensions = map[string]string{}
		}
		e.Extensions[name] = s
	}
	if e.Source != "" {
		p, err := v.cat.ParseSource(e.Source)
		if err != nil {
			vd.add(ptr("source"), schemas.ReasonSource, "%v", err)
		} else {
			vd.Publisher = p
		}
	}
	if e.Type != "" {
		f, ok := v.cat.FamilyByType(e.Type)
		if !ok {
			vd.add(ptr("type"), schemas.ReasonUnknownType, "type %q is not in the catalog (anzhi schemas list)", e.Type)
		} else {
			vd.Family = f
			if e.DataSchema != "" && e.DataSchema != f.SchemaURI {
				vd.add(ptr("dataschema"), schemas.ReasonAttribute, "dataschema %q is not the schema of %s (%s)", e.DataSchema, f.Name, f.SchemaURI)
			}
		}
	}
}

func (v *Validator) checkRouting(vd *Verdict, subject string) {
	fam, area, ok := schemas.FamilyOf(subject)
	if !ok {
		vd.add("subject:"+subject, schemas.ReasonSubject, "NATS subject %q is not <domain>.<event>.<county>", subject)
		return
	}
	vd.Area = area
	if _, known := v.cat.Family(fam); !known {
		vd.add("subject:"+subject, schemas.ReasonUnknownType, "NATS subject %q names no family of the catalog", subject)
	} else if vd.Family != nil && vd.Family.Name != fam {
		vd.add("subject:"+subject, schemas.ReasonSubject, "NATS subject is for %s but the event type is %s", fam, vd.Event.Type)
	}
	if !v.cat.ValidArea(area) {
		vd.add("subject:"+subject, schemas.ReasonCounty, "county token %q is not %s or one of its counties", area, v.cat.City.Code)
		return
	}
	if vd.Family != nil && vd.Publisher.Dept != "" {
		if err := v.cat.MayPublish(vd.Publisher, vd.Family, area); err != nil {
			vd.add("/source", schemas.ReasonNotAllowed, "%v", err)
		}
	}
}

func (v *Validator) checkData(vd *Verdict, raw any, binary bool) {
	if raw == nil {
		vd.add("/data", schemas.ReasonSchema, "data is missing")
		return
	}
	vd.Event.Data = raw
	if vd.Family == nil {
		return
	}
	if _, ok := raw.(map[string]any); !ok {
		vd.add("/data", schemas.ReasonSchema, "data must be a JSON object, got %s", jsonKind(raw))
		return
	}
	vd.Violations = append(vd.Violations, schemas.WithPrefix("/data", vd.Family.Validate(raw))...)
	obj := raw.(map[string]any)
	if key, ok := obj[vd.Family.SubjectField].(string); ok && vd.Event.Subject != "" && key != vd.Event.Subject {
		attr := "/subject"
		if binary {
			attr = "ce-subject"
		}
		vd.add(attr, schemas.ReasonSubject, "subject %q must equal data.%s %q", vd.Event.Subject, vd.Family.SubjectField, key)
	}
	v.checkRelations(vd, obj)
	if vd.Area == "" || !v.cat.ValidArea(vd.Area) {
		return
	}
	// Every county field present agrees with the token: the one
	// Catalog.CountyOf routes by and any other (x-anzhi.county).
	for _, field := range vd.Family.CountyFields {
		s, ok := obj[field].(string)
		if !ok {
			continue
		}
		if code, ok := schemas.CountyIn(field, s); ok && code != vd.Area {
			vd.add("/data/"+field, schemas.ReasonCounty, "%s %q is in %s but the event is published on county token %s", field, s, code, vd.Area)
		}
	}
}

// checkRelations checks what a JSON Schema cannot: fields naming departments
// of the registry, a department speaking only for itself, and ordered pairs.
func (v *Validator) checkRelations(vd *Verdict, obj map[string]any) {
	f := vd.Family
	if f.PublisherField != "" && vd.Publisher.Dept != "" {
		if s, ok := obj[f.PublisherField].(string); ok && s != vd.Publisher.String() {
			vd.add("/data/"+f.PublisherField, schemas.ReasonNotAllowed,
				"%s %q must be the publishing department %s: a department reports only for itself", f.PublisherField, s, vd.Publisher)
		}
	}
	for _, name := range f.DepartmentFields {
		// list/field names a field of each object of a list (the owner of
		// each issue a meeting assigned).
		if list, field, ok := strings.Cut(name, "/"); ok {
			items, _ := obj[list].([]any)
			for i, it := range items {
				if o, ok := it.(map[string]any); ok {
					v.checkDepartments(vd, fmt.Sprintf("/data/%s/%d/%s", list, i, field), o[field])
				}
			}
			continue
		}
		v.checkDepartments(vd, "/data/"+name, obj[name])
	}
	for _, pair := range f.Order {
		a, b := obj[pair[0]], obj[pair[1]]
		if a == nil || b == nil {
			continue
		}
		if greater(a, b) {
			vd.add("/data/"+pair[0], schemas.ReasonSchema, "%s (%v) must not be greater than %s (%v)", pair[0], a, pair[1], b)
		}
	}
}

// checkDepartments checks that a field (a string or a list of strings)
// names departments of the registry.
func (v *Validator) checkDepartments(vd *Verdict, pointer string, value any) {
	switch x := value.(type) {
	case string:
		if !v.cat.ValidDepartment(x) {
			vd.add(pointer, schemas.ReasonSchema, "%q is not a department of the registry (anzhi schemas departments)", x)
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok && !v.cat.ValidDepartment(s) {
				vd.add(fmt.Sprintf("%s/%d", pointer, i), schemas.ReasonSchema, "%q is not a department of the registry (anzhi schemas departments)", s)
			}
		}
	}
}

// greater compares two numbers, or two strings (ISO dates), reporting a > b;
// values of other or mixed kinds are left to the schema.
func greater(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		ra, ok1 := new(big.Rat).SetString(x.String())
		rb, ok2 := new(big.Rat).SetString(y.String())
		return ok1 && ok2 && ra.Cmp(rb) > 0
	case string:
		y, ok := b.(string)
		return ok && x > y
	}
	return false
}

func escapePointer(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// ceString says what makes s unfit for a CloudEvents String ("" when
// nothing): it must be UTF-8 without control characters (U+0000–001F,
// U+007F–009F) or noncharacters.
func ceString(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return fmt.Sprintf("holds the control character U+%04X, which CloudEvents strings may not", r)
		case r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe:
			return fmt.Sprintf("holds the noncharacter U+%04X, which CloudEvents strings may not", r)
		}
	}
	return ""
}

// rfc3339 reports whether s has exactly the RFC 3339 date-time form:
// 2006-01-02T15:04:05, an optional "." and digits, then Z or ±hh:mm, with
// hours below 24 and minutes below 60 in the offset. (Go's parser also takes
// a comma before the fraction, one-digit hours and offsets such as +24:00.)
func rfc3339(s string) bool {
	digits := func(from, to int) bool {
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if len(s) < 20 || !digits(0, 4) || s[4] != '-' || !digits(5, 7) || s[7] != '-' || !digits(8, 10) ||
		(s[10] != 'T' && s[10] != 't') || !digits(11, 13) || s[13] != ':' || !digits(14, 16) || s[16] != ':' || !digits(17, 19) {
		return false
	}
	i := 19
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	switch rest := s[i:]; {
	case rest == "Z" || rest == "z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		i++
		return digits(i, i+2) && digits(i+3, i+5) && s[i:i+2] < "24" && s[i+3:i+5] < "60"
	}
	return false
}

func validExtensionName(n string) bool {
	if n == "" || len(n) > 20 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
