package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of decoded JSON.
const MaxDepth = 64

// SyntaxError locates malformed JSON.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Msg)
}

// ErrDuplicateKey is wrapped by the SyntaxError of an object with a repeated
// key. Parsers disagree on which duplicate wins, so a fact that says two
// things at once is refused rather than read one way here and another
// elsewhere.
var ErrDuplicateKey = errors.New("duplicate object key")

// Decode parses JSON into the values the validators expect: map[string]any,
// []any, string, json.Number, bool and nil. It is stricter than encoding/json
// (invalid UTF-8, duplicate keys and nesting deeper than MaxDepth are errors)
// and several times faster, since every fact is decoded on its way in.
func Decode(b []byte) (any, error) {
	d := decoder{b: b}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.i != len(d.b) {
		return nil, d.errorf("data after the top-level value")
	}
	return v, nil
}

type decoder struct {
	b   []byte
	i   int
	buf []byte
}

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: d.i, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.b[d.i]; {
	case c == '{':
		if depth >= MaxDepth {
			return nil, d.errorf("nesting deeper than %d", MaxDepth)
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= MaxDepth {
			return nil, d.errorf("nesting deeper than %d", MaxDepth)
		}
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	default:
		return nil, d.errorf("unexpected character %q", c)
	}
}

func (d *decoder) literal(word string, v any) (any, error) {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return nil, d.errorf("invalid literal (expected %s)", word)
	}
	d.i += len(word)
	return v, nil
}

func (d *decoder) object(depth int) (any, error) {
	d.i++ // {
	m := make(map[string]any, 8)
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, d.errorf("expected a string key")
		}
		at := d.i
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, &SyntaxError{Offset: at, Msg: fmt.Sprintf("%v %q", ErrDuplicateKey, k)}
		}
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, d.errorf("expected ':' after key %q", k)
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, d.errorf("unexpected end of input in an object")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, nil
		default:
			return nil, d.errorf("expected ',' or '}' in an object")
		}
	}
}

// Is lets errors.Is(err, ErrDuplicateKey) see through a SyntaxError.
func (e *SyntaxError) Is(target error) bool {
	return target == ErrDuplicateKey && len(e.Msg) >= len(ErrDuplicateKey.Error()) &&
		e.Msg[:len(ErrDuplicateKey.Error())] == ErrDuplicateKey.Error()
}

func (d *decoder) array(depth int) (any, error) {
	d.i++ // [
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, d.errorf("unexpected end of input in an array")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, nil
		default:
			return nil, d.errorf("expected ',' or ']' in an array")
		}
	}
}

func (d *decoder) number() (any, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, d.errorf("invalid number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, d.errorf("invalid number: no digits after '.'")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.errorf("invalid number: no digits in the exponent")
		}
	}
	return json.Number(d.b[start:d.i]), nil
}

// str reads a string starting at the opening quote.
func (d *decoder) str() (string, error) {
	d.i++ // "
	start := d.i
	// Fast path: no escapes, ASCII or valid UTF-8.
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if v, ok := interned[string(s)]; ok {
				return v, nil
			}
			return string(s), nil
		case c == '\\':
			return d.slowStr(start)
		case c < 0x20:
			return "", d.errorf("control character %#02x in a string", c)
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			d.i += size
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *decoder) slowStr(start int) (string, error) {
	buf := append(d.buf[:0], d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			d.buf = buf
			return string(buf), nil
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return "", d.errorf("unterminated escape")
			}
			e := d.b[d.i]
			d.i++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := d.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					// A surrogate pair is two escapes. A lone half encodes no
					// character: encoding/json reads it as U+FFFD, other
					// readers differently, so it is refused (as invalid
					// UTF-8 is) rather than stored to be read two ways.
					if d.i+6 <= len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						r2, err := d.hex4()
						if err == nil {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								buf = utf8.AppendRune(buf, dec)
								continue
							}
						}
						d.i = save
					}
					return "", d.errorf("lone UTF-16 surrogate \\u%04x in a string: it encodes no character", r)
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.errorf("invalid escape \\%c", e)
			}
		case c < 0x20:
			return "", d.errorf("control character %#02x in a string", c)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			buf = append(buf, d.b[d.i:d.i+size]...)
			d.i += size
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *decoder) hex4() (rune, error) {
	if d.i+4 > len(d.b) {
		return 0, d.errorf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 16)
	if err != nil {
		return 0, d.errorf("invalid \\u escape")
	}
	d.i += 4
	return rune(v), nil
}

// interned holds the strings facts repeat most — attribute and field names,
// enum values — so that decoding them allocates nothing. It is filled once,
// at package initialisation, from the embedded schemas, and only read after.
var interned = func() map[string]string {
	m := map[string]string{}
	add := func(s string) { m[s] = s }
	for _, a := range []string{"specversion", "id", "source", "type", "subject", "time",
		"datacontenttype", "dataschema", "data", "data_base64", "1.0", "application/json"} {
		add(a)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "properties" {
					if props, ok := e.(map[string]any); ok {
						for name := range props {
							add(name)
						}
					}
				}
				if k == "enum" || k == "const" {
					if vals, ok := e.([]any); ok {
						for _, s := range vals {
							if s, ok := s.(string); ok {
								add(s)
							}
						}
					}
					if s, ok := e.(string); ok {
						add(s)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	entries, _ := files.ReadDir("catalog")
	for _, e := range entries {
		b, err := files.ReadFile("catalog/" + e.Name())
		if err != nil {
			continue
		}
		var doc any
		if json.Unmarshal(b, &doc) == nil {
			walk(doc)
		}
	}
	return m
}()
