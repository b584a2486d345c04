package hub_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// TestAuditIndependentCheck checks a proof and checkpoint the hub served
// with nothing of anzhi's: golang.org/x/mod/sumdb/note for the signature,
// transparency-dev/merkle's proof and rfc6962 for the tree, the standard
// library for the rest, and the leaf encoding as the README documents it.
// (Only the setup — a hub with facts in its log — uses anzhi.)
func TestAuditIndependentCheck(t *testing.T) {
	h, nc, _ := auditHub(t, t.TempDir())
	fillLog(t, h, nc, 0, 30, 0)
	base := "http://" + h.HTTPAddr()
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var key struct {
		VerifierKey string `json:"verifier_key"`
	}
	get("/api/v1/audit/key", &key)
	var p struct {
		Seq        uint64   `json:"log_seq"`
		LeafIndex  uint64   `json:"leaf_index"`
		LeafHash   []byte   `json:"leaf_hash"`
		LeafData   []byte   `json:"leaf_data"`
		TreeSize   uint64   `json:"tree_size"`
		Hashes     [][]byte `json:"hashes"`
		Checkpoint string   `json:"checkpoint"`
	}
	get("/api/v1/audit/proof/12", &p)

	// The checkpoint: a signed note by the hub's key, in the C2SP
	// tlog-checkpoint form (origin, size, base64 root).
	v, err := note.NewVerifier(key.VerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		t.Fatalf("checkpoint body %q", n.Text)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || size != p.TreeSize {
		t.Fatalf("checkpoint size %q, proof's %d", lines[1], p.TreeSize)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		t.Fatal(err)
	}

	// The leaf: SHA-256(0x00 || leaf data), the data starting with the
	// encoding's name, a zero byte and the big-endian sequence, then the
	// subject; the body last.
	if h := sha256.Sum256(append([]byte{0}, p.LeafData...)); !bytes.Equal(h[:], p.LeafHash) {
		t.Fatal("leaf data does not hash to the leaf hash")
	}
	prefix := "anzhi-log-entry/v1\x00"
	if !strings.HasPrefix(string(p.LeafData), prefix) {
		t.Fatalf("leaf data starts %q", p.LeafData[:20])
	}
	rest := p.LeafData[len(prefix):]
	if seq := binary.BigEndian.Uint64(rest); seq != 12 || p.LeafIndex != 11 {
		t.Fatalf("leaf of seq %d, index %d", seq, p.LeafIndex)
	}
	subjectLen := binary.BigEndian.Uint32(rest[8:])
	if subject := string(rest[12 : 12+subjectLen]); !strings.HasPrefix(subject, "anzhi.fact.edu.enrolment.") {
		t.Errorf("leaf subject %q", subject)
	}

	// The path.
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, p.LeafHash, p.Hashes, root); err != nil {
		t.Fatalf("inclusion: %v", err)
	}
	p.Hashes[len(p.Hashes)-1][0] ^= 1
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, p.LeafHash, p.Hashes, root); err == nil {
		t.Fatal("a tampered path verified")
	}
}
