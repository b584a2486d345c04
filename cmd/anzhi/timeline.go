package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/view"
)

// timelineFlags are the flags of anzhi timeline.
type timelineFlags struct {
	apiURL string
	asJSON bool
	limit  int
}

func newTimelineCmd(a *app) *cobra.Command {
	var f timelineFlags
	cmd := &cobra.Command{
		Use:   "timeline household|person|site|task|warning ID",
		Short: "Show every entry of the log about an entity, in order (auditors)",
		Long: `Show an entity's timeline: every entry of the canonical log about a
household (its persons' included), a person (person_key), a site, a task or
a warning, in log order, each with its log sequence, the department, when
the hub recorded it, when it took effect, what it stated and the warnings
it raised or resolved.

The timeline is read from the hub's HTTP API (GET /api/v1/timeline/KIND/ID,
--api-url, --token). A household's or a person's timeline is personal data:
a county government reads its own county's, the lead office and the
auditors any; every read by others than the lead office is recorded in the
log. With --json each entry is printed as the API gives it, a line each.

Exit codes: 0 shown; 1 not found, or the API unreachable or refusing; 2
usage error.`,
		Example: `  anzhi timeline household H610424-000001
  anzhi timeline person 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  anzhi timeline warning W-R6-dbf7ae927027a464 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf("timeline needs a kind (%s) and an id", strings.Join(view.TimelineKinds, ", "))
			}
			if !slices.Contains(view.TimelineKinds, args[0]) {
				return usageErrorf("timeline %q: want %s", args[0], strings.Join(view.TimelineKinds, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runTimeline(cmd.Context(), f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"), "bearer token for the HTTP API (env ANZHI_TOKEN; anzhi identities token NAME)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object a line, as the API gives it")
	fl.IntVar(&f.limit, "limit", 10000, "at most this many entries")
	return cmd
}

// shownEntry is what the timeline prints of an entry.
type shownEntry struct {
	raw        json.RawMessage
	Seq        uint64          `json:"log_seq"`
	Recorded   time.Time       `json:"recorded"`
	Time       time.Time       `json:"time"`
	Department string          `json:"department"`
	Family     string          `json:"family"`
	Changed    json.RawMessage `json:"changed"`
	Warnings   []struct {
		WarningID string `json:"warning_id"`
		Rule      string `json:"rule"`
		Change    string `json:"change"`
	} `json:"warnings"`
}

func (a *app) runTimeline(ctx context.Context, f timelineFlags, kind, id string) error {
	if f.limit < 1 {
		return usageErrorf("--limit must be at least 1, got %d", f.limit)
	}
	base, err := apiBase(f.apiURL)
	if err != nil {
		return err
	}
	client, err := a.apiClient()
	if err != nil {
		return err
	}
	var entries []shownEntry
	after := ""
	for len(entries) < f.limit {
		q := url.Values{"limit": {strconv.Itoa(min(f.limit-len(entries), apiPageLimit))}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		u := base + "/api/v1/timeline/" + url.PathEscape(kind) + "/" + url.PathEscape(id) + "?" + q.Encode()
		if err := client.get(ctx, u, &page); err != nil {
			return err
		}
		for _, raw := range page.Items {
			e := shownEntry{raw: raw}
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("an entry of the timeline: %w", err)
			}
			entries = append(entries, e)
		}
		if page.Next == "" || len(page.Items) == 0 {
			break
		}
		after = page.Next
	}
	if f.asJSON {
		for _, e := range entries {
			var line strings.Builder
			b, err := json.Marshal(e.raw)
			if err != nil {
				return err
			}
			line.Write(b)
			line.WriteByte('\n')
			if _, err := fmt.Fprint(a.stdout, line.String()); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(a.stdout, "时间线 timeline of %s %s: %d entries\n", kind, id, len(entries))
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "log seq\trecorded (CST)\teffective\tdepartment\tfamily\twarnings\tstated")
	for _, e := range entries {
		var ws []string
		for _, w := range e.Warnings {
			ws = append(ws, w.Rule+" "+w.Change)
		}
		warn := strings.Join(ws, ", ")
		if warn == "" {
			warn = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Recorded.In(view.ChinaTime()).Format("2006-01-02 15:04:05"),
			effective(e.Time), e.Department, e.Family, warn, stated(e.Changed, 80))
	}
	return tw.Flush()
}

// effective shows a fact's effective time as a date when it is midnight
// (as departments write dates), else in China Standard Time.
func effective(t time.Time) string {
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.UTC().Format(time.DateOnly)
	}
	return t.In(view.ChinaTime()).Format("2006-01-02 15:04")
}

// stated is a fact's data on one line, cut at n runes.
func stated(data json.RawMessage, n int) string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return "-"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
