package idcard_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/idcard"
)

// fuzzAlnum mirrors the boundary rule documented on Find.
func fuzzAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// naiveFind is the reference for Find: every 18-byte window that is a valid
// number and stands on its own. Two such windows cannot overlap (each is 18
// alphanumeric bytes bounded by non-alphanumeric ones), so the set is exactly
// what Find must return.
func naiveFind(b []byte) []idcard.Match {
	var out []idcard.Match
	for i := 0; i+idcard.Len <= len(b); i++ {
		end := i + idcard.Len
		if i > 0 && fuzzAlnum(b[i-1]) || end < len(b) && fuzzAlnum(b[end]) {
			continue
		}
		if idcard.Valid(string(b[i:end])) {
			out = append(out, idcard.Match{Start: i, End: end})
		}
	}
	return out
}

// strip removes the separators of a grouped number.
func strip(s string) string { return strings.NewReplacer(" ", "", "-", "").Replace(s) }

// groupedOr15 is the reference for what Find finds beyond numbers in one
// run: a valid 18-character number written in groups, or a 15-digit
// first-generation number (region, a 19YYMMDD birth date, serial).
func groupedOr15(s string) bool {
	d := strip(s)
	switch len(d) {
	case idcard.Len:
		return d != s && idcard.Valid(d)
	case 15:
		for _, c := range []byte(d) {
			if c < '0' || c > '9' {
				return false
			}
		}
		_, err := time.Parse("20060102", "19"+d[6:12])
		return d[0] >= '1' && d[0] <= '8' && err == nil
	}
	return false
}

func FuzzFind(f *testing.F) {
	const id = "11010519491231002X"
	for _, s := range []string{
		"",
		id,
		`{"note":"` + id + `"}`,
		"身份证号" + id + "已核实",
		`{"n":610424198503151234}`,
		id + " 610424198503151234",
		id + id,
		id + "," + id,
		"610424198503151235",
		"1610424198503151234",
		"6104241985031512340",
		"ab610424198503151234cd",
		"11010519491231002x",
		"11010519491231002xy",
		"1101051949123100211010519491231002X",
		"110105********002X",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"11111111111111111111111111111111111111",
		"610424200002290000 610424190002290000 610424210002290000",
		"\xff11010519491231002X\xff",
		"11010519491231002",
		"110105 19491231 002X",
		"110105-19491231-002X",
		"1101 0519 4912 3100 2X",
		"110105491231002",
		"身份证110105491231002。",
		"1 110105491231002",
		"110105 491231 002",
		"110105-19491231-002X-1",
		"1101051949123100 2X",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		ms := idcard.Find(b)
		if !bytes.Equal(b, orig) {
			t.Fatalf("Find modified its input")
		}
		// Every number written in one run is found, as the reference finds
		// it; anything else found is a grouped or a 15-digit number.
		want := naiveFind(b)
		for _, w := range want {
			if !slices.Contains(ms, w) {
				t.Fatalf("Find(%q) = %v, misses %v the reference finds", b, ms, w)
			}
		}
		prevEnd := 0
		for _, m := range ms {
			if m.Start < prevEnd || m.End > len(b) {
				t.Fatalf("Find(%q): bad match %v (previous end %d)", b, m, prevEnd)
			}
			if s := string(b[m.Start:m.End]); !slices.Contains(want, m) && !groupedOr15(s) {
				t.Fatalf("Find(%q): match %v = %q is neither a number in one run nor a grouped or 15-digit one", b, m, s)
			}
			prevEnd = m.End
		}
		if got := idcard.Contains(b); got != (len(ms) > 0) {
			t.Fatalf("Contains(%q) = %v, Find found %d", b, got, len(ms))
		}

		red, n := idcard.Redact(b)
		if !bytes.Equal(b, orig) {
			t.Fatalf("Redact modified its input")
		}
		if n != len(ms) {
			t.Fatalf("Redact(%q) counted %d, Find found %d", b, n, len(ms))
		}
		if len(red) != len(b) {
			t.Fatalf("Redact(%q) changed the length: %d → %d", b, len(b), len(red))
		}
		if left := idcard.Find(red); len(left) > 0 {
			t.Fatalf("Redact(%q) = %q still holds numbers at %v", b, red, left)
		}
		// Only the birth date (characters 7-14, of a 15-digit number 7-12,
		// counted without separators) of each match changes.
		masked := make([]bool, len(b))
		for _, m := range ms {
			n, hi := 0, 14
			if len(strip(string(b[m.Start:m.End]))) == 15 {
				hi = 12
			}
			for i := m.Start; i < m.End; i++ {
				if b[i] == ' ' || b[i] == '-' {
					continue
				}
				masked[i] = n >= 6 && n < hi
				n++
			}
		}
		for i := range b {
			switch {
			case masked[i] && red[i] != '*':
				t.Fatalf("Redact(%q) = %q: byte %d not masked", b, red, i)
			case !masked[i] && red[i] != b[i]:
				t.Fatalf("Redact(%q) = %q: byte %d changed outside a number", b, red, i)
			}
		}
		for _, m := range want {
			s := string(b[m.Start:m.End])
			if got, want := idcard.Mask(s), string(red[m.Start:m.End]); got != want {
				t.Fatalf("Mask(%q) = %q, Redact wrote %q", s, got, want)
			}
		}
	})
}
