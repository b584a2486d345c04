package audit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// ErrBadProof marks a proof that does not hold: tampered with, or not about
// what it claims.
var ErrBadProof = errors.New("proof does not verify")

// InclusionProof proves that one log entry is in the tree a signed
// checkpoint commits to. Hashes are base64 in JSON; Checkpoint is the signed
// note's text, as the hub signed it.
type InclusionProof struct {
	// Seq is the entry's log sequence; LeafIndex is Seq-1.
	Seq       uint64 `json:"log_seq"`
	LeafIndex uint64 `json:"leaf_index"`
	// LeafHash is SHA-256(0x00 || LeafData).
	LeafHash []byte `json:"leaf_hash"`
	// LeafData is the entry's canonical encoding (see LeafData), so that an
	// auditor can see what the leaf says and check LeafHash.
	LeafData []byte `json:"leaf_data,omitempty"`
	// TreeSize is the checkpoint's size; Hashes the audit path, from the
	// leaf up (RFC 6962 / RFC 9162 order).
	TreeSize   uint64   `json:"tree_size"`
	Hashes     [][]byte `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// Check verifies the proof with the hub's verifier key: the checkpoint's
// signature, the leaf data against the leaf hash, and the audit path
// against the checkpoint's root. It returns the checkpoint.
func (p *InclusionProof) Check(v note.Verifier) (Checkpoint, error) {
	c, err := OpenCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return Checkpoint{}, err
	}
	switch {
	case c.Size != p.TreeSize:
		return c, fmt.Errorf("%w: tree size %d, but the checkpoint's is %d", ErrBadProof, p.TreeSize, c.Size)
	case p.Seq != p.LeafIndex+1:
		return c, fmt.Errorf("%w: log sequence %d is not leaf index %d + 1", ErrBadProof, p.Seq, p.LeafIndex)
	}
	if p.LeafData != nil {
		h := sha256.Sum256(append([]byte{0}, p.LeafData...))
		if !bytes.Equal(h[:], p.LeafHash) {
			return c, fmt.Errorf("%w: the leaf data does not hash to the leaf hash", ErrBadProof)
		}
		if len(p.LeafData) < len(LeafVersion)+9 || string(p.LeafData[:len(LeafVersion)]) != LeafVersion ||
			beUint64(p.LeafData[len(LeafVersion)+1:]) != p.Seq {
			return c, fmt.Errorf("%w: the leaf data is not the entry of log sequence %d", ErrBadProof, p.Seq)
		}
	}
	if err := VerifyInclusion(p.LeafIndex, p.TreeSize, p.LeafHash, p.Hashes, c.Root); err != nil {
		return c, fmt.Errorf("%w: log sequence %d in a tree of %d: %w", ErrBadProof, p.Seq, p.TreeSize, err)
	}
	return c, nil
}

// ConsistencyProof proves that the tree a signed checkpoint commits to
// extends an older tree of OldSize leaves.
type ConsistencyProof struct {
	OldSize    uint64   `json:"old_size"`
	TreeSize   uint64   `json:"tree_size"`
	Hashes     [][]byte `json:"hashes"`
	Checkpoint string   `json:"checkpoint"`
}

// Check verifies the proof against an old checkpoint an auditor kept (its
// signature checked by the caller, or with OpenCheckpoint) and the hub's
// verifier key. It returns the new checkpoint.
func (p *ConsistencyProof) Check(old Checkpoint, v note.Verifier) (Checkpoint, error) {
	c, err := OpenCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return Checkpoint{}, err
	}
	switch {
	case c.Size != p.TreeSize:
		return c, fmt.Errorf("%w: tree size %d, but the checkpoint's is %d", ErrBadProof, p.TreeSize, c.Size)
	case old.Size != p.OldSize:
		return c, fmt.Errorf("%w: the proof is from size %d, the old checkpoint's is %d", ErrBadProof, p.OldSize, old.Size)
	case old.Origin != c.Origin:
		return c, fmt.Errorf("%w: the old checkpoint is of log %q, the new of %q", ErrBadProof, old.Origin, c.Origin)
	}
	if err := VerifyConsistency(old.Size, c.Size, p.Hashes, old.Root, c.Root); err != nil {
		return c, fmt.Errorf("%w: the tree of %d does not extend the old one of %d: %w", ErrBadProof, c.Size, old.Size, err)
	}
	return c, nil
}

func beUint64(b []byte) uint64 {
	var n uint64
	for _, c := range b[:8] {
		n = n<<8 | uint64(c)
	}
	return n
}
