package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/view"
)

// defaultAPIURL is the hub's HTTP API as anzhi hub serves it by default.
const defaultAPIURL = "http://127.0.0.1:8080"

func apiURLDefault() string {
	if u := os.Getenv("ANZHI_API_URL"); u != "" {
		return u
	}
	return defaultAPIURL
}

// viewWarningsFlags are the flags of anzhi view warnings.
type viewWarningsFlags struct {
	apiURL string
	county string
	rule   string
	dept   string
	state  string
	limit  int
	asJSON bool
	cut    cutFlags
}

// warningStates are the supervision states a warning can be in.
var warningStates = []string{"open", "acknowledged", "escalated"}

// maxWarningsShown bounds --limit; the API gives at most apiPageLimit a page.
const (
	maxWarningsShown = 10000
	apiPageLimit     = 1000
)

func newViewWarningsCmd(a *app) *cobra.Command {
	var f viewWarningsFlags
	cmd := &cobra.Command{
		Use:   "warnings",
		Short: "Show the open warnings (预警) and their supervision (督办)",
		Long: `Show the open warnings: the rule broken, the entity it is about, the units
responsible, when the hub raised it and when it is due (China Standard
Time), and its supervision state (open, acknowledged, escalated).

Warnings are read from the hub's HTTP API (GET /api/v1/warnings), ordered by
rule number and entity; --county, --rule, --dept and --state narrow them,
--limit says how many to show at most. With --json each warning is printed
as the API gives it, one JSON object a line.

Exit codes: 0 shown (also when there are none); 1 the API unreachable or
refusing; 2 usage error.`,
		Example: `  anzhi view warnings
  anzhi view warnings --county 610424 --rule R4
  anzhi view warnings --dept edu --state escalated --json | jq .entity_id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runViewWarnings(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"),
		"HTTP bearer token, for a hub that enforces identities (anzhi identities token NAME; env ANZHI_TOKEN)")
	fl.StringVar(&f.county, "county", "", "only warnings of this county (610424), or 610400 for the city's own")
	fl.StringVar(&f.rule, "rule", "", "only warnings of this rule (R4)")
	fl.StringVar(&f.dept, "dept", "", "only warnings this unit is responsible for (edu, county/610424)")
	fl.StringVar(&f.state, "state", "", "only warnings in this supervision state ("+strings.Join(warningStates, ", ")+")")
	fl.IntVar(&f.limit, "limit", 100, "at most this many warnings (1 to 10000)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object a line, as the API gives it")
	fl.StringVar(&f.cut.asOf, "as-of", "", "the warnings open as the hub knew them then: a date (the end of that day, CST), an RFC 3339 time or a log sequence")
	fl.StringVar(&f.cut.effective, "effective", "", "the warnings open at this date or RFC 3339 time, from the facts in effect by then")
	return cmd
}

// warningQuery checks the flags and returns the API's query parameters.
func (a *app) warningQuery(f viewWarningsFlags) (url.Values, error) {
	q := url.Values{}
	if err := f.cut.check(); err != nil {
		return nil, err
	}
	f.cut.query(q)
	if f.limit < 1 || f.limit > maxWarningsShown {
		return nil, usageErrorf("--limit must be from 1 to %d, got %d", maxWarningsShown, f.limit)
	}
	if f.state != "" && !slices.Contains(warningStates, f.state) {
		return nil, usageErrorf("--state %q: want %s", f.state, strings.Join(warningStates, ", "))
	}
	if f.county != "" || f.rule != "" || f.dept != "" {
		cat, err := a.catalog()
		if err != nil {
			return nil, err
		}
		if f.county != "" && !cat.ValidArea(f.county) {
			return nil, usageErrorf("--county %q: not a county of %s (six-digit code such as 610424, or %s for the city)",
				f.county, cat.City.Name, cat.City.Code)
		}
		if f.rule != "" {
			if _, ok := cat.Rules().Rule(f.rule); !ok {
				return nil, usageErrorf("--rule %q: not a rule of the rule book (R1 to R%d)", f.rule, len(cat.Rules().Rules))
			}
		}
		if f.dept != "" {
			if _, err := cat.ParsePublisher(f.dept); err != nil {
				return nil, usageErrorf("--dept: %w", err)
			}
		}
	}
	for k, v := range map[string]string{"county": f.county, "rule": f.rule, "dept": f.dept, "state": f.state} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q, nil
}

// shownWarning is a warning as the API gives it; evidence is left as it
// came (its keys are hex there).
type shownWarning struct {
	view.Warning
	Evidence []json.RawMessage `json:"evidence"`
	raw      json.RawMessage
}

func (a *app) runViewWarnings(ctx context.Context, f viewWarningsFlags) error {
	q, err := a.warningQuery(f)
	if err != nil {
		return err
	}
	base, err := apiBase(f.apiURL)
	if err != nil {
		return err
	}
	client, err := a.apiClient()
	if err != nil {
		return err
	}
	ws, more, err := fetchWarnings(ctx, client, base, q, f.limit)
	if err != nil {
		return err
	}
	if f.asJSON {
		var line bytes.Buffer
		for _, w := range ws {
			line.Reset()
			if err := json.Compact(&line, w.raw); err != nil {
				return err
			}
			line.WriteByte('\n')
			if _, err := a.stdout.Write(line.Bytes()); err != nil {
				return err
			}
		}
		return nil
	}
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	p := &viewPrinter{w: a.stdout, cat: cat}
	return p.openWarnings(ws, more, describeFilters(f))
}

// fetchWarnings reads up to limit warnings a page at a time, and whether
// more follow.
func fetchWarnings(ctx context.Context, client *apiClient, base string, q url.Values, limit int) ([]shownWarning, bool, error) {
	var out []shownWarning
	for {
		q.Set("limit", strconv.Itoa(min(limit-len(out), apiPageLimit)))
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := client.get(ctx, base+"/api/v1/warnings?"+q.Encode(), &page); err != nil {
			return nil, false, err
		}
		for _, raw := range page.Items {
			w := shownWarning{raw: raw}
			if err := json.Unmarshal(raw, &w); err != nil {
				return nil, false, fmt.Errorf("a warning from %s: %w", base, err)
			}
			out = append(out, w)
		}
		if page.Next == "" || len(page.Items) == 0 {
			return out, false, nil
		}
		if len(out) >= limit {
			return out, true, nil
		}
		q.Set("after", page.Next)
	}
}

// describeFilters names the flags that narrowed the list.
func describeFilters(f viewWarningsFlags) string {
	var parts []string
	for _, x := range []struct{ name, v string }{{"county", f.county}, {"rule", f.rule}, {"dept", f.dept}, {"state", f.state}} {
		if x.v != "" {
			parts = append(parts, x.name+" "+x.v)
		}
	}
	return strings.Join(parts, ", ")
}

// openWarnings prints a list of open warnings as a table.
func (p *viewPrinter) openWarnings(ws []shownWarning, more bool, filters string) error {
	scope := ""
	if filters != "" {
		scope = " (" + filters + ")"
	}
	if len(ws) == 0 {
		_, err := fmt.Fprintf(p.w, "无预警 no open warnings%s\n", scope)
		return err
	}
	shown := strconv.Itoa(len(ws))
	if more {
		shown += "+ (more follow: raise --limit or narrow with --county, --rule, --dept, --state)"
	}
	fmt.Fprintf(p.w, "预警 open warnings%s: %s\n", scope, shown)
	header := []string{"rule", "entity", "area", "responsible", "raised (CST)", "due", "supervision", "message"}
	rows := make([][]string, 0, len(ws))
	for _, w := range ws {
		entity := w.EntityID
		if w.EntityKind == "person" {
			entity = "person " + shortKey(entity)
		}
		state := w.Supervision
		if w.Level == "escalated" && state != "escalated" {
			state += " (escalated)"
		}
		raised := "-"
		if !w.RaisedAt.IsZero() {
			raised = w.RaisedAt.In(view.ChinaTime()).Format("2006-01-02 15:04")
		}
		rows = append(rows, []string{w.Rule, entity, w.Area, strings.Join(w.Responsible, ","), raised,
			view.ShowDate(w.Due), state, truncateRunes(w.Message, 60)})
	}
	return writeTable(p.w, header, rows)
}

// truncateRunes shortens s to n characters for a table.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
