// Package idcard recognises, masks and pseudonymises the 18-character
// resident identity numbers of GB 11643-1999 (公民身份号码). anzhi never lets a
// raw number leave a department: ledgers turn it into a person key locally,
// and the hub refuses and redacts any event that still carries one.
package idcard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

// Find returns every valid identity number in b that stands on its own: not
// preceded or followed by an ASCII letter or digit. The boundary rule keeps
// hex digests (person keys) and longer digit runs from matching, while a
// number inside Chinese text, quotes, JSON or headers is found.
func Find(b []byte) []Match {
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
		copy(out[m.Start+6:m.Start+14], "********")
	}
	return out
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
