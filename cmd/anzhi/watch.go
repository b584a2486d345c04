package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// watchFlags are the flags of anzhi watch.
type watchFlags struct {
	natsURL string
	county  string
	dept    string
	asJSON  bool
}

func newWatchCmd(a *app) *cobra.Command {
	var f watchFlags
	cmd := &cobra.Command{
		Use:   "watch [--county CODE | --dept UNIT]",
		Short: "Follow the city and its counties live, or a unit's notices, a line per change",
		Long: `Follow the shared view live, for the lead office: the current state of the
city and of every county (or of one county with --county), then a line each
time the hub writes a new state, until interrupted (exit code 0).

A line shows when the hub wrote the state, the area, persons and households,
the employment, insurance, enrolment and 两不愁三保障 rates, the open warnings
(by rule) and the log sequence the state reflects. The hub writes each area at
most once a second, with the latest state. With --json each update is one JSON
object a line: key, revision, written, view (the area's JSON).

The view comes from the NATS KV bucket ` + fact.ViewBucket + `; exit code 1 if it cannot be
read (no hub has run on this NATS).

With --dept UNIT (hrss, county/610424) it follows the unit's notices
instead: a line per warning raised to the unit, escalated, or coming due
within 7 days (` + "`" + `time kind rule entity due responsible` + "`" + `; with --json the notice
CloudEvent, one a line). Notices are read through the unit's own durable
consumer: a watch that stops and starts again takes up after the last notice
it printed, and two watches of one unit share its notices. With identities
on, give the unit's own credentials (--creds hrss.creds): no other identity
may read them.`,
		Example: `  anzhi watch
  anzhi watch --county 610424
  anzhi watch --json | jq -c '{key, persons: .view.indicators.counts.persons}'
  anzhi watch --dept hrss --creds ids/hrss.creds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runWatch(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.StringVar(&f.county, "county", "", "only this county (610424)")
	fl.StringVar(&f.dept, "dept", "", "follow this unit's notices instead (hrss, county/610424)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object a line")
	return cmd
}

func (a *app) runWatch(ctx context.Context, f watchFlags) error {
	if f.dept != "" {
		if f.county != "" {
			return usageErrorf("--county and --dept: give one (--dept follows a unit's notices, --county a county's view)")
		}
		return a.runWatchNotices(ctx, f)
	}
	keys := []string{fact.CityKey, fact.CountyKey("*")}
	if f.county != "" {
		cat, err := a.catalog()
		if err != nil {
			return err
		}
		if _, ok := cat.County(f.county); !ok {
			return usageErrorf("--county %q is not a county of %s (610402 … 610482)", f.county, cat.City.Name)
		}
		keys = []string{fact.CountyKey(f.county)}
	}
	nc, js, err := a.connectJS(ctx, f.natsURL, "anzhi-watch")
	if err != nil {
		return err
	}
	defer nc.Close()
	a.log.Debug("watching the view; interrupt to stop", "keys", keys)
	err = subscribers.WatchAreas(ctx, js, keys, func(u subscribers.AreaUpdate) error {
		if f.asJSON {
			return writeJSONLine(a.stdout, map[string]any{"key": u.Key, "revision": u.Revision, "written": u.Written, "view": u.View})
		}
		_, err := fmt.Fprintln(a.stdout, watchLine(u))
		return err
	})
	if ctx.Err() != nil {
		return nil // interrupted: the watch ends cleanly
	}
	return err
}

// watchLine is the compact line of an update.
func watchLine(u subscribers.AreaUpdate) string {
	v := &u.View
	c := v.Indicators.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s %s  persons %d  households %d", u.Written.In(view.ChinaTime()).Format("2006-01-02 15:04:05"),
		v.Code, v.Name, c["persons"], c["households"])
	for _, r := range tableRates {
		val := "-"
		for _, l := range rateLabels {
			if l.key == r && c[l.den] > 0 {
				val = percent(v.Indicators.Rates[r])
			}
		}
		fmt.Fprintf(&b, "  %s %s", r, val)
	}
	total := 0
	var rules []string
	for r, n := range v.Warnings {
		if n > 0 {
			total += n
			rules = append(rules, r)
		}
	}
	sortRules(rules)
	fmt.Fprintf(&b, "  warnings %d", total)
	if len(rules) > 0 {
		parts := make([]string, len(rules))
		for i, r := range rules {
			parts[i] = r + ":" + strconv.Itoa(v.Warnings[r])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, " "))
	}
	fmt.Fprintf(&b, "  seq %d", v.Seq)
	return b.String()
}
