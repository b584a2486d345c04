// Package audit makes the canonical log verifiable: an RFC 6962 Merkle tree
// over every log entry in sequence order, checkpoints of it in the C2SP
// tlog-checkpoint format signed as C2SP signed notes (Ed25519), inclusion
// and consistency proofs, and a verifier that recomputes the tree from the
// log and names the first sequence where history diverges.
//
// The package is domain only: it imports no NATS code. The hub keeps a Tree
// as it appends to the log and signs Checkpoints; package subscribers reads
// the log and the audit stream and feeds a Verifier. Anyone can check a
// proof with golang.org/x/mod/sumdb/note and
// github.com/transparency-dev/merkle/proof alone: the leaf encoding
// (LeafData) is the only thing specific to anzhi.
package audit
