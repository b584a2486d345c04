package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/subscribers/report"
	"github.com/xianyang/anzhi/view"
)

// reportFlags are the flags of anzhi report.
type reportFlags struct {
	apiURL  string
	quarter string
	format  string
	county  string
	output  string
}

// reportWait bounds how long the hub may take to build a report: a
// quarter that has ended is read from a cut of the log it may have to
// fold first.
const reportWait = 5 * time.Minute

func newReportCmd(a *app) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report [--quarter 2025Q4] [--format xlsx|html|md] [--county CODE] [-o FILE]",
		Short: "Write the quarterly report for the joint meeting (联席会议)",
		Long: `Write the quarterly report, the pack of ledgers (台账) for the joint meeting:
the indicators of the city and each county against their targets and against
last quarter; 两不愁三保障 by county; the warnings by rule and supervision
state, with the oldest open named; the overdue tasks by unit; the problems
fed back (问题反馈) and how each was handled; the funds allocated and
disbursed by county and project; the units' freshness and rejections; the
counties' assessment line by line.

  xlsx  a workbook, one sheet a ledger, Chinese headers frozen, yuan with
        two decimals, percentages
  html  a page to print on A4, a page a section, charts inline; it loads
        nothing
  md    Markdown, for quick reading

A quarter that has ended is reported as the hub knew it at the quarter's
end (China Standard Time): the same report however many facts arrived
since. The current quarter (the default) is reported as it stands. Read from
the hub's HTTP API (GET /api/v1/reports/{quarter}.{format}); a county
government's token reads its own county's report only.

-o names the file (default anzhi-report-<quarter>[-<county>].<format> in
the current directory; - for standard output). Without --format, the format
is -o's extension, else xlsx.

Exit codes: 0 written; 1 the API unreachable or refusing; 2 usage error.`,
		Example: `  anzhi report --quarter 2025Q4 --format xlsx -o 2025Q4联席会议.xlsx
  anzhi report --quarter 2025Q4 --format html --county 610424
  anzhi report --format md -o - | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runReport(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API (env ANZHI_API_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"),
		"HTTP bearer token, for a hub that enforces identities (anzhi identities token NAME; env ANZHI_TOKEN)")
	fl.StringVar(&f.quarter, "quarter", "", "the quarter (2025Q4; default the current one, China Standard Time)")
	fl.StringVar(&f.format, "format", "", "xlsx, html or md (default -o's extension, else xlsx)")
	fl.StringVar(&f.county, "county", "", "only this county (610424)")
	fl.StringVarP(&f.output, "output", "o", "", "write to this file (- for standard output)")
	return cmd
}

// reportFormat is the format the flags ask for.
func (f reportFlags) reportFormat() (report.Format, error) {
	name := f.format
	if name == "" {
		name = strings.TrimPrefix(strings.ToLower(filepath.Ext(f.output)), ".")
		if _, err := report.ParseFormat(name); err != nil {
			name = string(report.XLSX)
		}
	}
	format, err := report.ParseFormat(name)
	if err != nil {
		return "", usageErrorf("--format %q: want xlsx, html or md", f.format)
	}
	return format, nil
}

func (a *app) runReport(ctx context.Context, f reportFlags) error {
	quarter := f.quarter
	if quarter == "" {
		quarter = view.QuarterOf(time.Now().In(view.ChinaTime()))
	}
	if _, _, ok := view.ParseQuarter(quarter); !ok {
		return usageErrorf("--quarter %q: not a quarter (e.g. 2025Q4)", f.quarter)
	}
	format, err := f.reportFormat()
	if err != nil {
		return err
	}
	if f.county != "" {
		cat, err := a.catalog()
		if err != nil {
			return err
		}
		if _, ok := cat.County(f.county); !ok {
			return usageErrorf("--county %q: not a county of %s (six-digit code such as 610424)", f.county, cat.City.Name)
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
	client.http.Timeout = reportWait
	u := base + "/api/v1/reports/" + url.PathEscape(quarter+"."+string(format))
	if f.county != "" {
		u += "?" + url.Values{"county": {f.county}}.Encode()
	}
	body, header, err := client.fetch(ctx, u)
	if err != nil {
		return err
	}
	out := f.output
	if out == "" {
		out = report.FileName(quarter, f.county, format)
	}
	if out == "-" {
		_, err := a.stdout.Write(body)
		return err
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		return fmt.Errorf("-o %s: %w", out, err)
	}
	fmt.Fprintf(a.stderr, "wrote the %s report (%s, %d bytes, from log sequence %s) to %s\n",
		quarter, format, len(body), header.Get(fact.HeaderCutSeq), out)
	return nil
}
