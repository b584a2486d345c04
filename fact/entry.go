package fact

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
)

// Entry is one accepted fact of the canonical log as the view folds it: the
// attributes it needs and the data as raw JSON, decoded lazily field by field.
// Entries come from validated log messages, so decoding trusts their shape
// and only fails on messages the hub could not have written.
type Entry struct {
	Seq      uint64    // log sequence
	Recorded time.Time // when the intake stored it (Anzhi-Received)
	Family   string    // edu.enrolment
	Area     string    // county token
	ID       string
	Source   string
	Subject  string
	Time     time.Time // when the fact took effect
	Data     []byte    // the data object, raw JSON
}

// Key is the entry's fact key (see Key).
func (e *Entry) Key() uint64 { return Key(e.Source, e.ID) }

// Dept returns the publishing department as written after /xianyang/.
func (e *Entry) Dept() string { return DeptOf(e.Source) }

// ErrNotFact means a log entry is not an accepted fact (e.g. a rejection).
var ErrNotFact = errors.New("not a fact entry")

// DecodeEntry decodes a log message on anzhi.fact.<family>.<county>.
func DecodeEntry(seq uint64, subject string, header map[string][]string, body []byte) (Entry, error) {
	e := Entry{Seq: seq}
	rest, ok := strings.CutPrefix(subject, FactSubjectPrefix)
	if !ok {
		return e, fmt.Errorf("log entry %d on %s: %w", seq, subject, ErrNotFact)
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return e, fmt.Errorf("log entry %d: malformed subject %s", seq, subject)
	}
	e.Family, e.Area = rest[:i], rest[i+1:]
	if v := first(header, HeaderReceived); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return e, fmt.Errorf("log entry %d: %s: %w", seq, HeaderReceived, err)
		}
		e.Recorded = t
	}
	var ts string
	if headerFold(header, "ce-specversion") != "" {
		// Binary mode, decided as the hub's check decides it.
		e.ID = headerFold(header, "ce-id")
		e.Source = headerFold(header, "ce-source")
		e.Subject = headerFold(header, "ce-subject")
		ts = headerFold(header, "ce-time")
		e.Data = body
	} else {
		err := Members(body, func(k, v []byte) error {
			switch string(k) {
			case "id":
				e.ID = UnquoteString(v)
			case "source":
				e.Source = UnquoteString(v)
			case "subject":
				e.Subject = UnquoteString(v)
			case "time":
				ts = UnquoteString(v)
			case "data":
				e.Data = v
			}
			return nil
		})
		if err != nil {
			return e, fmt.Errorf("log entry %d: %w", seq, err)
		}
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return e, fmt.Errorf("log entry %d: time %q: %w", seq, ts, err)
	}
	e.Time = t
	return e, nil
}

func first(h map[string][]string, k string) string {
	if vs := h[k]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func headerFold(h map[string][]string, k string) string {
	if v := first(h, k); v != "" {
		return v
	}
	for name, vs := range h {
		if len(vs) > 0 && strings.EqualFold(name, k) {
			return vs[0]
		}
	}
	return ""
}

// Members calls fn for each member of a JSON object with its key (unescaped,
// valid until fn returns) and its raw value. It validates only as much as it
// needs to find the members; the log holds JSON the hub has already checked.
func Members(b []byte, fn func(key, value []byte) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errors.New("malformed JSON object: expected a key")
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			key = []byte(UnquoteString(b[i:end]))
		}
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return errors.New("malformed JSON object: expected ':'")
		}
		i = skipWS(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(key, b[i:vend]); err != nil {
			return err
		}
		i = skipWS(b, vend)
		if i >= len(b) {
			return errors.New("malformed JSON object: unexpected end")
		}
		if b[i] == '}' {
			return nil
		}
		if b[i] != ',' {
			return errors.New("malformed JSON object: expected ',' or '}'")
		}
		i = skipWS(b, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("malformed JSON: unterminated string")
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("malformed JSON: missing value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("malformed JSON: unterminated object or array")
	default:
		j := i
	scan:
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				break scan
			}
			j++
		}
		if j == i {
			return 0, errors.New("malformed JSON: missing value")
		}
		return j, nil
	}
}

// UnquoteString returns the text of a raw JSON string value, "" when the
// value is not a string.
func UnquoteString(v []byte) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return ""
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner)
	}
	// Escaped: let the catalog's JSON decoder read it (surrogate pairs,
	// \/ and all), as it read it when the hub checked the fact.
	d, err := schemas.Decode(v)
	if err != nil {
		return ""
	}
	str, _ := d.(string)
	return str
}
