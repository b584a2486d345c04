package audit_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/xianyang/anzhi/audit"
)

// TestTreeProofs checks every inclusion and consistency proof of small
// trees against the roots the tree gave at each size.
func TestTreeProofs(t *testing.T) {
	tree := audit.NewTree()
	var roots [][]byte
	roots = append(roots, tree.Root())
	const n = 300
	for i := range n {
		h := sha256.Sum256(fmt.Appendf(nil, "leaf %d", i))
		if err := tree.Append(h[:]); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, tree.Root())
	}
	for size := uint64(1); size <= n; size += 7 {
		if r, err := tree.RootAt(size); err != nil || string(r) != string(roots[size]) {
			t.Fatalf("RootAt(%d): %v", size, err)
		}
		for index := uint64(0); index < size; index += 5 {
			p, err := tree.InclusionProof(index, size)
			if err != nil {
				t.Fatal(err)
			}
			leaf, _ := tree.LeafHash(index)
			if err := audit.VerifyInclusion(index, size, leaf, p, roots[size]); err != nil {
				t.Errorf("inclusion of %d in %d: %v", index, size, err)
			}
		}
		for old := uint64(0); old <= size; old += 11 {
			p, err := tree.ConsistencyProof(old, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.VerifyConsistency(old, size, p, roots[old], roots[size]); err != nil {
				t.Errorf("consistency %d→%d: %v", old, size, err)
			}
		}
	}
	if _, err := tree.InclusionProof(n, n); !errors.Is(err, audit.ErrBadSize) {
		t.Errorf("proof of a leaf beyond the tree: %v", err)
	}
}

// TestLeafEncoding pins the documented encoding of a leaf.
func TestLeafEncoding(t *testing.T) {
	e := audit.Entry{Seq: 258, Subject: "s", Data: []byte("{}"),
		Header: map[string][]string{"b": {"2"}, "a": {"1", "x"}, "Nats-Expected-Last-Sequence": {"257"}}}
	want := "anzhi-log-entry/v1\x00" + "\x00\x00\x00\x00\x00\x00\x01\x02" + "\x00\x00\x00\x01s" + "\x00\x00\x00\x03" +
		"\x00\x00\x00\x01a\x00\x00\x00\x011" + "\x00\x00\x00\x01a\x00\x00\x00\x01x" + "\x00\x00\x00\x01b\x00\x00\x00\x012" +
		"\x00\x00\x00\x02{}"
	if got := string(audit.LeafData(e)); got != want {
		t.Errorf("leaf data\n%q, want\n%q", got, want)
	}
	h := sha256.Sum256(append([]byte{0}, want...))
	var lh audit.LeafHasher
	if got := lh.Hash(nil, e); string(got) != string(h[:]) || string(audit.LeafHash(e)) != string(h[:]) {
		t.Error("leaf hash is not SHA-256(0x00 || leaf data)")
	}
}
