package fact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/schemas"
)

// scanIDNumbers looks for raw ID-card numbers everywhere a message can carry
// one: the NATS subject, header names and values, the body, and — because a
// JSON escape hides a number from a byte scan — the decoded strings and keys.
func (v *Validator) scanIDNumbers(vd *Verdict, m Message, attrs map[string]any) {
	const advice = "publish person_key (HMAC of the number) instead"
	if n := idNumbersIn(m.Subject); n > 0 {
		vd.IDNumbers += n
		vd.add("subject:"+m.Subject, schemas.ReasonIDNumber, "a raw ID-card number is present in the NATS subject")
	}
	for _, k := range sortedHeaderNames(m.Header) {
		if n := idNumbersIn(k); n > 0 {
			vd.IDNumbers += n
			vd.add("header:"+k, schemas.ReasonIDNumber, "a raw ID-card number is present in a header name")
		}
		for _, val := range m.Header[k] {
			if n := idNumbersIn(val); n > 0 {
				vd.IDNumbers += n
				vd.add("header:"+k, schemas.ReasonIDNumber, "a raw ID-card number is present in header %s", k)
			}
		}
	}
	_, inBody := findIDNumbers(m.Data)
	raw := len(inBody)
	if raw == 0 && bytes.IndexByte(m.Data, '\\') < 0 {
		return
	}
	// Any escape (\n, \u53f7, …) can hide a number from the byte scan, by
	// standing next to it as letters do: look at the decoded strings.
	// Locate the numbers in the decoded body.
	var root any
	prefix := ""
	switch {
	case attrs != nil && vd.Event.Mode == Binary:
		root, prefix = attrs["data"], "/data"
	case attrs != nil:
		root = attrs
	default:
		root, _ = schemas.Decode(m.Data) // a non-object body still holds values
	}
	ptrs := idPointers(root, prefix)
	for _, p := range ptrs {
		vd.add(p, schemas.ReasonIDNumber, "a raw ID-card number is present; %s", advice)
	}
	found := max(raw, len(ptrs))
	if found > 0 && len(ptrs) == 0 {
		vd.add("", schemas.ReasonIDNumber, "%d raw ID-card number(s) present in the message body; %s", raw, advice)
	}
	vd.IDNumbers += found
}

// unescapeDigits returns b with every JSON escape of an ASCII digit or of X/x
// (\u0030-\u0039, \u0058, \u0078) replaced by the character itself. The
// result means the same JSON, and a byte scan now sees numbers that escapes
// were hiding. b is returned unchanged when it has no such escape.
func unescapeDigits(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+5 < len(b) && b[i+1] == 'u' && b[i+2] == '0' && b[i+3] == '0' {
			if c, ok := escapedChar(b[i+4], b[i+5]); ok {
				// Only an escape, not an escaped backslash followed by "u".
				if backslashesBefore(b, i)%2 == 0 {
					out = append(out, c)
					i += 5
					continue
				}
			}
		}
		out = append(out, b[i])
	}
	return out
}

// findIDNumbers finds the ID-card numbers a JSON text holds in its strings,
// numbers and keys, even where the text is not valid JSON. u is the text with
// escaped digits written out (unescapeDigits); the matches are offsets in u.
// An escape counts as the boundary it decodes to: "\n" or "\u4e2d" just
// before a number is not the letter n or d. The bytes as they are are
// scanned too, so a stray backslash hides nothing either.
func findIDNumbers(b []byte) (u []byte, ms []idcard.Match) {
	u = foldFullWidth(unescapeDigits(b))
	ms = idcard.Find(u)
	if bytes.IndexByte(u, '\\') < 0 {
		return u, ms
	}
	scan := append([]byte(nil), u...)
	for i := 0; i < len(scan); i++ {
		if scan[i] != '\\' || i+1 >= len(scan) {
			continue
		}
		n := 1 // a backslash that starts no escape
		switch c := scan[i+1]; {
		case c == 'u' && i+6 <= len(scan) && isHex(scan[i+2:i+6]):
			n = 6
		case strings.IndexByte(`"\\/bfnrt`, c) >= 0:
			n = 2
		}
		for j := i; j < i+n; j++ {
			scan[j] = ' '
		}
		i += n - 1
	}
	for _, m := range idcard.Find(scan) {
		if !slices.ContainsFunc(ms, func(x idcard.Match) bool { return x.Start < m.End && m.Start < x.End }) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b idcard.Match) int { return a.Start - b.Start })
	return u, ms
}

// idNumbersIn counts the ID-card numbers in s, found as findIDNumbers finds
// them.
func idNumbersIn(s string) int {
	_, ms := findIDNumbers([]byte(s))
	return len(ms)
}

// foldFullWidth writes full-width digits and X (０-９, Ｘ, ｘ), which a
// Chinese input method in full-width mode types, as ASCII, so that a number
// typed that way is found and masked like any other. b is returned as it is
// when it has none.
func foldFullWidth(b []byte) []byte {
	if bytes.IndexByte(b, 0xef) < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0xef && i+2 < len(b) {
			switch {
			case b[i+1] == 0xbc && b[i+2] >= 0x90 && b[i+2] <= 0x99: // U+FF10–FF19
				out = append(out, '0'+b[i+2]-0x90)
				i += 2
				continue
			case b[i+1] == 0xbc && b[i+2] == 0xb8: // U+FF38 Ｘ
				out = append(out, 'X')
				i += 2
				continue
			case b[i+1] == 0xbd && b[i+2] == 0x98: // U+FF58 ｘ
				out = append(out, 'x')
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func escapedChar(h1, h2 byte) (byte, bool) {
	switch {
	case h1 == '3' && h2 >= '0' && h2 <= '9':
		return h2, true
	case h1 == '5' && h2 == '8':
		return 'X', true
	case h1 == '7' && h2 == '8':
		return 'x', true
	}
	return 0, false
}

func backslashesBefore(b []byte, i int) int {
	n := 0
	for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
		n++
	}
	return n
}

// idPointers walks a decoded JSON value and returns the pointers of strings,
// numbers and object keys holding an ID-card number.
func idPointers(v any, at string) []string {
	var out []string
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := at + "/" + escapePointer(k)
				if idNumbersIn(k) > 0 {
					out = append(out, p)
				}
				walk(x[k], p)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s/%d", at, i))
			}
		case string:
			if idNumbersIn(x) > 0 {
				out = append(out, at)
			}
		case json.Number:
			if idNumbersIn(string(x)) > 0 {
				out = append(out, at)
			}
		}
	}
	walk(v, at)
	return out
}
