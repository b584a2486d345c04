package identities

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// Files of an identities directory.
const (
	operatorFile = "operator.jwt"
	accountsDir  = "accounts" // <account>.jwt
	keysDir      = "keys"     // <operator|account>.nk: seeds, kept by the hub's operators
	indexFile    = "identities.json"
	credsSuffix  = ".creds" // <identity>.creds, one per identity
)

// ErrExists means Init was pointed at a directory that already holds
// identities: making new ones would lock every existing client out.
var ErrExists = errors.New("identities already exist there")

// Init makes the city's identities in dir (created if missing): an
// operator, the system account, the hub's account and one account per
// publisher, and a user per identity of Plan with its .creds file. Seeds
// and credentials are written readable by the owner only.
func Init(dir string, cat *schemas.Catalog) ([]Identity, error) {
	if _, err := os.Stat(filepath.Join(dir, operatorFile)); err == nil {
		return nil, fmt.Errorf("identities: %s: %w", dir, ErrExists)
	}
	for _, d := range []string{dir, filepath.Join(dir, accountsDir), filepath.Join(dir, keysDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
	}
	op, err := nkeys.CreateOperator()
	if err != nil {
		return nil, fmt.Errorf("identities: operator key: %w", err)
	}
	opPub, _ := op.PublicKey()
	plan := Plan(cat)
	w := &writer{dir: dir, op: op, accounts: map[string]nkeys.KeyPair{}}
	if err := w.seed("operator", op); err != nil {
		return nil, err
	}
	// Accounts first (imports name the hub's account by its key).
	for _, name := range append([]string{SystemAccount, HubAccount}, publisherAccounts(plan)...) {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return nil, fmt.Errorf("identities: account %s: %w", name, err)
		}
		w.accounts[name] = kp
		if err := w.seed(name, kp); err != nil {
			return nil, err
		}
	}
	hubPub, _ := w.accounts[HubAccount].PublicKey()
	sysPub, _ := w.accounts[SystemAccount].PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "anzhi"
	oc.SystemAccount = sysPub
	if err := w.encode(filepath.Join(dir, operatorFile), oc, op); err != nil {
		return nil, err
	}
	if err := w.account(SystemAccount, nil); err != nil {
		return nil, err
	}
	if err := w.account(HubAccount, func(ac *jwt.AccountClaims) {
		// JetStream only here, and only the hub manages it (users' allow-lists).
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		ac.Exports.Add(&jwt.Export{Name: "intake", Type: jwt.Service, Subject: jwt.Subject(fact.SenderSubjectPrefix + ">")},
			&jwt.Export{Name: "verdicts", Type: jwt.Service, Subject: jwt.Subject(fact.VerdictSubject)})
		ac.Exports.Add(noticeExports()...)
	}); err != nil {
		return nil, err
	}
	for _, id := range plan {
		if id.Account == HubAccount {
			continue
		}
		if err := w.account(id.Account, func(ac *jwt.AccountClaims) {
			// No JetStream: a publisher has nothing of its own to store.
			ac.Limits.Conn = 64
			ac.Limits.Subs = 1000
			ac.Limits.Payload = fact.DefaultMaxBytes
			for _, im := range id.Imports {
				ac.Imports.Add(&jwt.Import{Name: im.Local, Type: jwt.Service, Account: hubPub,
					Subject: jwt.Subject(im.Remote), LocalSubject: jwt.RenamingSubject(im.Local)})
			}
			ac.Imports.Add(&jwt.Import{Name: "verdicts", Type: jwt.Service, Account: hubPub, Subject: jwt.Subject(fact.VerdictSubject)})
			for _, im := range id.Reads {
				ac.Imports.Add(readImport(hubPub, im))
			}
		}); err != nil {
			return nil, err
		}
	}
	for _, id := range plan {
		if err := w.user(id); err != nil {
			return nil, err
		}
	}
	index, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, indexFile), append(index, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("identities: %w", err)
	}
	return plan, nil
}

func publisherAccounts(plan []Identity) []string {
	var out []string
	for _, id := range plan {
		if id.Account != HubAccount {
			out = append(out, id.Account)
		}
	}
	return out
}

// writer writes the files of Init.
type writer struct {
	dir      string
	op       nkeys.KeyPair
	accounts map[string]nkeys.KeyPair
}

func (w *writer) seed(name string, kp nkeys.KeyPair) error {
	seed, err := kp.Seed()
	if err != nil {
		return fmt.Errorf("identities: seed of %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, keysDir, name+".nk"), append(seed, '\n'), 0o600); err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	return nil
}

func (w *writer) encode(path string, c jwt.Claims, kp nkeys.KeyPair) error {
	tok, err := c.Encode(kp)
	if err != nil {
		return fmt.Errorf("identities: sign %s: %w", filepath.Base(path), err)
	}
	return writeAtomic(path, []byte(tok+"\n"))
}

// writeAtomic replaces path with b (mode 0600) all at once: a file written
// to beside it, synced, then renamed over it, so that a crash never leaves
// half a JWT or .creds, which would lock out one identity or, for an
// account, make the whole directory unreadable.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("identities: %w", err)
	}
	return nil
}

func (w *writer) account(name string, edit func(*jwt.AccountClaims)) error {
	pub, _ := w.accounts[name].PublicKey()
	ac := jwt.NewAccountClaims(pub)
	ac.Name = name
	if edit != nil {
		edit(ac)
	}
	return w.encode(filepath.Join(w.dir, accountsDir, name+".jwt"), ac, w.op)
}

func (w *writer) user(id Identity) error {
	return w.userTo(id, filepath.Join(w.dir, id.Name+credsSuffix))
}

// userTo makes a new user key for id and writes its credentials to path.
func (w *writer) userTo(id Identity, path string) error {
	u, err := nkeys.CreateUser()
	if err != nil {
		return fmt.Errorf("identities: user %s: %w", id.Name, err)
	}
	defer u.Wipe()
	pub, _ := u.PublicKey()
	uc := jwt.NewUserClaims(pub)
	uc.Name = id.Name
	if id.Role != RoleHub {
		uc.Pub.Allow.Add(id.Publish...)
		uc.Sub.Allow.Add(id.Subscribe...)
	}
	tok, err := uc.Encode(w.accounts[id.Account])
	if err != nil {
		return fmt.Errorf("identities: sign user %s: %w", id.Name, err)
	}
	seed, err := u.Seed()
	if err != nil {
		return fmt.Errorf("identities: user %s: %w", id.Name, err)
	}
	creds, err := jwt.FormatUserConfig(tok, seed)
	if err != nil {
		return fmt.Errorf("identities: creds of %s: %w", id.Name, err)
	}
	return writeAtomic(path, creds)
}
