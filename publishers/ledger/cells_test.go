package ledger

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, want  string
		withError bool
	}{
		{in: "2020-09-01", want: "2020-09-01"},
		{in: "2020/9/1", want: "2020-09-01"},
		{in: "2020.9.1", want: "2020-09-01"},
		{in: "2020年9月1日", want: "2020-09-01"},
		{in: " 2020 年 9 月 1 日 ", want: "2020-09-01"},
		{in: "20200901", want: "2020-09-01"},
		{in: "2020-09-01 08:30:00", want: "2020-09-01"},
		{in: "44075", want: "2020-09-01"}, // Excel serial
		{in: "44075.5", want: "2020-09-01"},
		{in: "61", want: "1900-03-01"},
		{in: "1", want: "1900-01-01"},
		{in: "2020-13-01", withError: true},
		{in: "2020-02-30", withError: true},
		{in: "2021-02-29", withError: true},
		{in: "九月一日", withError: true},
		{in: "0", withError: true},
	}
	for _, tt := range tests {
		got, err := parseDate(tt.in)
		if (err != nil) != tt.withError || got != tt.want {
			t.Errorf("parseDate(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.withError)
		}
	}
}

func TestParseYear(t *testing.T) {
	tests := []struct {
		in        string
		want      int64
		withError bool
	}{
		{in: "1978", want: 1978}, {in: "1978年", want: 1978}, {in: "1978-05-02", want: 1978},
		{in: "1978年5月", want: 1978}, {in: "1978-05", want: 1978}, {in: "28612", want: 1978},
		{in: "二〇二一", withError: true},
	}
	for _, tt := range tests {
		got, err := parseYear(tt.in)
		if (err != nil) != tt.withError || got != tt.want {
			t.Errorf("parseYear(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.withError)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in        string
		want      json.Number
		withError bool
	}{
		{in: "1234.50", want: "1234.50"}, {in: "1,234.5", want: "1234.5"}, {in: "¥280", want: "280"},
		{in: "620元", want: "620"}, {in: "0.30000000000000004", want: "0.3"}, {in: "007", want: "7"},
		{in: "12.345", withError: true}, {in: "-5", withError: true}, {in: "abc", withError: true},
	}
	for _, tt := range tests {
		got, err := parseAmount(tt.in)
		if (err != nil) != tt.withError || got != tt.want {
			t.Errorf("parseAmount(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.withError)
		}
	}
}

func TestParseInt(t *testing.T) {
	for in, want := range map[string]int64{"3": 3, "3.0": 3, "4人": 4, "3年级": 3, "1,200": 1200} {
		if got, err := parseInt(in); err != nil || got != want {
			t.Errorf("parseInt(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseInt("3.5"); err == nil {
		t.Error("parseInt(3.5): no error")
	}
}

func TestPersonKeyCell(t *testing.T) {
	imp := &importer{key: []byte("0123456789abcdef")}
	for _, in := range []string{"6.10424199E+17", "610424199003151234.0"} {
		_, err := imp.personKey(in)
		if err == nil || !contains(err.Error(), "stored as a number") {
			t.Errorf("personKey(%q) = %v, want a stored-as-number error", in, err)
		}
	}
	k1, err1 := imp.personKey("11010519491231002X")
	k2, err2 := imp.personKey(" 11010519491231002x ")
	if err1 != nil || err2 != nil || k1 != k2 || len(k1) != 64 {
		t.Errorf("person keys %q %v, %q %v: want equal 64-hex keys", k1, err1, k2, err2)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
