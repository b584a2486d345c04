package hub

import (
	"slices"
	"testing"
)

func TestRetainedSnapshots(t *testing.T) {
	seq := func(n int) []uint64 {
		var out []uint64
		for i := 1; i <= n; i++ {
			out = append(out, uint64(i*100))
		}
		return out
	}
	for _, c := range []struct {
		name          string
		seqs          []uint64
		newest, older int
		want          []uint64
	}{
		{"few", seq(3), 3, 8, seq(3)},
		{"none older", seq(5), 3, -1, []uint64{300, 400, 500}},
		{"all fit", seq(6), 3, 3, seq(6)},
		{"one too many", seq(5), 3, 1, []uint64{100, 300, 400, 500}},
		{"spread", seq(13), 3, 4, []uint64{100, 500, 700, 900, 1100, 1200, 1300}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := retainedSnapshots(c.seqs, c.newest, c.older)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	// Many snapshots: the oldest and the newest stay, and the gaps stay
	// within twice an even spread.
	got := retainedSnapshots(seq(1000), 3, 8)
	if len(got) != 11 || got[0] != 100 || got[len(got)-1] != 100000 {
		t.Fatalf("kept %v", got)
	}
	even := uint64(99700-100) / 8
	for i := 1; i < len(got)-3; i++ {
		if gap := got[i] - got[i-1]; gap > 2*even {
			t.Errorf("gap %d between %d and %d, more than twice %d: %v", gap, got[i-1], got[i], even, got)
		}
	}
}
