package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// DefaultOrigin is the origin line of the hub's checkpoints and the name of
// its signing key.
const DefaultOrigin = "xianyang.anzhi/log"

// Errors of checkpoints.
var (
	// ErrBadCheckpoint marks a checkpoint that is not in the C2SP
	// tlog-checkpoint form.
	ErrBadCheckpoint = errors.New("malformed checkpoint")
	// ErrBadSignature marks a checkpoint whose signature does not verify
	// with the key given (forged, altered, or signed by another key).
	ErrBadSignature = errors.New("checkpoint signature does not verify")
	// ErrBadKey marks a signing or verifier key that cannot be read.
	ErrBadKey = errors.New("malformed key")
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, the
// tree size and its root hash.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Text is the checkpoint's note body: origin, size and base64 root hash, a
// line each.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root) + "\n"
}

// ParseCheckpoint reads a checkpoint body (Text's form; extension lines
// after the root are allowed and ignored, as C2SP says).
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, fmt.Errorf("%w: want origin, size and root hash on three lines", ErrBadCheckpoint)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: tree size %q is not a number", ErrBadCheckpoint, lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root hash %q is not %d bytes of base64", ErrBadCheckpoint, lines[2], HashSize)
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root}, nil
}

// Signer signs checkpoints with an Ed25519 note key.
type Signer struct {
	s      note.Signer
	vkey   string
	origin string
}

// GenerateKey makes a new Ed25519 note key named origin: the private key
// (PRIVATE+KEY+…, keep it secret) and the verifier key auditors check with.
func GenerateKey(origin string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, origin)
}

// NewSigner reads a private note key (GenerateKey's skey) and the verifier
// key that goes with it.
func NewSigner(skey, vkey string) (*Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("%w: signing key: %w", ErrBadKey, err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	if v.Name() != s.Name() || v.KeyHash() != s.KeyHash() {
		return nil, fmt.Errorf("%w: the verifier key is not the signing key's", ErrBadKey)
	}
	return &Signer{s: s, vkey: strings.TrimSpace(vkey), origin: s.Name()}, nil
}

// Origin is the checkpoints' origin: the key's name.
func (s *Signer) Origin() string { return s.origin }

// VerifierKey is the key that verifies the signer's checkpoints.
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign returns the signed note of a checkpoint of size and root.
func (s *Signer) Sign(size uint64, root []byte) ([]byte, error) {
	c := Checkpoint{Origin: s.origin, Size: size, Root: root}
	return note.Sign(&note.Note{Text: c.Text()}, s.s)
}

// NewVerifier reads a verifier key (vkey of GenerateKey; surrounding space
// is ignored, so a key file's newline does no harm).
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("%w: verifier key: %w", ErrBadKey, err)
	}
	return v, nil
}

// OpenCheckpoint verifies a signed checkpoint note with v and reads it; its
// origin must be the key's name.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unknown *note.UnknownVerifierError
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unknown) || errors.As(err, &unverified) && signedByName(signed, v) {
			return Checkpoint{}, fmt.Errorf("%w: signed by a key other than %s (%w)", ErrBadSignature, v.Name(), err)
		}
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q", ErrBadCheckpoint, c.Origin, v.Name())
	}
	return c, nil
}

// signedByName reports whether a note carries a signature under v's name
// with another key hash: signed by another key of the same name.
func signedByName(signed []byte, v note.Verifier) bool {
	_, sigs, ok := bytes.Cut(signed, []byte("\n\n"))
	if !ok {
		return false
	}
	for _, line := range strings.Split(string(sigs), "\n") {
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "\u2014 "), " ")
		if !ok || name != v.Name() {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(b64); err == nil && len(b) >= 4 &&
			uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]) != v.KeyHash() {
			return true
		}
	}
	return false
}

// SameCheckpoint reports whether two checkpoints say the same.
func SameCheckpoint(a, b Checkpoint) bool {
	return a.Origin == b.Origin && a.Size == b.Size && bytes.Equal(a.Root, b.Root)
}
