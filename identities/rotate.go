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
	"github.com/nats-io/nkeys"
)

// This file is key rotation: an identity's credentials made anew and the
// old ones revoked, its HTTP tokens revoked, and a running server told.

// Reissue makes new credentials for the identity name in dir (a new user
// key, the same permissions), and revokes the old ones: the account's JWT,
// signed again by the operator, lists the old user key as revoked. The old
// .creds file is replaced. A server that loaded dir before refuses the old
// credentials once it applies the accounts again (Set.Apply; anzhi hub does
// on SIGHUP), and closes connections made with them then.
func Reissue(dir, name string) (Identity, error) {
	s, err := Load(dir)
	if err != nil {
		return Identity{}, err
	}
	id, ok := s.Identity(name)
	if !ok {
		return Identity{}, fmt.Errorf("identities: %q: %w", name, ErrUnknownIdentity)
	}
	op, err := readSeed(dir, "operator")
	if err != nil {
		return id, err
	}
	acct, err := readSeed(dir, id.Account)
	if err != nil {
		return id, err
	}
	credsPath := s.CredsFile(name)
	old, err := os.ReadFile(credsPath)
	if err != nil {
		return id, fmt.Errorf("identities: %w", err)
	}
	oldJWT, err := jwt.ParseDecoratedJWT(old)
	if err != nil {
		return id, fmt.Errorf("identities: %s: %w", filepath.Base(credsPath), err)
	}
	oldUser, err := jwt.DecodeUserClaims(oldJWT)
	if err != nil {
		return id, fmt.Errorf("identities: %s: %w", filepath.Base(credsPath), err)
	}
	acctPath := filepath.Join(dir, accountsDir, id.Account+".jwt")
	raw, err := os.ReadFile(acctPath)
	if err != nil {
		return id, fmt.Errorf("identities: %w", err)
	}
	ac, err := jwt.DecodeAccountClaims(strings.TrimSpace(string(raw)))
	if err != nil {
		return id, fmt.Errorf("identities: %s: %w", filepath.Base(acctPath), err)
	}
	w := &writer{dir: dir, op: op, accounts: map[string]nkeys.KeyPair{id.Account: acct}}
	// The new credentials beside the old, the revocation, then the new in
	// place of the old: interrupted anywhere, the directory holds either
	// the old credentials still valid, or the old revoked and the new at
	// NAME.creds.new — and running Reissue again finishes the rotation.
	pending := credsPath + ".new"
	if err := w.userTo(id, pending); err != nil {
		return id, err
	}
	ac.Revoke(oldUser.Subject)
	if err := w.encode(acctPath, ac, op); err != nil {
		_ = os.Remove(pending)
		return id, err
	}
	if err := os.Rename(pending, credsPath); err != nil {
		return id, fmt.Errorf("identities: the old credentials of %s are revoked and the new ones are in %s: %w", name, pending, err)
	}
	return id, nil
}

func readSeed(dir, name string) (nkeys.KeyPair, error) {
	b, err := os.ReadFile(filepath.Join(dir, keysDir, name+".nk"))
	if err != nil {
		return nil, fmt.Errorf("identities: the seed of %s (keys/ must be beside the identities to reissue them): %w", name, err)
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(b))))
	if err != nil {
		return nil, fmt.Errorf("identities: the seed of %s: %w", name, err)
	}
	return kp, nil
}

// RevokeTokens revokes every HTTP token of the identity name: the hub
// refuses them from its next request on. It returns how many it revoked.
func RevokeTokens(dir, name string) (int, error) {
	s, err := Load(dir)
	if err != nil {
		return 0, err
	}
	if _, ok := s.Identity(name); !ok {
		return 0, fmt.Errorf("identities: %q: %w", name, ErrUnknownIdentity)
	}
	issuing.Lock()
	defer issuing.Unlock()
	records, err := readTokens(dir)
	if err != nil {
		return 0, err
	}
	kept := records[:0]
	for _, r := range records {
		if r.Identity != name {
			kept = append(kept, r)
		}
	}
	n := len(records) - len(kept)
	if n == 0 {
		return 0, nil
	}
	return n, writeTokens(dir, kept)
}

// Apply gives a running server the accounts as they are in s (after a
// Reissue, say): revoked users are refused from then on and their
// connections closed. Accounts the server does not know are an error:
// adding accounts takes a restart.
func (s *Set) Apply(srv *server.Server) error {
	var errs []error
	for pub, tok := range s.accounts {
		ac, err := jwt.DecodeAccountClaims(tok)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", pub, err))
			continue
		}
		acc, err := srv.LookupAccount(pub)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s (%s) is not known to the running server; restart it: %w", ac.Name, pub, err))
			continue
		}
		// The server's resolver first, so that a later fetch of the
		// account does not bring the unrevoked JWT back.
		if res := srv.AccountResolver(); res != nil {
			if err := res.Store(pub, tok); err != nil {
				errs = append(errs, fmt.Errorf("account %s: %w", ac.Name, err))
				continue
			}
		}
		srv.UpdateAccountClaims(acc, ac)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	return nil
}

// readTokens reads the token records of dir (none when there is no file).
func readTokens(dir string) ([]tokenRecord, error) {
	var records []tokenRecord
	b, err := os.ReadFile(filepath.Join(dir, tokensFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	if err := json.Unmarshal(b, &records); err != nil {
		return nil, fmt.Errorf("identities: %s: %w", tokensFile, err)
	}
	return records, nil
}

// writeTokens replaces the token records of dir at once (a temporary file
// renamed over it), so the hub never reads half a file.
func writeTokens(dir string, records []tokenRecord) error {
	b, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tokens-*")
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, tokensFile))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("identities: %w", err)
	}
	return nil
}
