package hub

import (
	"bufio"
	"bytes"
	"maps"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestKeyIndexRollback: appends the log never stored are forgotten and the
// hub's own submissions among them handed back in order; stored ones stay.
func TestKeyIndexRollback(t *testing.T) {
	cat := schemas.MustLoad()
	edu, err := cat.ParseSource("/xianyang/edu")
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyIndex(cat)
	tick := &submission{}
	k.appended(101, 1, edu, nil)
	k.appended(102, 2, edu, tick)
	k.appended(103, 3, edu, nil)
	k.appended(104, 4, edu, tick)
	k.confirmed(1)
	if n := k.unconfirmed(); n != 3 {
		t.Fatalf("%d unconfirmed after confirming 1, want 3", n)
	}
	// The log ends at 3; entry 3 holds another fact (someone else's append).
	again := k.rollback(3, map[uint64]uint64{3: 999})
	if len(again) != 1 {
		t.Errorf("%d submissions handed back, want 1 (the one at 4)", len(again))
	}
	for key, want := range map[uint64]bool{101: true, 102: true, 103: false, 104: false} {
		if k.seen(key) != want {
			t.Errorf("key %d seen %v after rollback, want %v", key, !want, want)
		}
	}
	if seq, pub, ok := k.resolve(102); !ok || seq != 2 || pub != edu {
		t.Errorf("resolve(102) = %d, %v, %v; want 2, %v, true", seq, pub, ok, edu)
	}
	if k.unconfirmed() != 0 {
		t.Error("rollback left appends to roll back")
	}
}

// TestKeyIndexSnapshot: a snapshot holds the keys up to its log sequence
// and reads back as it was written.
func TestKeyIndexSnapshot(t *testing.T) {
	cat := schemas.MustLoad()
	edu, _ := cat.ParseSource("/xianyang/edu")
	k := newKeyIndex(cat)
	for i := uint64(1); i <= 5; i++ {
		k.appended(1000-i, i, edu, nil)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	k.snapshot(3).encode(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := decodeKeySnapshot(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]uint64{}
	for i := uint64(1); i <= 3; i++ {
		want[1000-i] = packKey(i, cat.PublisherIndex(edu))
	}
	if !maps.Equal(got, want) {
		t.Errorf("decoded %v, want %v", got, want)
	}
	r := newKeyIndex(cat)
	r.restore(got)
	if seq, _, ok := r.resolve(998); !ok || seq != 2 {
		t.Errorf("restored index: key 998 at %d (%v), want 2", seq, ok)
	}
	if _, err := decodeKeySnapshot(bufio.NewReader(bytes.NewReader(nil))); err == nil {
		t.Error("an empty snapshot decoded")
	}
}
