package audit

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of every hash of the tree (SHA-256).
const HashSize = 32

// tileLevel is the level of the subtree hashes a Tree keeps besides its
// leaves (one per 256 leaves), so that a proof reads at most 256 leaves a
// node below it and 1/256 of the tree above.
const tileLevel = 8

// Errors of the tree and its proofs.
var (
	// ErrBadSize marks a tree size or index the tree cannot answer for
	// (beyond its size, or an old size larger than the new).
	ErrBadSize = errors.New("no such tree size or index")
	// ErrBadHash marks a hash of the wrong length.
	ErrBadHash = errors.New("malformed hash")
)

var hasher = rfc6962.DefaultHasher

var factory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Tree is the RFC 6962 Merkle tree over the log's entries, kept
// incrementally: leaf i (from 0) is the entry of log sequence i+1. It keeps
// every leaf hash (32 bytes an entry) and the hash of every complete
// 256-leaf subtree, so that it can prove inclusion and consistency for any
// size it has reached. It is not safe for concurrent use.
type Tree struct {
	rng    *compact.Range
	leaves []byte // HashSize bytes a leaf
	tiles  []byte // HashSize bytes a complete subtree at tileLevel
	visit  compact.VisitFn
}

// NewTree returns an empty tree.
func NewTree() *Tree {
	t := &Tree{rng: factory.NewEmptyRange(0)}
	t.visit = func(id compact.NodeID, h []byte) {
		switch id.Level {
		case 0:
			t.leaves = append(t.leaves, h...)
		case tileLevel:
			t.tiles = append(t.tiles, h...)
		}
	}
	return t
}

// Append adds the next leaf hash (see LeafHash).
func (t *Tree) Append(leafHash []byte) error {
	if len(leafHash) != HashSize {
		return fmt.Errorf("%w: leaf hash of %d bytes", ErrBadHash, len(leafHash))
	}
	// The range keeps the slice: give it its own copy.
	return t.rng.Append(append([]byte(nil), leafHash...), t.visit)
}

// Size is how many leaves the tree has: the log sequence of its last entry.
func (t *Tree) Size() uint64 { return t.rng.End() }

// Range returns the tree's compact range: the hashes of the perfect
// subtrees that make it, from the left.
func (t *Tree) Range() [][]byte { return t.rng.Hashes() }

// Root returns the tree's root hash (the empty tree's is SHA-256 of "").
func (t *Tree) Root() []byte {
	if t.Size() == 0 {
		return hasher.EmptyRoot()
	}
	r, _ := t.rng.GetRootHash(nil) // begins at 0: never fails
	return r
}

// LeafHash returns the hash of leaf index (log sequence index+1).
func (t *Tree) LeafHash(index uint64) ([]byte, error) {
	if index >= t.Size() {
		return nil, fmt.Errorf("%w: leaf %d of a tree of %d", ErrBadSize, index, t.Size())
	}
	return t.leaves[index*HashSize : (index+1)*HashSize], nil
}

// RootAt returns the root hash of the tree when it had size leaves.
func (t *Tree) RootAt(size uint64) ([]byte, error) {
	if size > t.Size() {
		return nil, fmt.Errorf("%w: size %d of a tree of %d", ErrBadSize, size, t.Size())
	}
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		hashes[i] = t.node(id)
	}
	r, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

// InclusionProof proves that leaf index is in the tree of size leaves.
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	if size > t.Size() || index >= size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d (the tree has %d)", ErrBadSize, index, size, t.Size())
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return t.rehash(nodes)
}

// ConsistencyProof proves that the tree of size2 leaves extends the tree of
// size1.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if size2 > t.Size() || size1 > size2 {
		return nil, fmt.Errorf("%w: from %d to %d (the tree has %d)", ErrBadSize, size1, size2, t.Size())
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return t.rehash(nodes)
}

func (t *Tree) rehash(nodes proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		hashes[i] = t.node(id)
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// node returns the hash of a perfect subtree the tree holds completely.
func (t *Tree) node(id compact.NodeID) []byte {
	begin, end := id.Coverage()
	if id.Level >= tileLevel {
		return fold(t.tiles[(begin>>tileLevel)*HashSize : (end>>tileLevel)*HashSize])
	}
	return fold(t.leaves[begin*HashSize : end*HashSize])
}

// fold returns the root of a perfect tree over hashes (a power of two of
// them, HashSize bytes each).
func fold(flat []byte) []byte {
	n := len(flat) / HashSize
	level := make([][]byte, n)
	for i := range level {
		level[i] = flat[i*HashSize : (i+1)*HashSize]
	}
	for len(level) > 1 {
		next := level[:len(level)/2]
		for i := range next {
			next[i] = hasher.HashChildren(level[2*i], level[2*i+1])
		}
		level = next
	}
	return level[0]
}

// VerifyInclusion checks an inclusion proof of leafHash at index in a tree
// of size whose root is root.
func VerifyInclusion(index, size uint64, leafHash []byte, hashes [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, index, size, leafHash, hashes, root)
}

// VerifyConsistency checks that the tree of size2 with root2 extends the tree
// of size1 with root1.
func VerifyConsistency(size1, size2 uint64, hashes [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(hasher, size1, size2, hashes, root1, root2)
}

// RootOfRange returns the root hash of a compact range over leaves [0, size)
// (as Tree.Range gives it), checking its shape.
func RootOfRange(size uint64, hashes [][]byte) ([]byte, error) {
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	r, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHash, err)
	}
	return r.GetRootHash(nil)
}
