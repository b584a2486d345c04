package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/audit"
)

// This file serves the verifiable log (package audit): the latest signed
// checkpoint and the verifier key to anyone, inclusion and consistency
// proofs to the overseers.

// apiCheckpoint is the latest signed checkpoint: its size and root, and the
// signed note itself (C2SP tlog-checkpoint), as appended to the audit
// stream.
type apiCheckpoint struct {
	Origin     string `json:"origin"`
	TreeSize   uint64 `json:"tree_size"`
	Root       []byte `json:"root"`
	Checkpoint string `json:"checkpoint"`
}

// apiAuditKey is the verifier key of the hub's checkpoints.
type apiAuditKey struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
}

func (a *api) auditTrail() (*auditTrail, error) {
	if a.h.audit == nil {
		return nil, &notFoundError{kind: "audit", id: "log", why: "this hub does not sign its log (no audit key)"}
	}
	return a.h.audit, nil
}

func auditErr(err error) error {
	switch {
	case errors.Is(err, errAuditNotReady):
		return fmt.Errorf("%w: %w", errUnavailable, err)
	case errors.Is(err, audit.ErrBadSize):
		return fmt.Errorf("%w: %w", errBadParam, err)
	}
	return err
}

func (a *api) auditCheckpoint(*http.Request) (any, error) {
	t, err := a.auditTrail()
	if err != nil {
		return nil, err
	}
	cp, err := t.latestCheckpoint()
	if err != nil {
		return nil, auditErr(err)
	}
	return apiCheckpoint{Origin: cp.Origin, TreeSize: cp.Size, Root: cp.Root, Checkpoint: string(cp.Note)}, nil
}

func (a *api) auditKey(*http.Request) (any, error) {
	t, err := a.auditTrail()
	if err != nil {
		return nil, err
	}
	return apiAuditKey{Origin: t.signer.Origin(), VerifierKey: t.signer.VerifierKey()}, nil
}

// auditProof proves one log entry against a checkpoint that holds it (the
// latest, or one signed for the asking), with the entry's canonical
// encoding read back from the log.
func (a *api) auditProof(r *http.Request) (any, error) {
	t, err := a.auditTrail()
	if err != nil {
		return nil, err
	}
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 {
		return nil, badParam("seq", r.PathValue("seq"), "want a log sequence (1, 2, …)")
	}
	if last := a.h.gate.confirmedLog.Load(); seq > last {
		return nil, &notFoundError{kind: "log entry", id: r.PathValue("seq"), why: fmt.Sprintf("the log ends at %d", last)}
	}
	cp, err := t.covering(r.Context(), seq)
	if err != nil {
		return nil, auditErr(err)
	}
	if cp.Size < seq {
		return nil, fmt.Errorf("%w: log entry %d is stored but not yet in the tree; retry", errUnavailable, seq)
	}
	leaf, hashes, err := t.inclusion(seq, cp)
	if err != nil {
		return nil, auditErr(err)
	}
	m, err := a.h.logs.GetMsg(r.Context(), seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("log entry %d is gone from the log though the tree holds it: the log was altered (anzhi audit verify)", seq)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read log entry %d: %w", errUnavailable, seq, err)
	}
	e := audit.Entry{Seq: seq, Subject: m.Subject, Header: m.Header, Data: m.Data}
	if string(audit.LeafHash(e)) != string(leaf) {
		return nil, fmt.Errorf("log entry %d is not the entry the tree holds: the log was altered (anzhi audit verify)", seq)
	}
	return audit.InclusionProof{Seq: seq, LeafIndex: seq - 1, LeafHash: leaf, LeafData: audit.LeafData(e),
		TreeSize: cp.Size, Hashes: hashes, Checkpoint: string(cp.Note)}, nil
}

// auditConsistency proves that the latest checkpoint's tree extends the tree
// of ?old= entries.
func (a *api) auditConsistency(r *http.Request) (any, error) {
	t, err := a.auditTrail()
	if err != nil {
		return nil, err
	}
	q := r.URL.Query().Get("old")
	old, err := strconv.ParseUint(q, 10, 64)
	if err != nil {
		return nil, badParam("old", q, "want the tree size of an old checkpoint")
	}
	cp, err := t.covering(r.Context(), old)
	if err != nil {
		return nil, auditErr(err)
	}
	if old > cp.Size {
		return nil, badParam("old", q, "larger than the latest checkpoint's tree (%d entries)", cp.Size)
	}
	hashes, err := t.consistency(old, cp)
	if err != nil {
		return nil, auditErr(err)
	}
	return audit.ConsistencyProof{OldSize: old, TreeSize: cp.Size, Hashes: hashes, Checkpoint: string(cp.Note)}, nil
}
