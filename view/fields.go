package view

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strconv"

	"github.com/xianyang/anzhi/fact"
)

// fields are the top-level members of a fact's data, raw, looked up by name.
// Facts have a dozen fields at most, so a small array beats a map.
type fields struct {
	k [24][]byte
	v [24][]byte
	n int
}

func (f *fields) parse(data []byte) {
	f.n = 0
	_ = fact.Members(data, func(k, v []byte) error {
		if f.n < len(f.k) {
			f.k[f.n], f.v[f.n] = k, v
			f.n++
		}
		return nil
	})
}

func (f *fields) raw(name string) []byte {
	for i := 0; i < f.n; i++ {
		if string(f.k[i]) == name {
			return f.v[i]
		}
	}
	return nil
}

func (f *fields) str(name string) string { return fact.UnquoteString(f.raw(name)) }

// is reports whether a string field equals want, without allocating unless
// the value is written with escapes ("moved\u005faway" is moved_away, as
// the schema saw it).
func (f *fields) is(name, want string) bool {
	v := f.raw(name)
	if bytes.IndexByte(v, '\\') >= 0 {
		return f.str(name) == want
	}
	return len(v) == len(want)+2 && v[0] == '"' && string(v[1:len(v)-1]) == want
}

// int reads an integer field. JSON Schema counts 4.0 and 4e0 as the integer
// 4 (ledgers exported through spreadsheets write them so); those are read
// exactly too.
func (f *fields) int(name string) int64 {
	v := f.raw(name)
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n
	}
	if r, ok := new(big.Rat).SetString(string(v)); ok && r.IsInt() && r.Num().IsInt64() {
		return r.Num().Int64()
	}
	return 0
}

// fen reads an amount in yuan as an integer number of fen (see Fen).
func (f *fields) fen(name string) int64 { return Fen(f.raw(name)) }

// Fen reads an amount in yuan, a JSON number, as an integer number of fen
// (0.01 yuan), exactly: amounts have at most two decimals. Plain decimals
// are read without allocating; any other number form the schema accepts
// (1.5e3, -0.5) through exact rational arithmetic. Everything that adds up
// money reads it so.
func Fen(v []byte) int64 {
	var whole, frac int64
	digits, seenDot := 0, false
	for _, c := range v {
		switch {
		case c == '.' && !seenDot:
			seenDot = true
		case c >= '0' && c <= '9' && !seenDot && whole < 1e15:
			whole = whole*10 + int64(c-'0')
		case c >= '0' && c <= '9' && seenDot && digits < 2:
			frac = frac*10 + int64(c-'0')
			digits++
		default:
			return fenExact(v)
		}
	}
	if len(v) == 0 {
		return 0
	}
	for ; digits < 2; digits++ {
		frac *= 10
	}
	return whole*100 + frac
}

func fenExact(v []byte) int64 {
	r, ok := new(big.Rat).SetString(string(v))
	if !ok {
		return 0
	}
	r.Mul(r, big.NewRat(100, 1))
	n := new(big.Int).Quo(r.Num(), r.Denom()) // amounts have at most two decimals
	if !n.IsInt64() {
		return 0
	}
	return n.Int64()
}

func (f *fields) bool(name string) bool { return string(f.raw(name)) == "true" }

func (f *fields) day(name string) day { return parseDay(f.str(name)) }

func (f *fields) has(name string) bool { return f.raw(name) != nil }

// personKey decodes a 64-hex person key.
func personKey(s string) ([32]byte, bool) {
	var k [32]byte
	if len(s) != 64 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(s))
	return k, err == nil
}

// householdKey encodes H610424-000123 as 610424·10^8 + 123, with a flag
// bit for the seven-digit form so that the id can be written back exactly.
func householdKey(s string) (uint64, bool) {
	if len(s) < 9 || s[0] != 'H' || s[7] != '-' || len(s) > 15 {
		return 0, false
	}
	county, err := strconv.ParseUint(s[1:7], 10, 32)
	if err != nil {
		return 0, false
	}
	serial, err := strconv.ParseUint(s[8:], 10, 32)
	if err != nil || serial >= 1e8 {
		return 0, false
	}
	k := county*1e8 + serial
	if len(s)-8 == 7 {
		k |= hh7
	}
	return k, true
}

const hh7 = 1 << 62

func householdID(k uint64) string {
	width := 6
	if k&hh7 != 0 {
		width = 7
	}
	k &^= hh7
	return "H" + strconv.FormatUint(k/1e8, 10) + "-" + pad(k%1e8, width)
}

func pad(n uint64, width int) string {
	s := strconv.FormatUint(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func countyOfHousehold(k uint64) string { return strconv.FormatUint((k&^hh7)/1e8, 10) }
