package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/internal/bench"
)

// benchFlags are the flags of anzhi bench.
type benchFlags struct {
	n       int
	persons int
	runs    int
	only    string
	dir     string
	json    bool
}

func newBenchCmd(a *app) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure anzhi against raw JetStream on this machine, side by side",
		Long: `Measure anzhi against raw JetStream, in one run, on the same machine and the
same generated events, and report the ratios the project targets:

  ingest    raw JetStream async publish with Nats-Msg-Id into a bare stream
            vs the hub's ingest (publisher library → intake → checked and
            logged by the hub, counted when the hub has processed the last
            one); target ≥ 0.6×. Beside them, two ceilings on the same
            events: a consumer that only reads what was published, and one
            that also appends each event unchecked to a second stream (the
            hub's two writes with none of its work)
  view      full rebuild of the view from the log vs a raw ordered replay
            with json.Unmarshal into sdk-go's event.Event (target ≥ 1.0×);
            the view's memory per person (target ≤ 300 B); restart from a
            snapshot (target ≤ 5 s); publish-to-view latency at 2,000
            events/s (target p99 ≤ 5 ms); /api/v1/city and a county under 4
            concurrent clients at a tenth of the world and all of it (target
            p99 ≤ 2 ms, flat)

Absolute rates drift ±30% between runs on a small shared machine; compare
the ratios. Everything runs in a temporary directory (or --dir) that is
removed afterwards.`,
		Example: `  anzhi bench                  # 1M events, 1M persons (several minutes)
  anzhi bench --n 200000 --persons 100000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runBench(cmd, f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.n, "n", 1_000_000, "events per ingest measurement")
	fl.IntVar(&f.persons, "persons", 1_000_000, "persons in the view measurements")
	fl.IntVar(&f.runs, "runs", 1, "repeat the ingest measurement; the report gives medians")
	fl.StringVar(&f.only, "only", "all", "ingest, view or all")
	fl.StringVar(&f.dir, "dir", "", "scratch directory (default: a temporary one)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	return cmd
}

type benchOutput struct {
	Ingest *bench.Report     `json:"ingest,omitempty"`
	View   *bench.Report     `json:"view,omitempty"`
	Detail *bench.ViewResult `json:"view_detail,omitempty"`
}

func (a *app) runBench(cmd *cobra.Command, f benchFlags) error {
	if f.n <= 0 || f.persons <= 0 || f.runs <= 0 {
		return usageErrorf("--n, --persons and --runs must be positive")
	}
	if f.only != "all" && f.only != "ingest" && f.only != "view" {
		return usageErrorf("--only must be ingest, view or all, not %q", f.only)
	}
	ctx := cmd.Context()
	cfg := bench.Config{N: f.n, Runs: f.runs, Dir: f.dir, Logger: a.log,
		Progress: func(s string) { fmt.Fprintln(a.stderr, "bench:", s) }}
	var out benchOutput
	var err error
	if f.only != "view" {
		if out.Ingest, err = bench.Ingest(ctx, cfg); err != nil {
			return fmt.Errorf("bench ingest: %w", err)
		}
	}
	if f.only != "ingest" {
		if out.View, out.Detail, err = bench.View(ctx, cfg, f.persons); err != nil {
			return fmt.Errorf("bench view: %w", err)
		}
	}
	if f.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printBench(a.stdout, out)
	return nil
}

func printBench(w io.Writer, out benchOutput) {
	head := out.Ingest
	if head == nil {
		head = out.View
	}
	fmt.Fprintf(w, "anzhi bench — %s, %s, %d CPUs, %s, nats-server %s\n\n", head.Date, head.Machine, head.CPUs, head.Go, head.NATSServer)
	for _, r := range []*bench.Report{out.Ingest, out.View} {
		if r == nil {
			continue
		}
		for _, m := range r.Measurements {
			fmt.Fprintf(w, "%-66s %10.0f /s  (%d events)\n", m.Name, m.Rate, m.Events)
		}
		for _, x := range r.Ratios {
			met := "not met"
			if x.Met {
				met = "met"
			}
			fmt.Fprintf(w, "%-66s %10.2f×   target ≥ %.1f×: %s\n", x.Name, x.Value, x.Target, met)
		}
		for _, x := range r.Ceilings {
			fmt.Fprintf(w, "%-66s %10.2f×   (reference ceiling, no target)\n", x.Name, x.Value)
		}
		if r == out.Ingest {
			fmt.Fprintf(w, "(events ≈%.0f bytes)\n", r.EventBytes)
		}
		fmt.Fprintln(w)
	}
	if d := out.Detail; d != nil {
		yes := func(ok bool) string {
			if ok {
				return "met"
			}
			return "not met"
		}
		fmt.Fprintf(w, "view of %d persons (%d log entries)\n", d.Persons, d.Entries)
		if d.ViewHeapBytes == 0 {
			// Garbage from building the world outweighed the view: nothing
			// was measured, and nothing is met.
			fmt.Fprintf(w, "  view heap                     not measured (world too small to see; try --persons 100000)\n")
		} else {
			fmt.Fprintf(w, "  view heap                     %8.0f B/person   target ≤ 300: %s\n", d.ViewBytesPerPers, yes(d.ViewBytesPerPers <= 300))
		}
		fmt.Fprintf(w, "  whole hub process RSS         %8.0f B/person   (NATS server, key index, caches included)\n", d.RSSPerPerson)
		fmt.Fprintf(w, "  full rebuild                  %8.2f s\n", d.RebuildSeconds)
		fmt.Fprintf(w, "  restart from snapshot         %8.2f s          target ≤ 5 s: %s (snapshot %d MB written in %.2f s)\n",
			d.RestartSeconds, yes(d.RestartSeconds <= 5), d.SnapshotBytes>>20, d.SnapshotSeconds)
		fmt.Fprintf(w, "  KV bucket written from the log %8.1f s after the rebuild\n", d.MaterializeSeconds)
		fmt.Fprintf(w, "  publish→view at %d/s         p50 %.2f ms, p99 %.2f ms   target p99 ≤ 5 ms: %s\n",
			d.LatencyRate, d.LatencyP50, d.LatencyP99, yes(d.LatencyP99 <= 5))
		for _, x := range d.HTTP {
			fmt.Fprintf(w, "  GET %-26s %8d persons: p50 %.2f ms, p99 %.2f ms (%d clients)   target p99 ≤ 2 ms: %s\n",
				x.Path, x.Persons, x.P50, x.P99, x.Clients, yes(x.P99 <= 2))
		}
	}
}
