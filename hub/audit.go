package hub

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"

	"github.com/xianyang/anzhi/audit"
	"github.com/xianyang/anzhi/fact"
)

// This file is the hub's side of the verifiable log (package audit): the
// Merkle tree kept as the log stores each entry, the signing key, and the
// signed checkpoints appended to the audit stream.
//
// At start the hub rebuilds the tree from the log in the background rather
// than keeping it in a snapshot: the log is the only truth, a tree read
// from it needs no state of its own to trust, and the view's snapshots may
// be older than the log's tail or skipped (--rebuild). Entries stored while
// the rebuild runs wait in order and are added once it ends; until then no
// checkpoint is signed and proofs answer 503. The rebuilt tree is compared
// with the last checkpoint the audit stream holds: a log that no longer
// gives the root the hub signed is logged as an error at once.

// AuditKeyFile is the name of the signing key the hub makes in its data
// directory on first start (mode 0600).
const AuditKeyFile = "audit-signing.key"

// defaultAuditEvery is how often the hub signs a checkpoint when the log
// has grown.
const defaultAuditEvery = time.Minute

// errAuditNotReady means the tree is still being rebuilt from the log, or
// no checkpoint is signed yet.
var errAuditNotReady = errors.New("the audit tree is not ready")

// auditTrail keeps the tree over the log and signs its checkpoints.
type auditTrail struct {
	signer *audit.Signer
	js     jetstream.JetStream
	logs   jetstream.Stream
	log    *slog.Logger
	every  time.Duration

	lh  audit.LeafHasher // only on the goroutine that reports stored entries
	buf []byte

	mu    sync.Mutex
	tree  *audit.Tree
	ready bool
	// broken, once set, stops the tree for good: the log lacks entries, an
	// entry came out of order, or the log no longer gives the root the hub
	// signed. The hub then signs nothing (a signed fork is what a verifiable
	// log must never publish) and the audit endpoints answer 503 with it.
	broken   error
	pending  [][]byte // leaf hashes stored during the rebuild, in order
	latest   *signedCheckpoint
	signedAt uint64 // size of the last checkpoint signed

	signMu sync.Mutex // one signing at a time, so checkpoints are appended in order

	demandMu   sync.Mutex // on-demand signings for proofs, one at a time (covering)
	demandNext time.Time  // when the next one may be signed
}

// signedCheckpoint is a checkpoint as signed and appended to the audit
// stream.
type signedCheckpoint struct {
	audit.Checkpoint
	Note []byte
}

// loadAuditKey reads the signing key of file (its first line a note private
// key, PRIVATE+KEY+…), or, when file is "", the one in dataDir, made there
// first with origin as its name.
func loadAuditKey(file, dataDir, origin string, log *slog.Logger) (*audit.Signer, error) {
	if file == "" {
		if dataDir == "" {
			return nil, nil
		}
		file = filepath.Join(dataDir, AuditKeyFile)
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			skey, vkey, err := audit.GenerateKey(origin)
			if err != nil {
				return nil, fmt.Errorf("audit key: %w", err)
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("audit key: %w", err)
			}
			if err := os.WriteFile(file, []byte(skey+"\n"+vkey+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("audit key: %w", err)
			}
			log.Info("made the audit signing key; auditors verify checkpoints with its verifier key (GET /api/v1/audit/key)",
				"file", file, "verifier_key", vkey)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	lines := strings.Fields(string(b))
	if len(lines) == 0 {
		return nil, fmt.Errorf("audit key %s: %w: the file is empty", file, audit.ErrBadKey)
	}
	vkey := ""
	if len(lines) > 1 {
		vkey = lines[1]
	} else if vkey, err = verifierKeyOf(lines[0]); err != nil {
		return nil, fmt.Errorf("audit key %s: %w", file, err)
	}
	s, err := audit.NewSigner(lines[0], vkey)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", file, err)
	}
	return s, nil
}

// verifierKeyOf derives the verifier key of an Ed25519 note private key
// (PRIVATE+KEY+<name>+<hash>+<base64 of 0x01 and the seed>).
func verifierKeyOf(skey string) (string, error) {
	parts := strings.Split(skey, "+")
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("%w: not a note private key (PRIVATE+KEY+…)", audit.ErrBadKey)
	}
	k, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(k) != 1+ed25519.SeedSize || k[0] != 1 {
		return "", fmt.Errorf("%w: not an Ed25519 note private key", audit.ErrBadKey)
	}
	pub := ed25519.NewKeyFromSeed(k[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// stored adds a log entry the log has stored; entries come in log order.
func (a *auditTrail) stored(seq uint64, m *nats.Msg) {
	a.buf = a.lh.Hash(a.buf[:0], audit.Entry{Seq: seq, Subject: m.Subject, Header: m.Header, Data: m.Data})
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.broken != nil {
		return
	}
	if !a.ready {
		a.pending = append(a.pending, append([]byte(nil), a.buf...))
		return
	}
	if want := a.tree.Size() + 1; seq != want {
		a.stop(fmt.Errorf("log entry %d came out of order (the tree wanted %d); the tree stops here", seq, want))
		return
	}
	_ = a.tree.Append(a.buf) // a leaf hash of the right size never fails
}

// rebuild reads the log's entries 1..last into the tree, then takes the
// entries stored meanwhile and compares the tree with the audit stream's
// last checkpoint.
func (a *auditTrail) rebuild(ctx context.Context, last uint64) error {
	start := time.Now()
	tree := audit.NewTree()
	var lh audit.LeafHasher
	var buf []byte
	err := readLog(ctx, a.logs, 1, last, 1024, func(m logMsg) error {
		if m.seq != tree.Size()+1 {
			return fmt.Errorf("audit tree: the log lacks entries %d to %d (deleted or purged)", tree.Size()+1, m.seq-1)
		}
		buf = lh.Hash(buf[:0], audit.Entry{Seq: m.seq, Subject: m.subject, Header: m.header, Data: m.data})
		return tree.Append(buf)
	})
	if err != nil {
		if ctx.Err() == nil {
			a.mu.Lock()
			a.stop(err)
			a.mu.Unlock()
		}
		return err
	}
	a.mu.Lock()
	for _, h := range a.pending {
		_ = tree.Append(h)
	}
	a.tree, a.pending, a.ready = tree, nil, true
	a.mu.Unlock()
	if last > 0 {
		a.log.Info("audit tree rebuilt from the log", "entries", last, "took", time.Since(start).Round(time.Millisecond))
	}
	prev, err := a.lastCheckpoint(ctx)
	if err != nil || prev == nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.latest == nil || a.latest.Size < prev.Size {
		a.latest, a.signedAt = prev, prev.Size
	}
	root, rerr := tree.RootAt(prev.Size)
	switch {
	case rerr != nil:
		a.stop(fmt.Errorf("the log (%d entries) is shorter than the tree of %d entries the hub last signed: entries were removed", last, prev.Size))
	case string(root) != string(prev.Root):
		a.stop(fmt.Errorf("the log no longer gives the tree of %d entries the hub last signed: history was altered (anzhi audit verify names where)", prev.Size))
	}
	return nil
}

// stop breaks the tree for good (see broken), once, with a.mu held.
func (a *auditTrail) stop(err error) {
	if a.broken != nil {
		return
	}
	a.broken, a.pending = err, nil
	a.log.Error("AUDIT: the audit tree stops; the hub signs no more checkpoints until an operator restores the log", "err", err)
}

// failure is why the tree stopped (nil while it holds), for the endpoints.
func (a *auditTrail) failure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.broken != nil {
		return fmt.Errorf("%w: the audit tree stopped: %v", errAuditNotReady, a.broken)
	}
	return nil
}

// lastCheckpoint reads the audit stream's last checkpoint (nil: none).
func (a *auditTrail) lastCheckpoint(ctx context.Context) (*signedCheckpoint, error) {
	s, err := a.js.Stream(ctx, fact.AuditStream)
	if err != nil {
		return nil, fmt.Errorf("audit stream: %w", err)
	}
	m, err := s.GetLastMsgForSubject(ctx, fact.AuditCheckpointSubject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit stream: last checkpoint: %w", err)
	}
	v, _ := audit.NewVerifier(a.signer.VerifierKey())
	cp, err := audit.OpenCheckpoint(m.Data, v)
	if err != nil {
		a.log.Error("AUDIT: the audit stream's last checkpoint does not verify with the hub's key", "audit_seq", m.Sequence, "err", err)
		return nil, nil
	}
	return &signedCheckpoint{Checkpoint: cp, Note: m.Data}, nil
}

// checkpoint signs the tree as it is and appends the checkpoint to the
// audit stream, unless the last one already has this size (force: sign
// anyway when nothing was signed yet).
func (a *auditTrail) checkpoint(ctx context.Context) (*signedCheckpoint, error) {
	a.signMu.Lock()
	defer a.signMu.Unlock()
	a.mu.Lock()
	if a.broken != nil {
		err := a.broken
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: the audit tree stopped, so nothing is signed: %v", errAuditNotReady, err)
	}
	if !a.ready {
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: it is being rebuilt from the log", errAuditNotReady)
	}
	size, root, rng := a.tree.Size(), a.tree.Root(), a.tree.Range()
	if a.latest != nil && a.latest.Size == size {
		latest := a.latest
		a.mu.Unlock()
		return latest, nil
	}
	parts := make([]string, len(rng))
	for i, h := range rng {
		parts[i] = base64.StdEncoding.EncodeToString(h)
	}
	a.mu.Unlock()
	signed, err := a.signer.Sign(size, root)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	msg := nats.NewMsg(fact.AuditCheckpointSubject)
	msg.Header.Set(fact.HeaderAuditRange, strings.Join(parts, " "))
	msg.Data = signed
	if _, err := a.js.PublishMsg(ctx, msg); err != nil {
		return nil, fmt.Errorf("append checkpoint to %s: %w", fact.AuditStream, err)
	}
	cp := &signedCheckpoint{Checkpoint: audit.Checkpoint{Origin: a.signer.Origin(), Size: size, Root: root}, Note: signed}
	a.mu.Lock()
	a.latest, a.signedAt = cp, size
	a.mu.Unlock()
	return cp, nil
}

// run signs a checkpoint every a.every while the log grows.
func (a *auditTrail) run(ctx context.Context) {
	if a.every <= 0 {
		return
	}
	t := time.NewTicker(a.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.mu.Lock()
			grown := a.ready && a.broken == nil && a.tree.Size() > a.signedAt
			a.mu.Unlock()
			if !grown {
				continue
			}
			if _, err := a.checkpoint(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("no checkpoint this time", "err", err)
			}
		}
	}
}

// latestCheckpoint is the last checkpoint signed (errAuditNotReady: none).
func (a *auditTrail) latestCheckpoint() (*signedCheckpoint, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.latest == nil {
		return nil, fmt.Errorf("%w: no checkpoint is signed yet", errAuditNotReady)
	}
	return a.latest, nil
}

// covering returns a signed checkpoint whose tree holds size entries: the
// latest, or a new one signed now when the latest is smaller.
//
// Signing on demand happens at most every onDemandEvery: requests that come
// faster wait, and one checkpoint then serves all of them, so a script
// proving the newest entries during ingest cannot append a checkpoint to
// the audit stream per request.
func (a *auditTrail) covering(ctx context.Context, size uint64) (*signedCheckpoint, error) {
	if cp, err := a.latestCheckpoint(); err == nil && cp.Size >= size {
		return cp, nil
	}
	a.demandMu.Lock()
	defer a.demandMu.Unlock()
	if wait := time.Until(a.demandNext); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	if cp, err := a.latestCheckpoint(); err == nil && cp.Size >= size {
		return cp, nil // signed for another request meanwhile
	}
	cp, err := a.checkpoint(ctx)
	a.demandNext = time.Now().Add(onDemandEvery)
	return cp, err
}

// onDemandEvery is the least time between two checkpoints signed for
// proofs.
const onDemandEvery = 250 * time.Millisecond

// inclusion proves log entry seq in the tree of cp.
func (a *auditTrail) inclusion(seq uint64, cp *signedCheckpoint) (leaf []byte, hashes [][]byte, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if leaf, err = a.tree.LeafHash(seq - 1); err != nil {
		return nil, nil, err
	}
	hashes, err = a.tree.InclusionProof(seq-1, cp.Size)
	return append([]byte(nil), leaf...), hashes, err
}

// consistency proves that the tree of cp extends the tree of old entries.
func (a *auditTrail) consistency(old uint64, cp *signedCheckpoint) ([][]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tree.ConsistencyProof(old, cp.Size)
}

// SignCheckpoint signs a checkpoint of the log's tree as it is now, appends
// it to the audit stream and returns its size and signed note (the latest
// one when the log has not grown since). It waits while the tree is being
// rebuilt at start.
func (h *Hub) SignCheckpoint(ctx context.Context) (size uint64, signed []byte, err error) {
	if h.audit == nil {
		return 0, nil, errors.New("hub: the log is not signed (no audit key)")
	}
	for {
		cp, err := h.audit.checkpoint(ctx)
		if err == nil {
			return cp.Size, cp.Note, nil
		}
		if !errors.Is(err, errAuditNotReady) {
			return 0, nil, fmt.Errorf("hub: %w", err)
		}
		select {
		case <-ctx.Done():
			return 0, nil, fmt.Errorf("hub: %w: %w", err, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// AuditVerifierKey is the verifier key of the hub's checkpoints ("" when
// the log is not signed).
func (h *Hub) AuditVerifierKey() string {
	if h.audit == nil {
		return ""
	}
	return h.audit.signer.VerifierKey()
}
