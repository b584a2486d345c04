package hubtest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// TestIDNumbersIn: the scan the ID-number tests rely on finds a number
// however it is hidden, and only as deep as asked.
func TestIDNumbersIn(t *testing.T) {
	const id = "11010519491231002X" // GB 11643's example, valid check digit
	var escaped strings.Builder
	for _, c := range id {
		fmt.Fprintf(&escaped, `\u%04x`, c)
	}
	body := `{"data":{"note":"` + escaped.String() + `"}}`
	for _, tt := range []struct {
		name  string
		in    string
		depth int
		want  int
	}{
		{"in the bytes", "x " + id + " y", 0, 1},
		{"wrong check digit", "110105194912310021", 3, 0},
		{"JSON escape, not read", `{"a":"` + escaped.String() + `"}`, 0, 0},
		{"after an escape, not JSON", `{"note":"\n` + id + `"`, 1, 1},
		{"after a \\u escape, not JSON", `{"note":"\u4e2d` + id + `",}`, 1, 1},
		{"after an escape, not read", `{"note":"\n` + id + `"`, 0, 0},
		{"full-width", `{"a":"１１０１０５１９４９１２３１００２Ｘ"}`, 1, 1},
		{"twice", `{"a":"` + id + `","b":"` + id + `"}`, 3, 1},
		{"after a letter", `{"a":"ID` + id + `"}`, 3, 0},
		{"JSON escape, decoded", `{"a":"` + escaped.String() + `"}`, 1, 1},
		{"in a key", `{"` + escaped.String() + `":1}`, 1, 1},
		{"JSON in a string", `{"body":` + fmt.Sprintf("%q", body) + `}`, 2, 1},
		{"JSON in a string, too deep", `{"body":` + fmt.Sprintf("%q", body) + `}`, 1, 0},
		{"base64 body", `{"body_base64":"` + base64.StdEncoding.EncodeToString([]byte(body)) + `"}`, 2, 1},
		{"base64 body, too deep", `{"body_base64":"` + base64.StdEncoding.EncodeToString([]byte(body)) + `"}`, 1, 0},
		{"nothing", `{"a":"610424"}`, 3, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := IDNumbersIn([]byte(tt.in), tt.depth)
			if len(got) != tt.want {
				t.Fatalf("found %q, want %d", got, tt.want)
			}
			for _, g := range got {
				if g != id {
					t.Errorf("found %q, want %q", g, id)
				}
			}
		})
	}
}
