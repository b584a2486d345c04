package identities

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// tokensFile holds the HTTP tokens' hashes (never the tokens).
const tokensFile = "tokens.json"

// tokenPrefix starts every HTTP token, so that one pasted in the wrong place
// is recognised for what it is.
const tokenPrefix = "anzhi_"

// ErrUnknownIdentity means a name is none of the identities.
var ErrUnknownIdentity = errors.New("no such identity")

// tokenRecord is one issued token: whose, its SHA-256, when.
type tokenRecord struct {
	Identity string    `json:"identity"`
	SHA256   string    `json:"sha256"`
	Issued   time.Time `json:"issued"`
}

// tokens is the hub's view of tokens.json, read again when it changes (a
// token issued while the hub runs works at once).
type tokens struct {
	mu      sync.Mutex
	modTime time.Time
	size    int64
	byHash  map[string]string
}

// issuing serialises IssueToken within a process (two at once would each
// write the file without the other's token).
var issuing sync.Mutex

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// IssueToken makes a new HTTP bearer token for the identity name, records
// its hash in dir, and returns the token: it is shown once and stored
// nowhere in clear. Earlier tokens of the identity stay valid.
func IssueToken(dir, name string) (string, error) {
	s, err := Load(dir)
	if err != nil {
		return "", err
	}
	id, ok := s.Identity(name)
	if !ok {
		return "", fmt.Errorf("identities: %q: %w", name, ErrUnknownIdentity)
	}
	if id.Role == RoleHub {
		return "", fmt.Errorf("identities: the hub has no HTTP token: it serves the API")
	}
	issuing.Lock()
	defer issuing.Unlock()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("identities: token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	records, err := readTokens(dir)
	if err != nil {
		return "", err
	}
	records = append(records, tokenRecord{Identity: name, SHA256: hashToken(token), Issued: time.Now().UTC()})
	if err := writeTokens(dir, records); err != nil {
		return "", err
	}
	return token, nil
}

// TokenIdentity returns the identity an HTTP bearer token belongs to.
func (s *Set) TokenIdentity(token string) (Identity, bool) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return Identity{}, false
	}
	name, ok := s.tokens.lookup(filepath.Join(s.Dir, tokensFile), hashToken(token))
	if !ok {
		return Identity{}, false
	}
	return s.Identity(name)
}

// lookup finds a token's identity by hash, reading the file again when it
// changed (time or size) since the last read. A missing or unreadable file
// accepts no token: deleting it revokes them all.
func (t *tokens) lookup(path, hash string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, err := os.Stat(path)
	switch {
	case err != nil:
		t.byHash, t.modTime, t.size = nil, time.Time{}, 0
	case !st.ModTime().Equal(t.modTime) || st.Size() != t.size:
		t.byHash = nil
		var records []tokenRecord
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &records) == nil {
			t.byHash = make(map[string]string, len(records))
			for _, r := range records {
				t.byHash[r.SHA256] = r.Identity
			}
			t.modTime, t.size = st.ModTime(), st.Size()
		}
	}
	name, ok := t.byHash[hash]
	return name, ok
}
