// Package idcard recognises, masks and pseudonymises the 18-character
// resident identity numbers of GB 11643-1999 (公民身份号码), and finds the
// 15-digit first-generation numbers and numbers written in groups too. anzhi never lets a
// raw number leave a department: ledgers turn it into a person key locally,
// and the hub refuses and redacts any event that still carries one.
package idcard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Len is the length of an identity number.
const Len = 18

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// Errors returned by Check.
var (
	ErrLength     = errors.New("an ID-card number has 18 characters")
	ErrCharacters = errors.New("an ID-card number is 17 digits and a final digit or X")
	ErrRegion     = errors.New("the region code (first 6 digits) is not a valid GB/T 2260 code")
	ErrBirthDate  = errors.New("the birth date (digits 7-14) is not a valid date")
	ErrCheckDigit = errors.New("the check digit does not match (GB 11643)")
)

// CheckDigit computes the check character for the first 17 digits.
func CheckDigit(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * weights[i]
	}
	return checkChars[sum%11]
}

// Check returns nil when s is a well-formed identity number: 17 digits, a
// plausible region code and birth date, and the right check character
// (upper- or lower-case x accepted).
func Check(s string) error {
	if len(s) != Len {
		return ErrLength
	}
	return check([]byte(s))
}

// Valid reports whether Check(s) is nil.
func Valid(s string) bool { return Check(s) == nil }

func check(b []byte) error {
	for i := 0; i < 17; i++ {
		if b[i] < '0' || b[i] > '9' {
			return ErrCharacters
		}
	}
	last := b[17]
	if last == 'x' {
		last = 'X'
	}
	if (last < '0' || last > '9') && last != 'X' {
		return ErrCharacters
	}
	if b[0] < '1' || b[0] > '8' {
		return ErrRegion
	}
	if !plausibleDate(b[6:14]) {
		return ErrBirthDate
	}
	if CheckDigit(string(b[:17])) != last {
		return ErrCheckDigit
	}
	return nil
}

func plausibleDate(d []byte) bool {
	n := func(b []byte) int {
		v := 0
		for _, c := range b {
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, m, day := n(d[:4]), n(d[4:6]), n(d[6:8])
	if y < 1880 || y > 2100 || m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 29
	}
	return day <= days
}

// Normalize upper-cases a trailing x and trims spaces.
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == Len && s[17] == 'x' {
		s = s[:17] + "X"
	}
	return s
}

// Mask hides the birth date and serial of a number: 110105********002X keeps
// the region code and the last four characters, as Chinese practice does.
func Mask(s string) string {
	if len(s) != Len {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + "********" + s[14:]
}

// Match is the position of an identity number inside a byte slice.
type Match struct{ Start, End int }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Find returns every identity number in b that stands on its own: not
// preceded or followed by an ASCII letter or digit. The boundary rule keeps
// hex digests (person keys) and longer digit runs from matching, while a
// number inside Chinese text, quotes, JSON or headers is found. Found are
// valid 18-character numbers, written as one run or in groups separated by
// single spaces or hyphens (110105 19491231 002X, 110105-19491231-002X),
// and 15-digit first-generation numbers (region, YYMMDD of a 19xx birth
// date, serial; they have no check digit), in one run or in groups.
func Find(b []byte) []Match {
	out := findRuns(b)
	extra := findGrouped(b, out)
	if len(extra) == 0 {
		return out
	}
	out = append(out, extra...)
	slices.SortFunc(out, func(x, y Match) int { return x.Start - y.Start })
	return out
}

// findRuns finds the 18-character numbers written as one run.
func findRuns(b []byte) []Match {
	var out []Match
	for i := 0; i+Len <= len(b); {
		c := b[i]
		if c < '1' || c > '8' || (i > 0 && isAlnum(b[i-1])) {
			i++
			continue
		}
		// Find the run of digits starting here.
		j := i
		for j < len(b) && j-i < 17 && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j-i < 17 {
			i = j + 1
			continue
		}
		end := i + Len
		if end <= len(b) && (end == len(b) || !isAlnum(b[end])) && check(b[i:end]) == nil {
			out = append(out, Match{i, end})
			i = end
			continue
		}
		i++
	}
	return out
}

// Len15 is the length of a first-generation (1984–2004) identity number.
const Len15 = 15

// isSep reports whether c may separate the groups of a number.
func isSep(c byte) bool { return c == ' ' || c == '-' }

// inRun reports whether c continues a run of characters a grouped or
// 15-digit number cannot be part of: a letter, a digit, or a masked digit
// (so that a masked number does not leave a shorter one behind).
func inRun(c byte) bool { return isAlnum(c) || c == '*' }

// findGrouped finds what findRuns does not: 18-character numbers written in
// groups, and 15-digit numbers. taken are the runs found already.
func findGrouped(b []byte, taken []Match) []Match {
	var out []Match
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '1' || c > '8' || i > 0 && inRun(b[i-1]) {
			continue
		}
		// Right after "5 " or "5-" this may be a group of a longer run: only
		// a number in one run can start here.
		mayGroup := !(i > 1 && isSep(b[i-1]) && inRun(b[i-2]))
		var digits [Len]byte
		n, grouped, j := 0, false, i
		for j < len(b) && n < Len {
			switch d := b[j]; {
			case d >= '0' && d <= '9' || n == Len-1 && (d == 'X' || d == 'x'):
				digits[n] = d
				n++
				j++
				continue
			case mayGroup && isSep(d) && n > 0 && j+1 < len(b) && (b[j+1] >= '0' && b[j+1] <= '9' || b[j+1] == 'X' || b[j+1] == 'x'):
				grouped = true
				j++
				continue
			}
			break
		}
		end := j
		if end < len(b) && (inRun(b[end]) || grouped && end+1 < len(b) && isSep(b[end]) && inRun(b[end+1])) {
			continue // the run goes on: a longer number, not an ID
		}
		ok := false
		switch n {
		case Len:
			ok = grouped && check(digits[:]) == nil
		case Len15:
			ok = valid15(digits[:Len15])
		}
		if !ok || overlaps(taken, i, end) {
			continue
		}
		out = append(out, Match{i, end})
		i = end - 1
	}
	return out
}

// valid15 checks a first-generation number: digits only, a region code, and
// a plausible birth date 19YYMMDD.
func valid15(d []byte) bool {
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	date := append([]byte("19"), d[6:12]...)
	return d[0] >= '1' && d[0] <= '8' && plausibleDate(date)
}

func overlaps(ms []Match, start, end int) bool {
	for _, m := range ms {
		if m.Start < end && start < m.End {
			return true
		}
	}
	return false
}

// Contains reports whether b holds at least one identity number.
func Contains(b []byte) bool { return len(Find(b)) > 0 }

// Redact returns a copy of b with every identity number masked (see Mask) and
// how many were found. The length of b is unchanged.
func Redact(b []byte) ([]byte, int) {
	ms := Find(b)
	return RedactMatches(b, ms), len(ms)
}

// RedactMatches returns b with the numbers at ms masked (see Mask): matches
// found by Find in b, or in a text of the same length that reads like b (a
// scan that blanks escapes, say). b is returned unchanged when ms is empty.
func RedactMatches(b []byte, ms []Match) []byte {
	if len(ms) == 0 {
		return b
	}
	out := append([]byte(nil), b...)
	for _, m := range ms {
		maskBirthDate(out[m.Start:m.End])
	}
	return out
}

// maskBirthDate masks the birth date of the number in b, however it is
// grouped: characters 7–14 of an 18-character number, 7–12 of a 15-digit
// one, counted without separators.
func maskBirthDate(b []byte) {
	total := 0
	for _, c := range b {
		if !isSep(c) {
			total++
		}
	}
	hi := 14
	if total == Len15 {
		hi = 12
	}
	n := 0
	for k, c := range b {
		if isSep(c) {
			continue
		}
		if n >= 6 && n < hi {
			b[k] = '*'
		}
		n++
	}
}

// PersonKey pseudonymises an identity number: the lowercase hex HMAC-SHA256
// of the normalised number under the deployment key. The same key must be
// used by every department so that keys match across ledgers.
func PersonKey(key []byte, number string) (string, error) {
	if len(key) < 16 {
		return "", fmt.Errorf("person key: the HMAC key must have at least 16 bytes, got %d", len(key))
	}
	n := Normalize(number)
	if err := Check(n); err != nil {
		return "", fmt.Errorf("person key: %w", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(n))
	return hex.EncodeToString(m.Sum(nil)), nil
}
