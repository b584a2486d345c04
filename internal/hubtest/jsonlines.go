package hubtest

import (
	"bufio"
	"encoding/json"
	"io"
	"testing"
)

// JSONLines decodes r, one JSON value of type T a line (the NDJSON of anzhi
// replay and GET /api/v1/events), failing the test on a line that is not.
func JSONLines[T any](t testing.TB, r io.Reader) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading JSON lines: %v", err)
	}
	return out
}
