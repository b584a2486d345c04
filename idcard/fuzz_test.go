package idcard_test

import (
	"bytes"
	"testing"

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
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		ms := idcard.Find(b)
		if !bytes.Equal(b, orig) {
			t.Fatalf("Find modified its input")
		}
		want := naiveFind(b)
		if len(ms) != len(want) {
			t.Fatalf("Find(%q) = %v, reference finds %v", b, ms, want)
		}
		prevEnd := 0
		for i, m := range ms {
			if m != want[i] {
				t.Fatalf("Find(%q) = %v, reference finds %v", b, ms, want)
			}
			if m.Start < prevEnd || m.End-m.Start != idcard.Len || m.End > len(b) {
				t.Fatalf("Find(%q): bad match %v (previous end %d)", b, m, prevEnd)
			}
			if s := string(b[m.Start:m.End]); !idcard.Valid(s) {
				t.Fatalf("Find(%q): match %v = %q is not Valid: %v", b, m, s, idcard.Check(s))
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
		// Only the birth date and serial (characters 7-14) of each match change.
		masked := make([]bool, len(b))
		for _, m := range ms {
			for i := m.Start + 6; i < m.Start+14; i++ {
				masked[i] = true
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
		for _, m := range ms {
			s := string(b[m.Start:m.End])
			if got, want := idcard.Mask(s), string(red[m.Start:m.End]); got != want {
				t.Fatalf("Mask(%q) = %q, Redact wrote %q", s, got, want)
			}
		}
	})
}
