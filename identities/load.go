package identities

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ErrNone means a directory holds no identities (run anzhi identities init).
var ErrNone = errors.New("no identities there (make them with: anzhi identities init --out DIR)")

// Set is a city's identities as Init wrote them.
type Set struct {
	Dir        string
	Identities []Identity
	operator   *jwt.OperatorClaims
	accounts   map[string]string // public key → account JWT
	publishers map[string]string // public key → name, of the publishers' accounts
	tokens     tokens            // HTTP tokens (token.go)
}

// Load reads the identities in dir and checks that every account is signed
// by the operator.
func Load(dir string) (*Set, error) {
	raw, err := os.ReadFile(filepath.Join(dir, operatorFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("identities: %s: %w", dir, ErrNone)
	}
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	oc, err := jwt.DecodeOperatorClaims(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("identities: %s: %w", operatorFile, err)
	}
	s := &Set{Dir: dir, operator: oc, accounts: map[string]string{}, publishers: map[string]string{}}
	files, err := filepath.Glob(filepath.Join(dir, accountsDir, "*.jwt"))
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		ac, err := jwt.DecodeAccountClaims(tok)
		if err != nil {
			return nil, fmt.Errorf("identities: %s: %w", filepath.Base(f), err)
		}
		if ac.Issuer != oc.Subject {
			return nil, fmt.Errorf("identities: %s is not signed by the operator %s", filepath.Base(f), oc.Subject)
		}
		s.accounts[ac.Subject] = tok
		if ac.Name != HubAccount && ac.Name != SystemAccount {
			s.publishers[ac.Subject] = ac.Name
		}
	}
	if _, ok := s.accounts[oc.SystemAccount]; !ok {
		return nil, fmt.Errorf("identities: the system account %s has no JWT in %s", oc.SystemAccount, accountsDir)
	}
	b, err := os.ReadFile(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	if err := json.Unmarshal(b, &s.Identities); err != nil {
		return nil, fmt.Errorf("identities: %s: %w", indexFile, err)
	}
	return s, nil
}

// ServerOptions configures a NATS server to trust the operator and know
// every account (a memory resolver, preloaded): each client must then
// present the credentials of one of the identities.
func (s *Set) ServerOptions(opts *server.Options) error {
	res := &server.MemAccResolver{}
	for pub, tok := range s.accounts {
		if err := res.Store(pub, tok); err != nil {
			return fmt.Errorf("identities: %w", err)
		}
	}
	opts.TrustedOperators = []*jwt.OperatorClaims{s.operator}
	opts.AccountResolver = res
	opts.SystemAccount = s.operator.SystemAccount
	return nil
}

// AccountIdentity returns the publisher identity whose account has the
// public key pub (a department's or a county's); false for the hub's account
// and for keys it does not know.
func (s *Set) AccountIdentity(pub string) (string, bool) {
	name, ok := s.publishers[pub]
	return name, ok
}

// Senders are the publishing identities (departments and county
// governments), in the plan's order: each has an intake stream of its own.
func (s *Set) Senders() []string {
	var out []string
	for _, id := range s.Identities {
		if id.Role == RoleDepartment || id.Role == RoleCounty {
			out = append(out, id.Name)
		}
	}
	return out
}

// Identity returns the identity named name.
func (s *Set) Identity(name string) (Identity, bool) {
	for _, id := range s.Identities {
		if id.Name == name {
			return id, true
		}
	}
	return Identity{}, false
}

// CredsFile is the path of an identity's credentials.
func (s *Set) CredsFile(name string) string { return filepath.Join(s.Dir, name+credsSuffix) }

// ClientOptions are the NATS options of a client of the identity whose
// credentials are in credsFile (name.creds): the credentials, the inbox
// prefix the identity's permissions allow, and its name.
func ClientOptions(credsFile string) ([]nats.Option, error) {
	b, err := os.ReadFile(credsFile)
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	tok, err := jwt.ParseDecoratedJWT(b)
	if err != nil {
		return nil, fmt.Errorf("identities: %s: %w", credsFile, err)
	}
	uc, err := jwt.DecodeUserClaims(tok)
	if err != nil {
		return nil, fmt.Errorf("identities: %s: %w", credsFile, err)
	}
	opts := []nats.Option{nats.UserCredentials(credsFile), nats.Name("anzhi-" + uc.Name)}
	if p := InboxPrefixOf(uc.Name); p != "_INBOX" {
		opts = append(opts, nats.CustomInboxPrefix(p))
	}
	return opts, nil
}

// InboxPrefixOf is the inbox prefix an identity's clients use.
func InboxPrefixOf(name string) string {
	switch name {
	case LeadOfficeName, AuditorName:
		return inbox(name)
	}
	return "_INBOX"
}
