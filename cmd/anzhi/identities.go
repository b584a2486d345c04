package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/identities"
)

const identitiesInitLong = `Make the city's NATS identities in --out: an operator, the hub's account
(the only one with JetStream) and one account per department and county
government, and a user per identity with its credentials file: hub.creds,
lead-office.creds, auditor.creds, edu.creds, county-610424.creds, ... (mode
0600). Start the hub with them (anzhi hub --identities DIR) and give each
department its own .creds file; clients connect with --creds FILE.

keys/ holds the operator's and the accounts' seeds: keep it with the hub's
operators, never hand it out. An existing directory of identities is never
overwritten: new identities would lock every client out.

See SECURITY.md for what each identity may do (anzhi identities table).`

// newIdentitiesCmd builds anzhi identities and its subcommands.
func newIdentitiesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "Make and show the NATS identities of every department, county, the lead office, the auditors and the hub",
		Args:  cobra.NoArgs,
	}
	var out string
	var withCA bool
	var hosts []string
	initCmd := &cobra.Command{
		Use:     "init --out DIR",
		Short:   "Make the city's identities and their .creds files",
		Long:    identitiesInitLong,
		Example: "  anzhi identities init --out ./identities\n  anzhi hub --identities ./identities\n  anzhi publish --creds ./identities/edu.creds --dept edu ...",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if out == "" {
				return usageErrorf("--out DIR is required: where to write the identities")
			}
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			plan, err := identities.Init(out, cat)
			if errors.Is(err, identities.ErrExists) {
				return usageErrorf("%w (delete it first only if no client uses its credentials)", err)
			}
			if err != nil {
				return err
			}
			if _, err = fmt.Fprintf(a.stdout, "made %d identities in %s: one .creds file each (mode 0600); keys/ holds the seeds: keep it with the hub\n", len(plan), out); err != nil {
				return err
			}
			if !withCA {
				return nil
			}
			files, err := identities.InitCA(out, hosts)
			if err != nil {
				return err
			}
			if _, err = fmt.Fprintf(a.stdout, "made a trial CA %s and the hub's certificate %s (key %s): anzhi hub --tls-cert %s --tls-key %s; clients --tls-ca %s\n",
				files.CA, files.Cert, files.Key, files.Cert, files.Key, files.CA); err != nil {
				return err
			}
			cert, key := files.ClientCert("edu")
			_, err = fmt.Fprintf(a.stdout, "and a client certificate per identity in %s, for a hub that wants them (anzhi hub … --tls-client-ca %s; clients --tls-client-cert %s --tls-client-key %s)\n",
				files.Clients, files.CA, cert, key)
			return err
		},
	}
	initCmd.Flags().StringVar(&out, "out", "", "directory to write the identities to (required)")
	initCmd.Flags().BoolVar(&withCA, "ca", false, "also make a local certificate authority, a certificate for the hub and one per identity, for trials of TLS")
	initCmd.Flags().StringSliceVar(&hosts, "host", nil, "a name or address the hub's certificate must cover besides localhost (repeatable)")
	table := &cobra.Command{
		Use:   "table",
		Short: "Print what each identity may do, as the Markdown table of SECURITY.md",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cat, err := a.catalog()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(a.stdout, identities.Table(cat))
			return err
		},
	}
	var dir string
	var revoke bool
	token := &cobra.Command{
		Use:   "token NAME --identities DIR",
		Short: "Issue an HTTP bearer token for an identity (lead-office, auditor, edu, county-610424, ...)",
		Long: `Issue a new HTTP bearer token for the identity NAME and print it. Only its
hash is kept (DIR/tokens.json); the token is shown once. A hub started with
--identities DIR accepts it at once: send it as Authorization: Bearer TOKEN.
What each role may read is in SECURITY.md.`,
		Example: "  TOKEN=$(anzhi identities token lead-office --identities ./identities)\n" +
			`  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/city`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if dir == "" {
				return usageErrorf("--identities DIR is required: the identities the token belongs to")
			}
			if revoke {
				n, err := identities.RevokeTokens(dir, args[0])
				if errors.Is(err, identities.ErrUnknownIdentity) || errors.Is(err, identities.ErrNone) {
					return usageErrorf("%w", err)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "revoked %d token(s) of %s\n", n, args[0])
				return err
			}
			tok, err := identities.IssueToken(dir, args[0])
			if errors.Is(err, identities.ErrUnknownIdentity) || errors.Is(err, identities.ErrNone) {
				return usageErrorf("%w", err)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, tok)
			return err
		},
	}
	token.Flags().StringVar(&dir, "identities", "", "directory of the identities (anzhi identities init)")
	token.Flags().BoolVar(&revoke, "revoke", false, "revoke every token of NAME instead (the hub refuses them from its next request on)")
	reissue := &cobra.Command{
		Use:   "reissue NAME --identities DIR",
		Short: "Make new credentials for an identity and revoke its old ones (key rotation)",
		Long: `Make new credentials for the identity NAME (a new key, the same
permissions), replacing DIR/NAME.creds, and revoke the old ones: its
account, signed again by the operator, lists the old key as revoked. Hand
the new .creds to the identity's holder, then tell the running hub: kill
-HUP its process (or restart it). From then on the old credentials are
refused and connections made with them are closed. Needs DIR/keys (the
seeds); revoke its HTTP tokens too with anzhi identities token NAME --revoke.`,
		Example: "  anzhi identities reissue edu --identities ./identities && kill -HUP $(pidof anzhi)",
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if dir == "" {
				return usageErrorf("--identities DIR is required: the identities NAME is one of")
			}
			id, err := identities.Reissue(dir, args[0])
			if errors.Is(err, identities.ErrUnknownIdentity) || errors.Is(err, identities.ErrNone) {
				return usageErrorf("%w", err)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "reissued %s: new credentials in %s; the old ones are revoked once the hub reloads (kill -HUP, or a restart)\n",
				id.Name, filepath.Join(dir, id.Name+".creds"))
			return err
		},
	}
	reissue.Flags().StringVar(&dir, "identities", "", "directory of the identities (anzhi identities init)")
	cmd.AddCommand(initCmd, table, token, reissue)
	return cmd
}
