package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/publishers/simulate"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// demoFlags are the flags of anzhi demo.
type demoFlags struct {
	data       string
	keep       bool
	natsListen string
	httpAddr   string
	persons    int
	seed       uint64
	exit       bool
	readyFile  string
}

func newDemoCmd(a *app) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the hub on a simulated Xianyang and show what the lead office sees",
		Long: `Run the whole system on one machine: a hub with an embedded NATS server, and
every department of a simulated Xianyang (14 counties, ≈150 resettlement
sites, 2019-2025) publishing its facts as itself through the publisher
library — including a few bad events the hub must refuse. The facts go out
in time order, a simulated week at a time, and the hub's clock ticks at the
end of each week, so warnings are raised when their facts happen. The
departments answer many of the warnings raised against them (issue.report:
acknowledged, action taken, rectified) after days or weeks, put the facts
behind many right so that they resolve, and let others go past due so that
they escalate to the lead office. A summary is then printed: facts accepted
and rejected, the city's indicators, the early warnings open by rule and
their supervision history by half-year. The hub then keeps serving its HTTP
API and NATS until interrupted (Ctrl-C).

The data goes to a new temporary directory, removed on exit, unless --data
names one (then it is kept).`,
		Example: `  go run ./cmd/anzhi demo
  anzhi demo --persons 5000 --exit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDemo(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "keep the hub's data in this directory (default: a temporary one, removed on exit)")
	fl.StringVar(&f.natsListen, "nats-listen", "127.0.0.1:4222", "host:port of the embedded NATS server (port 0: a free port)")
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "host:port of the HTTP API (port 0: a free port)")
	fl.IntVar(&f.persons, "persons", 0, "simulated population (default: Xianyang's, ≈50,000 persons)")
	fl.Uint64Var(&f.seed, "seed", 1, "simulation seed: the same seed gives the same world")
	fl.BoolVar(&f.exit, "exit", false, "exit after the summary instead of serving until interrupted")
	fl.StringVar(&f.readyFile, "ready-file", "", "write the NATS and HTTP URLs as JSON to this file once the summary is printed")
	_ = fl.MarkHidden("ready-file")
	return cmd
}

func (a *app) runDemo(cmd *cobra.Command, f demoFlags) error {
	if f.persons < 0 {
		return usageErrorf("--persons must not be negative, got %d", f.persons)
	}
	ctx := cmd.Context()
	dir := f.data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "anzhi-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		dir = tmp
		defer os.RemoveAll(tmp)
	}
	sim, err := simulate.New(simulate.Config{Scale: simulate.ScaleXianyang, Seed: f.seed, Persons: f.persons})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// Every department, county, the lead office and the auditors get an
	// identity, as in a real deployment: each department publishes with its
	// own credentials, and the HTTP API wants the lead office's token.
	idDir := filepath.Join(dir, "identities")
	ids, err := identities.Load(idDir)
	if errors.Is(err, identities.ErrNone) {
		var cat *schemas.Catalog
		if cat, err = a.catalog(); err == nil {
			if _, err = identities.Init(idDir, cat); err == nil {
				ids, err = identities.Load(idDir)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("demo: identities: %w", err)
	}
	token, err := identities.IssueToken(idDir, identities.LeadOfficeName)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The demo drives the hub's clock itself: the facts are of 2019-2025,
	// and the rules judge them as of the end of that period.
	h, err := hub.Start(ctx, hub.Config{DataDir: dir, NATSListen: f.natsListen, HTTPAddr: f.httpAddr,
		TickEvery: -1, Logger: a.log, Identities: ids})
	if err != nil {
		return fmt.Errorf("demo: start the hub: %w", err)
	}
	defer h.Close()
	sites, persons := sim.Sites()
	a.log.Info("demo hub started", "data", dir, "nats", h.ClientURL(), "http", "http://"+h.HTTPAddr())
	fmt.Fprintf(a.stderr, "simulating Xianyang: %d sites, %d persons, 14 counties; publishing every department's facts…\n", sites, persons)
	// The summary reads the log and the view as the hub does.
	nc, err := nats.Connect(h.ClientURL(), nats.Name("anzhi-demo"), nats.UserCredentials(ids.CredsFile(identities.HubName)))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer nc.Close()
	connect := func(dept string) (*nats.Conn, error) {
		opts, err := identities.ClientOptions(ids.CredsFile(fact.IdentityOf(dept)))
		if err != nil {
			return nil, err
		}
		return nats.Connect(h.ClientURL(), opts...)
	}
	start := time.Now()
	// The departments read the warnings raised against them from the view,
	// as they would through GET /api/v1/warnings.
	openWarnings := func(context.Context) ([]view.Warning, error) { return h.View().Warnings(view.WarningQuery{}), nil }
	sum, err := simulate.PublishHistory(ctx, nc, sim, simulate.HistoryOptions{
		PublishOptions: simulate.PublishOptions{Logger: a.log, Connect: connect}, Tick: h.Tick, Warnings: openWarnings})
	if err != nil {
		return fmt.Errorf("demo: simulate: %w", err)
	}
	took := time.Since(start)
	if err := a.printDemoSummary(ctx, a.stdout, h, nc, sum, took, ids, token); err != nil {
		return err
	}
	if f.readyFile != "" {
		if err := writeReadyFile(f.readyFile, readyInfo{NATSURL: h.ClientURL(), HTTPURL: "http://" + h.HTTPAddr(), PID: os.Getpid(),
			Token: token}); err != nil {
			return err
		}
	}
	if f.exit {
		return nil
	}
	fmt.Fprintf(a.stderr, "serving until interrupted (Ctrl-C)…\n")
	<-ctx.Done()
	a.log.Info("stopping the demo", "cause", context.Cause(ctx))
	return nil
}

func (a *app) printDemoSummary(ctx context.Context, w io.Writer, h *hub.Hub, nc *nats.Conn, sum simulate.HistorySummary, took time.Duration,
	ids *identities.Set, token string) error {
	st, err := h.Status(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	rejected, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{Limit: 10000})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	byReason := map[string]int{}
	for _, r := range rejected {
		if len(r.Violations) > 0 {
			byReason[string(r.Violations[0].Reason)]++
		}
	}
	city := h.View().City()
	stats := h.View().Stats()
	c := city.Indicators.Counts
	r := city.Indicators.Rates
	base := "http://" + h.HTTPAddr()
	link, err := h.SignInLink(token, 24*time.Hour)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(w, "\nanzhi demo — 咸阳市易地扶贫搬迁后续扶持信息共享 (as of %s)\n\n", view.ShowDate(city.Clock))
	fmt.Fprintf(w, "dashboard  %s/   open %s once to sign in as the lead office\n\n", base, link)
	fmt.Fprintf(w, "events published by departments  %d (%d departments, %.0f/s)\n", sum.Events, sum.Departments, float64(sum.Events)/took.Seconds())
	fmt.Fprintf(w, "  accepted into the log           %d\n", sum.Published)
	fmt.Fprintf(w, "  duplicates (no-ops)             %d\n", sum.Duplicates)
	fmt.Fprintf(w, "  rejected (ledger)               %d  %s\n", len(rejected), formatCounts(byReason))
	fmt.Fprintf(w, "log entries                       %d (facts, rejections, clock and warnings)\n\n", st.LogLast)
	fmt.Fprintf(w, "city: %d sites, %d households, %d persons\n", c["sites"], c["households"], c["persons"])
	fmt.Fprintf(w, "  households with someone employed %5.1f%%   zero-employment households %d\n", 100*r["employment"], c["zero_employment"])
	fmt.Fprintf(w, "  insured (both schemes)           %5.1f%%   school-age children enrolled %5.1f%%\n", 100*r["insured"], 100*r["enrolled"])
	fmt.Fprintf(w, "  title deeds                      %5.1f%%   hukou moved / residence permit %5.1f%%\n", 100*r["deeds"], 100*r["hukou"])
	fmt.Fprintf(w, "  homesteads reclaimed             %5.1f%%   sites with all infrastructure %5.1f%%\n", 100*r["reclamation"], 100*r["infrastructure_complete"])
	fmt.Fprintf(w, "  两不愁三保障 households           %5.1f%%\n\n", 100*r["secure"])
	months, err := h.View().History(city.Code)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	halves, total := halfYears(months)
	fmt.Fprintf(w, "early warnings open: %d   (over the period: %d raised, %d escalated, %d resolved)\n", stats.Warnings,
		total.Raised, total.Escalated, total.Resolved)
	rules := h.Catalog().Rules()
	for _, id := range sortedRules(city.Warnings) {
		title := ""
		if rule, ok := rules.Rule(id); ok {
			title = rule.Title
		}
		fmt.Fprintf(w, "  %-4s %7d  %s\n", id, city.Warnings[id], title)
	}
	states := map[string]int{}
	rectified := 0
	for _, x := range h.View().Warnings(view.WarningQuery{}) {
		states[x.Supervision]++
		if x.Rectified {
			rectified++
		}
	}
	fmt.Fprintf(w, "  now: %d escalated to the lead office, %d acknowledged, %d awaiting acknowledgement; %d reported rectified\n\n",
		states["escalated"], states["acknowledged"], states["open"], rectified)
	printHalfYears(w, halves, total)
	fmt.Fprintf(w, "  (%d weekly clock ticks; departments answered with %d reports and %d corrective facts)\n\n", sum.Ticks, sum.Reports, sum.Corrections)
	printPlan(w, h.View(), base)
	fmt.Fprintf(w, "HTTP API   %s/api/v1/city   (OpenAPI: %s/api/v1/openapi.json)\n", base, base)
	fmt.Fprintf(w, "warnings   %s/api/v1/warnings?rule=R4\n", base)
	q := view.QuarterOf(time.Now().In(view.ChinaTime()))
	fmt.Fprintf(w, "report     %s/report/%s.html   (this quarter's, to date; .xlsx and .md too; anzhi report --quarter %s)\n", base, q, q)
	fmt.Fprintf(w, "token      %s   (the lead office's: curl -H \"Authorization: Bearer %s\" %s/api/v1/city)\n", token, token, base)
	fmt.Fprintf(w, "NATS       %s   (anzhi watch --nats-url %s --creds %s)\n", h.ClientURL(), h.ClientURL(), ids.CredsFile(identities.LeadOfficeName))
	fmt.Fprintf(w, "identities %s   (every department's .creds; anzhi publish --creds %s ...)\n", ids.Dir, ids.CredsFile("edu"))
	return nil
}

func sortedRules(m map[string]int) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return view.CompareRules(ids[i], ids[j]) < 0 })
	return ids
}

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// printPlan prints the responsibility list at work: the board by status,
// the joint meetings and the counties' assessment.
func printPlan(w io.Writer, v *view.View, base string) {
	count := map[string]int{}
	rows := v.Tasks(view.TaskQuery{})
	for _, r := range rows {
		if r.InForce {
			count[r.Board]++
		}
	}
	var parts []string
	for _, s := range view.TaskStatuses() {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	fmt.Fprintf(w, "responsibility list (责任清单)  %s/tasks   %s\n", base, strings.Join(parts, ", "))
	held, missed := v.Meetings()
	fmt.Fprintf(w, "  joint meetings held %d; quarters without one (R16): %s\n", len(held), orNone(missed))
	if as := v.Assessments(); len(as) > 0 {
		best, worst := as[0], as[len(as)-1]
		var low []string
		for _, a := range as {
			if a.Finding != "" {
				low = append(low, a.Name)
			}
		}
		fmt.Fprintf(w, "  assessment %s/assessment   best %s %.1f, lowest %s %.1f; scheme findings (R19): %s\n\n",
			base, best.Name, best.Score, worst.Name, worst.Score, orNone(low))
	}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
