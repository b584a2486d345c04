package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// This file is the notices of a unit in the CLI: anzhi watch --dept
// follows them over NATS, anzhi notices digest and deliveries read the
// hub's API.

// checkUnitFlag refuses a --dept that is not a responsible unit.
func checkUnitFlag(cat *schemas.Catalog, dept string) error {
	if dept == "" {
		return usageErrorf("--dept is required: the unit (hrss, county/610424)")
	}
	units := subscribers.Units(cat)
	if slices.Contains(units, dept) {
		return nil
	}
	var depts []string
	for _, u := range units {
		if !strings.HasPrefix(u, "county/") {
			depts = append(depts, u)
		}
	}
	hint := ""
	if _, ok := cat.County(dept); ok {
		hint = fmt.Sprintf(" (the county government is county/%s)", dept)
	}
	return usageErrorf("--dept %q is not a responsible unit%s: departments %s; county governments county/%s … county/%s",
		dept, hint, strings.Join(depts, " "), cat.Counties()[0].Code, cat.Counties()[len(cat.Counties())-1].Code)
}

// runWatchNotices follows a unit's notices (anzhi watch --dept).
func (a *app) runWatchNotices(ctx context.Context, f watchFlags) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if err := checkUnitFlag(cat, f.dept); err != nil {
		return err
	}
	// A unit's own identity reads its notices through its account's imports;
	// the hub's identity, or no identity (open trial mode), directly.
	prefix := ""
	if a.creds != "" {
		name, err := identities.CredsName(a.creds)
		if err != nil {
			return usageErrorf("--creds: %w", err)
		}
		switch name {
		case fact.IdentityOf(f.dept):
			prefix = fact.NoticeAPIPrefix
		case identities.HubName:
		default:
			return usageErrorf("--creds %s is the identity %s: a unit reads only its own notices, not those of %s (give %s.creds)",
				a.creds, name, f.dept, fact.IdentityOf(f.dept))
		}
	}
	nc, err := a.connect(ctx, f.natsURL, "anzhi-watch")
	if err != nil {
		return err
	}
	defer nc.Close()
	var js jetstream.JetStream
	if prefix != "" {
		js, err = jetstream.NewWithAPIPrefix(nc, prefix)
	} else {
		js, err = jetstream.New(nc)
	}
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	a.log.Debug("following the unit's notices; interrupt to stop", "dept", f.dept)
	err = subscribers.FollowNotices(ctx, js, f.dept, func(ev subscribers.NoticeEvent) error {
		if f.asJSON {
			return writeJSONLine(a.stdout, ev)
		}
		_, err := fmt.Fprintln(a.stdout, noticeLine(&ev.Data))
		return err
	})
	if ctx.Err() != nil {
		return nil // interrupted: the watch ends cleanly
	}
	return explainRefusal(nc, err)
}

// noticeLine is the line of a notice: when (China Standard Time), kind,
// rule, entity, due date, the units told, and the dashboard path.
func noticeLine(n *subscribers.Notice) string {
	rule, due := n.Rule(), n.DueOn
	if rule == "" {
		rule = "-"
	}
	if due == "" {
		due = "-"
	}
	return fmt.Sprintf("%s  %s  %s  %s  due %s  %s  %s", n.At.In(view.ChinaTime()).Format("2006-01-02 15:04:05"), n.Kind,
		rule, n.Entity(), due, strings.Join(n.Responsible, ","), n.Path)
}

// noticesFlags are the flags of anzhi notices.
type noticesFlags struct {
	apiURL string
	dept   string
	date   string
	limit  int
	asJSON bool
}

func newNoticesCmd(a *app) *cobra.Command {
	var f noticesFlags
	cmd := &cobra.Command{
		Use:   "notices",
		Short: "A unit's notices: its daily digest and its webhook deliveries",
		Long: `What the hub tells a responsible unit of its warnings. Follow them live with
anzhi watch --dept UNIT; these subcommands read the hub's HTTP API.`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
	pf.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"),
		"HTTP bearer token, for a hub that enforces identities (anzhi identities token NAME; env ANZHI_TOKEN)")
	pf.StringVar(&f.dept, "dept", "", "the unit (hrss, county/610424); with identities on, a unit's token reads only its own")
	pf.BoolVar(&f.asJSON, "json", false, "print the API's JSON")
	digest := &cobra.Command{
		Use:   "digest --dept UNIT [--date YYYY-MM-DD]",
		Short: "A unit's day: warnings raised to it, escalated, and due within 7 days",
		Long: `Show a unit's daily digest: the warnings raised to it that day and those
escalated that day (as its notices told it), and its open warnings due from
that day to 7 days after it. Days are China Standard Time on the hub's
recorded clock (default: its current day); the hub keeps 31 days of notices.
Read from GET /api/v1/notices/digest.

Exit codes: 0 shown; 1 the API unreachable or refusing; 2 usage error.`,
		Example: `  anzhi notices digest --dept hrss
  anzhi notices digest --dept county/610424 --date 2021-06-09 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runNoticeDigest(cmd.Context(), f) },
	}
	digest.Flags().StringVar(&f.date, "date", "", "the day (YYYY-MM-DD, China Standard Time; default: the hub's current day)")
	deliveries := &cobra.Command{
		Use:   "deliveries --dept UNIT",
		Short: "A unit's webhook and the latest attempts to POST its notices there",
		Long: `Show the unit's outbound webhook (anzhi hub --webhooks) and its latest
delivery records, newest first: delivered, retrying, or failed with the
status or error. Read from GET /api/v1/notices/deliveries.

Exit codes: 0 shown; 1 the API unreachable or refusing; 2 usage error.`,
		Example: "  anzhi notices deliveries --dept hrss --limit 20",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.runDeliveries(cmd.Context(), f) },
	}
	deliveries.Flags().IntVar(&f.limit, "limit", 20, "at most this many records (1 to 1000)")
	cmd.AddCommand(digest, deliveries)
	return cmd
}

func (a *app) runNoticeDigest(ctx context.Context, f noticesFlags) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if err := checkUnitFlag(cat, f.dept); err != nil {
		return err
	}
	q := url.Values{"dept": {f.dept}}
	if f.date != "" {
		if _, err := time.Parse(time.DateOnly, f.date); err != nil {
			return usageErrorf("--date %q: want YYYY-MM-DD", f.date)
		}
		q.Set("date", f.date)
	}
	c, err := a.apiClient()
	if err != nil {
		return err
	}
	var d subscribers.NoticeDigest
	if err := c.get(ctx, strings.TrimRight(f.apiURL, "/")+"/api/v1/notices/digest?"+q.Encode(), &d); err != nil {
		return err
	}
	if f.asJSON {
		return writeJSON(a.stdout, d)
	}
	w := a.stdout
	fmt.Fprintf(w, "%s  %s  (clock %s)\n", d.Dept, d.Date, d.Clock.Format("2006-01-02 15:04"))
	for _, part := range []struct {
		title string
		ws    []subscribers.NoticeWarning
	}{{"新预警 new", d.New}, {"已升级 escalated", d.Escalated}, {"7日内到期 due within 7 days", d.Due}} {
		fmt.Fprintf(w, "\n%s: %d\n", part.title, len(part.ws))
		var rows [][]string
		for _, x := range part.ws {
			rows = append(rows, []string{x.Rule, x.EntityKind + "/" + x.EntityID, x.Area, x.Due.Format(time.DateOnly), x.Level,
				strings.Join(x.Responsible, ",")})
		}
		if len(rows) > 0 {
			if err := writeTable(w, []string{"rule", "entity", "area", "due", "level", "responsible"}, rows); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *app) runDeliveries(ctx context.Context, f noticesFlags) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if err := checkUnitFlag(cat, f.dept); err != nil {
		return err
	}
	if f.limit < 1 || f.limit > 1000 {
		return usageErrorf("--limit must be from 1 to 1000, got %d", f.limit)
	}
	c, err := a.apiClient()
	if err != nil {
		return err
	}
	var l subscribers.DeliveryLog
	q := url.Values{"dept": {f.dept}, "limit": {fmt.Sprint(f.limit)}}
	if err := c.get(ctx, strings.TrimRight(f.apiURL, "/")+"/api/v1/notices/deliveries?"+q.Encode(), &l); err != nil {
		return err
	}
	if f.asJSON {
		return writeJSON(a.stdout, l)
	}
	hook := l.Webhook
	if hook == "" {
		hook = "no webhook"
	}
	fmt.Fprintf(a.stdout, "%s  %s  delivered %d  failed %d\n", l.Dept, hook, l.Delivered, l.Failed)
	var rows [][]string
	for _, d := range l.Items {
		status := "-"
		if d.Status != 0 {
			status = fmt.Sprint(d.Status)
		}
		rows = append(rows, []string{d.At.In(view.ChinaTime()).Format("2006-01-02 15:04:05"), d.Outcome, fmt.Sprint(d.Attempt), status,
			d.NoticeID, d.Error})
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(a.stdout, "no deliveries")
		return err
	}
	return writeTable(a.stdout, []string{"at (CST)", "outcome", "attempt", "status", "notice", "error"}, rows)
}
