package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// rejectionsFlags are the flags of anzhi rejections.
type rejectionsFlags struct {
	natsURL string
	dept    string
	since   string
	after   uint64
	limit   int
	asJSON  bool
	follow  bool
}

func newRejectionsCmd(a *app) *cobra.Command {
	var f rejectionsFlags
	cmd := &cobra.Command{
		Use:   "rejections",
		Short: "Show the rejection ledger: messages the hub refused and why",
		Long: `Show the rejection ledger: every message the hub refused, with every reason.

Entries are read from the canonical log in order; --after and --since select
where to start, --limit how many to show (use the printed --after to page on).
With --follow, every entry from --after or --since (from the start when
neither is given) is printed, whatever --limit says, then each new one as the
hub records it, until interrupted. Following reads the ledger itself, so a
dropped connection loses nothing; a connection lost for good ends the command
with exit 1.`,
		Example: `  anzhi rejections --dept edu --since 2024-05-01
  anzhi rejections --since 2024-05-01T14:30:00+08:00
  anzhi rejections --json | jq .violations
  anzhi rejections --dept county/610424 --follow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runRejections(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.StringVar(&f.dept, "dept", "", "only this department (edu, county/610424, unknown)")
	fl.StringVar(&f.since, "since", "", "only entries recorded at or after this time: a date (midnight China time) or RFC 3339")
	fl.Uint64Var(&f.after, "after", 0, "only entries after this log sequence")
	fl.IntVar(&f.limit, "limit", 100, "at most this many entries (1 to 10000)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object a line")
	fl.BoolVar(&f.follow, "follow", false, "print every entry from --after/--since on, then new ones as they come, until interrupted")
	return cmd
}

func (a *app) runRejections(ctx context.Context, f rejectionsFlags) error {
	q := subscribers.RejectionQuery{Department: f.dept, After: f.after, Limit: f.limit}
	if f.dept != "" && f.dept != "unknown" {
		cat, err := a.catalog()
		if err != nil {
			return err
		}
		if _, err := cat.ParsePublisher(f.dept); err != nil {
			return usageErrorf("--dept: %w", err)
		}
	}
	if f.since != "" && f.after > 0 {
		return usageErrorf("--since and --after both say where to start: give one")
	}
	if f.since != "" {
		t, err := parseFactTime(f.since)
		if err != nil {
			return usageErrorf("--since: %w", err)
		}
		q.Since = t
	}
	if f.limit < 1 || f.limit > 10000 {
		return usageErrorf("--limit must be from 1 to 10000, got %d", f.limit)
	}
	nc, js, err := a.connectJS(ctx, f.natsURL, "anzhi-rejections")
	if err != nil {
		return err
	}
	defer nc.Close()

	if f.follow {
		a.log.Info("following the rejection ledger; interrupt to stop")
		err := subscribers.FollowRejections(ctx, js, q, func(r subscribers.LoggedRejection) error {
			return a.printRejection(r, f.asJSON)
		})
		if err != nil {
			return explainRefusal(nc, fmt.Errorf("%w (has a hub run on this NATS?)", err))
		}
		return nil
	}
	items, next, err := subscribers.Rejections(ctx, js, q)
	if err != nil {
		return explainRefusal(nc, fmt.Errorf("read the rejection ledger (has a hub run on this NATS?): %w", err))
	}
	for _, r := range items {
		if err := a.printRejection(r, f.asJSON); err != nil {
			return err
		}
	}
	if len(items) == 0 && !f.asJSON {
		if _, err := fmt.Fprintln(a.stdout, "no rejections"); err != nil {
			return err
		}
	}
	if next > 0 {
		a.log.Info("more rejections in the ledger", "next", fmt.Sprintf("--after %d", next))
	}
	return nil
}

// printRejection prints one rejection as a JSON line or a block.
func (a *app) printRejection(r subscribers.LoggedRejection, asJSON bool) error {
	if asJSON {
		return writeJSONLine(a.stdout, r)
	}
	seq := "-"
	if r.Seq > 0 {
		seq = fmt.Sprint(r.Seq)
	}
	w := a.stdout
	fmt.Fprintf(w, "rejection %s  %s\n", seq, r.Received.In(view.ChinaTime()).Format(time.RFC3339)) // RFC 3339, as --since takes it
	fmt.Fprintf(w, "  department  %s\n", r.Department)
	fmt.Fprintf(w, "  subject     %s\n", r.Subject)
	if r.ID != "" {
		fmt.Fprintf(w, "  id          %s\n", r.ID)
	}
	if r.Type != "" {
		fmt.Fprintf(w, "  type        %s\n", r.Type)
	}
	if r.Sender != "" {
		fmt.Fprintf(w, "  sender      %s\n", r.Sender)
	}
	fmt.Fprintf(w, "  intake seq  %d\n", r.IntakeSeq)
	writeViolations(w, "  ", r.Violations)
	if r.OmittedViolations > 0 {
		fmt.Fprintf(w, "  … and %d more violations, left out of the ledger to keep its record small\n", r.OmittedViolations)
	}
	_, err := fmt.Fprintln(w)
	return err
}
