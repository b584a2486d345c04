package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/xianyang/anzhi/audit"
	"github.com/xianyang/anzhi/subscribers"
)

const auditLong = `Prove that nobody altered or removed an entry of the canonical log.

The hub keeps an RFC 6962 Merkle tree over every log entry in sequence order
and signs checkpoints of it (C2SP tlog-checkpoint, as C2SP signed notes with
Ed25519) into the audit stream. Auditors check them with the
hub's verifier key, kept from a trusted source (the hub logs it when it makes
its key; GET /api/v1/audit/key serves it): --key takes the key itself or a
file holding it.

  verify        recompute the tree from the log (over NATS, as the auditors'
                identity) and check every checkpoint; exit 3 naming the first
                sequence where history diverges
  prove SEQ     an inclusion proof of one entry as JSON (HTTP API, overseers)
  check-proof   check such a proof offline, with no hub
  consistency   prove that the current tree extends an old checkpoint kept`

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Verify the log (auditors): the Merkle tree, signed checkpoints, proofs", Long: auditLong}
	var natsURL, key, apiURL, old string
	var from uint64
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the tree from the log and check every signed checkpoint",
		Args:  cobra.NoArgs,
		Example: `  anzhi audit verify --creds ids/auditor.creds --key hub.vkey
  anzhi audit verify --from 1000000 --key hub.vkey`,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuditVerify(cmd.Context(), natsURL, key, from) },
	}
	verify.Flags().StringVar(&natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	verify.Flags().Uint64Var(&from, "from", 0, "take up the tree from the last checkpoint before this log sequence")
	prove := &cobra.Command{
		Use:     "prove SEQ",
		Short:   "Print an inclusion proof of log entry SEQ against a signed checkpoint, as JSON",
		Args:    cobra.ExactArgs(1),
		Example: `  anzhi audit prove 4 --token "$ANZHI_TOKEN" > proof.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || seq == 0 {
				return usageErrorf("SEQ %q: want a log sequence (1, 2, …)", args[0])
			}
			var p audit.InclusionProof
			if err := a.auditGet(cmd.Context(), apiURL, fmt.Sprintf("/api/v1/audit/proof/%d", seq), &p); err != nil {
				return err
			}
			return writeJSON(a.stdout, p)
		},
	}
	check := &cobra.Command{
		Use:     "check-proof FILE",
		Short:   "Check an inclusion proof offline with the hub's verifier key",
		Args:    cobra.ExactArgs(1),
		Example: `  anzhi audit check-proof proof.json --key hub.vkey`,
		RunE:    func(cmd *cobra.Command, args []string) error { return a.runCheckProof(args[0], key) },
	}
	consistency := &cobra.Command{
		Use:     "consistency --old CHECKPOINT",
		Short:   "Prove that the hub's current tree extends an old checkpoint you kept",
		Args:    cobra.NoArgs,
		Example: `  anzhi audit consistency --old checkpoint-2026-11.txt --key hub.vkey`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runAuditConsistency(cmd.Context(), apiURL, old, key)
		},
	}
	consistency.Flags().StringVar(&old, "old", "", "a signed checkpoint kept earlier (the note's text, as /api/v1/audit/checkpoint gives it)")
	for _, c := range []*cobra.Command{prove, consistency} {
		c.Flags().StringVar(&apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
		c.Flags().StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"), "bearer token for the hub's HTTP API (env ANZHI_TOKEN)")
	}
	for _, c := range []*cobra.Command{verify, check, consistency} {
		c.Flags().StringVar(&key, "key", "", "the hub's verifier key, or a file holding it")
	}
	cmd.AddCommand(verify, prove, check, consistency)
	return cmd
}

// auditVerifier reads --key: the verifier key itself or a file holding it.
func auditVerifier(key string) (note.Verifier, error) {
	if key == "" {
		return nil, usageErrorf("--key: give the hub's verifier key (or a file holding it); the hub serves it at /api/v1/audit/key")
	}
	if b, err := os.ReadFile(key); err == nil {
		key = string(b)
	}
	v, err := audit.NewVerifier(key)
	if err != nil {
		return nil, usageErrorf("--key: %w", err)
	}
	return v, nil
}

func (a *app) auditGet(ctx context.Context, apiURL, path string, v any) error {
	c, err := a.apiClient()
	if err != nil {
		return err
	}
	return c.get(ctx, strings.TrimRight(apiURL, "/")+path, v)
}

func (a *app) runAuditVerify(ctx context.Context, natsURL, key string, from uint64) error {
	v, err := auditVerifier(key)
	if err != nil {
		return err
	}
	nc, js, err := a.connectJS(ctx, natsURL, "anzhi-audit-verify")
	if err != nil {
		return err
	}
	defer nc.Close()
	r, err := subscribers.VerifyLog(ctx, js, v, from)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(a.stdout, "problem:", p)
	}
	if !r.OK() {
		if r.Divergence != nil {
			return refusedErrorf("the log does not verify: %s", r.Divergence)
		}
		return refusedErrorf("the log does not verify: %d problem(s)", len(r.Problems))
	}
	latest := "none"
	if r.Latest != nil {
		latest = fmt.Sprintf("size %d", r.Latest.Size)
	}
	fmt.Fprintf(a.stdout, "verified: log entries %d to %d (%d read), %d signed checkpoint(s) hold (latest %s)\n",
		r.From, r.To, r.Entries, r.Checkpoints, latest)
	return nil
}

func (a *app) runCheckProof(file, key string) error {
	v, err := auditVerifier(key)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return usageErrorf("%w", err)
	}
	var p audit.InclusionProof
	if err := json.Unmarshal(b, &p); err != nil {
		return usageErrorf("%s is not an inclusion proof (anzhi audit prove): %w", file, err)
	}
	c, err := p.Check(v)
	if err != nil {
		return refusedErrorf("the proof does not hold: %w", err)
	}
	fmt.Fprintf(a.stdout, "ok: log entry %d is in the tree of %d entries signed by %s (root %x)\n", p.Seq, c.Size, c.Origin, c.Root)
	return nil
}

func (a *app) runAuditConsistency(ctx context.Context, apiURL, oldFile, key string) error {
	v, err := auditVerifier(key)
	if err != nil {
		return err
	}
	if oldFile == "" {
		return usageErrorf("--old: give a signed checkpoint you kept")
	}
	b, err := os.ReadFile(oldFile)
	if err != nil {
		return usageErrorf("--old: %w", err)
	}
	old, err := audit.OpenCheckpoint(b, v)
	if err != nil {
		return refusedErrorf("--old %s: %w", oldFile, err)
	}
	var p audit.ConsistencyProof
	if err := a.auditGet(ctx, apiURL, fmt.Sprintf("/api/v1/audit/consistency?old=%d", old.Size), &p); err != nil {
		return err
	}
	c, err := p.Check(old, v)
	if err != nil {
		return refusedErrorf("the hub's tree does not extend the old checkpoint: %w", err)
	}
	fmt.Fprintf(a.stdout, "ok: the tree of %d entries extends the old one of %d\n%s", c.Size, old.Size, p.Checkpoint)
	return nil
}
