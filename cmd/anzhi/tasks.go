package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/view"
)

// tasksFlags are the flags of anzhi tasks.
type tasksFlags struct {
	apiURL string
	dept   string
	county string
	status string
	asJSON bool
	cut    cutFlags
}

func newTasksCmd(a *app) *cobra.Command {
	var f tasksFlags
	cmd := &cobra.Command{
		Use:   "tasks [TASK_ID]",
		Short: "Show the responsibility list's task board (责任清单)",
		Long: `Show the task board: every unit's share of every task of the responsibility
list (the annex's, amended by the lead office's plan.task) and of the issues
joint meetings assigned, with its next milestone, the unit's latest progress,
its status on the hub's clock — overdue, at_risk, on_track, ongoing, done,
withdrawn; overdue first — and a mark (!) where the unit reports the task
done while an indicator it moves says otherwise. An overdue row carries its
R15 warning.

With a task id, show that task with every unit's row and the indicators it
moves. Read from the hub's HTTP API (GET /api/v1/tasks, /api/v1/tasks/{id});
--json prints what the API gives.

Exit codes: 0 shown; 1 the API unreachable or refusing; 2 usage error.`,
		Example: `  anzhi tasks --status overdue
  anzhi tasks --dept hrss
  anzhi tasks --county 610424
  anzhi tasks RL25-1`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return a.runTasks(cmd.Context(), f, id)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"),
		"HTTP bearer token, for a hub that enforces identities (anzhi identities token NAME; env ANZHI_TOKEN)")
	fl.StringVar(&f.dept, "dept", "", "only this unit's rows (hrss, county/610424)")
	fl.StringVar(&f.county, "county", "", "only the rows of this county's government (610424)")
	fl.StringVar(&f.status, "status", "", "only rows with this status ("+strings.Join(view.TaskStatuses(), ", ")+")")
	fl.BoolVar(&f.asJSON, "json", false, "print the API's JSON")
	fl.StringVar(&f.cut.asOf, "as-of", "", "the board as the hub knew it then: a date (the end of that day, CST), an RFC 3339 time or a log sequence")
	fl.StringVar(&f.cut.effective, "effective", "", "the board at this date or RFC 3339 time, from the facts in effect by then")
	return cmd
}

func (a *app) runTasks(ctx context.Context, f tasksFlags, id string) error {
	if err := f.cut.check(); err != nil {
		return err
	}
	if f.status != "" && !slices.Contains(view.TaskStatuses(), f.status) {
		return usageErrorf("--status %q: want %s", f.status, strings.Join(view.TaskStatuses(), ", "))
	}
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if f.dept != "" && !cat.ValidDepartment(f.dept) {
		return usageErrorf("--dept %q: not a department of the registry or a county government (county/610424)", f.dept)
	}
	if f.county != "" {
		if _, ok := cat.County(f.county); !ok {
			return usageErrorf("--county %q: not a county of %s", f.county, cat.City.Name)
		}
	}
	base, err := apiBase(f.apiURL)
	if err != nil {
		return err
	}
	client, err := a.apiClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	f.cut.query(q)
	if id != "" {
		var raw json.RawMessage
		if err := client.get(ctx, base+"/api/v1/tasks/"+url.PathEscape(id)+"?"+q.Encode(), &raw); err != nil {
			return err
		}
		if f.asJSON {
			return writeLine(a, raw)
		}
		var d view.TaskDetail
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("task %s from %s: %w", id, base, err)
		}
		fmt.Fprintf(a.stdout, "%s  %s\n", d.TaskID, d.Title)
		if d.Text != "" {
			fmt.Fprintf(a.stdout, "完成时限: %s\n", d.Text)
		}
		printTaskRows(a, d.Units, true)
		return nil
	}
	for k, v := range map[string]string{"dept": f.dept, "county": f.county, "status": f.status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var raw json.RawMessage
	if err := client.get(ctx, base+"/api/v1/tasks?"+q.Encode(), &raw); err != nil {
		return err
	}
	if f.asJSON {
		return writeLine(a, raw)
	}
	var board struct {
		Items []view.TaskView `json:"items"`
	}
	if err := json.Unmarshal(raw, &board); err != nil {
		return fmt.Errorf("the board from %s: %w", base, err)
	}
	printTaskRows(a, board.Items, false)
	return nil
}

// printTaskRows prints the board's rows as a table, and a count by status.
func printTaskRows(a *app, rows []view.TaskView, indicators bool) {
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tTASK\tUNIT\tDUE\tTARGET\tPROGRESS\tREPORTED\tWHY")
	count := map[string]int{}
	for _, r := range rows {
		count[r.Board]++
		mark := ""
		if r.Contradicted {
			mark = " !"
		}
		progress := "-"
		if r.Progress != "" {
			progress = fmt.Sprintf("%s %d%%", r.Progress, r.Percent)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Board, mark, r.TaskID, r.Owner, orDash(r.Deadline), orDash(r.Target), progress, orDash(r.Reported), r.Why)
		if indicators {
			for _, in := range r.Indicators {
				fmt.Fprintf(tw, "\t\t\t\t%s\t%.1f%% of %.0f%% (%s)\t\t\n", in.Rate, in.Value*100, in.Target*100, in.Grade)
			}
			if r.Contradicted {
				fmt.Fprintf(tw, "\t\t\t\t\t\t\t%s\n", r.Contradiction)
			}
		}
	}
	tw.Flush()
	var parts []string
	for _, s := range view.TaskStatuses() {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	fmt.Fprintf(a.stdout, "%d rows: %s\n", len(rows), strings.Join(parts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeLine prints raw JSON compacted on one line.
func writeLine(a *app, raw json.RawMessage) error {
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

// assessmentFlags are the flags of anzhi assessment.
type assessmentFlags struct {
	apiURL  string
	quarter string
	county  string
	asJSON  bool
}

func newAssessmentCmd(a *app) *cobra.Command {
	var f assessmentFlags
	cmd := &cobra.Command{
		Use:   "assessment [--quarter 2025Q4] [--county CODE]",
		Short: "Score the counties' follow-up work for a quarter, line by line",
		Long: `Score each county's follow-up work (易地扶贫搬迁后续扶持) out of 100, line by
line — the indicator, its value, its target, its weight, the points — with
the weight the county's own assessment scheme gives the follow-up work (R19
asks at least 30%) and what it contributes. A quarter that has ended is
scored as the hub knew it at the quarter's end; the current quarter (the
default) on the live view. Read from GET /api/v1/assessment.

Exit codes: 0 shown; 1 the API unreachable or refusing; 2 usage error.`,
		Example: `  anzhi assessment
  anzhi assessment --quarter 2025Q4 --county 610424`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAssessment(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"),
		"HTTP bearer token, for a hub that enforces identities (anzhi identities token NAME; env ANZHI_TOKEN)")
	fl.StringVar(&f.quarter, "quarter", "", "the quarter (2025Q4; default the current one)")
	fl.StringVar(&f.county, "county", "", "only this county (610424), with its lines")
	fl.BoolVar(&f.asJSON, "json", false, "print the API's JSON")
	return cmd
}

func (a *app) runAssessment(ctx context.Context, f assessmentFlags) error {
	if _, _, ok := view.ParseQuarter(f.quarter); f.quarter != "" && !ok {
		return usageErrorf("--quarter %q: not a quarter (e.g. 2025Q4)", f.quarter)
	}
	base, err := apiBase(f.apiURL)
	if err != nil {
		return err
	}
	client, err := a.apiClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	if f.quarter != "" {
		q.Set("quarter", f.quarter)
	}
	if f.county != "" {
		q.Set("county", f.county)
	}
	var raw json.RawMessage
	if err := client.get(ctx, base+"/api/v1/assessment?"+q.Encode(), &raw); err != nil {
		return err
	}
	if f.asJSON {
		return writeLine(a, raw)
	}
	var as struct {
		Quarter  string                `json:"quarter"`
		Closed   bool                  `json:"closed"`
		Counties []view.AssessmentView `json:"counties"`
	}
	if err := json.Unmarshal(raw, &as); err != nil {
		return fmt.Errorf("the assessment from %s: %w", base, err)
	}
	state := "as the hub knew it at the quarter's end"
	if !as.Closed {
		state = "to date (the quarter has not ended)"
	}
	fmt.Fprintf(a.stdout, "Assessment of the follow-up work, %s, %s\n", as.Quarter, state)
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tCOUNTY\tSCORE\tWEIGHT\tCONTRIBUTION\tFINDING")
	for _, c := range as.Counties {
		fmt.Fprintf(tw, "%d\t%s %s\t%.2f\t%.0f%% (%s)\t%.2f\t%s\n", c.Rank, c.County, c.Name, c.Score, c.Weight*100, c.WeightFrom, c.Contribution, c.Finding)
	}
	tw.Flush()
	if len(as.Counties) == 1 {
		tw = tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "LINE\tVALUE\tTARGET\tWEIGHT\tPOINTS\tBASIS")
		for _, l := range as.Counties[0].Lines {
			fmt.Fprintf(tw, "%s\t%.1f%%\t%.0f%%\t%.0f%%\t%.2f\t%s\n", l.Line, l.Value*100, l.Target*100, l.Weight*100, l.Points, l.Basis)
		}
		tw.Flush()
	}
	return nil
}
