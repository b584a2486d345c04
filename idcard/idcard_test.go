package idcard_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/idcard"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in      string
		withErr error
	}{
		{"11010519491231002X", nil},
		{"11010519491231002x", nil},
		{"610424198503151234", nil},
		{"610402201001010016", nil},
		{"610424198503151235", idcard.ErrCheckDigit},
		{"11010519491231002", idcard.ErrLength},
		{"11010519491231002XX", idcard.ErrLength},
		{"11010519491231A02X", idcard.ErrCharacters},
		{"01010519491231002X", idcard.ErrRegion},
		{"110105194913310021", idcard.ErrBirthDate},
		{"110105190002300020", idcard.ErrBirthDate}, // 1900-02-30
	} {
		err := idcard.Check(tc.in)
		if tc.withErr == nil && err != nil {
			t.Errorf("Check(%q) = %v, want nil", tc.in, err)
		}
		if tc.withErr != nil && !errors.Is(err, tc.withErr) {
			t.Errorf("Check(%q) = %v, want %v", tc.in, err, tc.withErr)
		}
	}
}

func TestFind(t *testing.T) {
	const id = "11010519491231002X"
	for _, tc := range []struct {
		name string
		in   string
		want int
	}{
		{"json string", `{"note":"` + id + `"}`, 1},
		{"chinese text", "身份证号" + id + "已核实", 1},
		{"json number", `{"n":610424198503151234}`, 1},
		{"two", id + " " + "610424198503151234", 2},
		{"bad check digit", "610424198503151235", 0},
		{"longer digit run", "1" + "610424198503151234", 0},
		{"followed by digit", "6104241985031512340", 0},
		{"inside hex", "ab610424198503151234cd", 0},
		{"after letter", "ID610424198503151234", 0},
		{"person key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0},
		{"empty", "", 0},
		{"grouped with spaces", "身份证号 110105 19491231 002X 已核实", 1},
		{"grouped with hyphens", `{"note":"110105-19491231-002X"}`, 1},
		{"grouped in fours", "1101 0519 4912 3100 2X", 1},
		{"grouped, bad check digit", "110105 19491231 0021", 0},
		{"grouped, run goes on", "110105-19491231-002X-7", 0},
		{"15 digits", `{"old_id":"110105491231002"}`, 1},
		{"15 digits grouped", "110105 491231 002", 1},
		{"15 digits after a number", "1 110105491231002", 1},
		{"15 digits, no such date", "110105491331002", 0},
		{"16 digits", "1101054912310021", 0},
		{"two grouped", "110105 19491231 002X, 610424 19850315 1234", 2},
		{"a date", "2020-09-01", 0},
		{"a phone number", "029-8888 8888", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(idcard.Find([]byte(tc.in))); got != tc.want {
				t.Errorf("Find(%q) found %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	in := []byte(`{"a":"11010519491231002X","b":"x 610424198503151234"}`)
	out, n := idcard.Redact(in)
	if got, want := n, 2; got != want {
		t.Fatalf("Redact found %d, want %d", got, want)
	}
	if got, want := string(out), `{"a":"110105********002X","b":"x 610424********1234"}`; got != want {
		t.Errorf("Redact = %s, want %s", got, want)
	}
	if len(idcard.Find(out)) != 0 {
		t.Error("redacted output still holds a number")
	}
	out, n = idcard.Redact([]byte("号 110105 19491231 002X 旧号 110105491231002"))
	if got, want := string(out), "号 110105 ******** 002X 旧号 110105******002"; n != 2 || got != want {
		t.Errorf("Redact of grouped and 15-digit numbers = %s (%d), want %s", got, n, want)
	}
	if got, want := idcard.Mask("11010519491231002X"), "110105********002X"; got != want {
		t.Errorf("Mask = %s, want %s", got, want)
	}
}

func TestPersonKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, err := idcard.PersonKey(key, "11010519491231002x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := idcard.PersonKey(key, " 11010519491231002X ")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("person key depends on case/space: %s vs %s", a, b)
	}
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("person key %q is not 64 lowercase hex", a)
	}
	other, _ := idcard.PersonKey([]byte("another key of sixteen+ bytes"), "11010519491231002X")
	if other == a {
		t.Error("person key does not depend on the deployment key")
	}
	if _, err := idcard.PersonKey(key, "110105194912310021"); !errors.Is(err, idcard.ErrCheckDigit) {
		t.Errorf("invalid number: err = %v, want ErrCheckDigit", err)
	}
	if _, err := idcard.PersonKey([]byte("short"), "11010519491231002X"); err == nil {
		t.Error("short key accepted")
	}
}
