package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/publishers/simulate"
)

// simulateFlags are the flags of anzhi simulate.
type simulateFlags struct {
	scale, from, to, rate, output, natsURL string
	seed                                   uint64
	persons                                int
	badRate                                float64
	asJSON                                 bool
}

const simulateLong = `Simulate the departments of a realistic world of relocated households and
publish their facts, or write them to a file.

Scales:
  xianyang  Xianyang's 14 counties: ≈150 sites (a few of 800+ persons and 300+
            households, many small, centralized and dispersed; urban, town,
            village), ≈15,000 households, 50,000 persons
  shaanxi   ≈2.5 million persons in ≈7,500 sites of Shaanxi's 10 cities
  national  ≈9.6 million persons in ≈35,000 sites of 22 provinces
Beyond Xianyang the county codes are synthetic GB/T 2260-shaped codes; the
Xianyang hub's registry accepts only its 14 counties, so those scales are for
files (-o) and load tests, not for publishing to it.

Every department publishes its facts over the period (--from, --to) with the
imperfections that make the policy rules fire: zero-employment households,
late deeds, unfinished infrastructure, missed joint meetings, overdue tasks
and issues assigned at meetings, a county's assessment scheme weighing the
follow-up work below 30% and another's published late, audit and inspection
findings not rectified in time, community budgets below the urban
benchmark, children not enrolled, uninsured persons, a department going
silent for some weeks, and about 0.1% bad events (a schema violation, a department posing as
another, a raw ID-card number in a note) that the hub must reject.

The same --seed gives the same events byte for byte. Without -o each
department publishes as itself through the publisher library (--rate limits
events per second). With -o the events are written as JSONL, one structured
CloudEvent per line (the format of anzhi publish --file); a line's NATS
subject is its family and the county its data names, or the city 610400 for
plan.* and departments' task.progress. Generation is streamed: the national
scale is written in bounded memory.`

// newSimulateCmd builds anzhi simulate.
func newSimulateCmd(a *app) *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate [--scale xianyang|shaanxi|national] [--seed N] [-o events.jsonl]",
		Short: "Generate a realistic world's facts and publish them (or write JSONL)",
		Long:  simulateLong,
		Example: `  anzhi simulate --scale xianyang --seed 1                 # publish to the hub
  anzhi simulate --persons 2000 --rate 500/s
  anzhi simulate --scale national -o national.jsonl
  anzhi simulate --from 2020-01 --to 2021-12 -o - | head`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runSimulate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scale, "scale", simulate.ScaleXianyang, "xianyang, shaanxi or national")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the world; the same seed gives the same events")
	fl.StringVar(&f.from, "from", "2019-01", "first month simulated (YYYY-MM)")
	fl.StringVar(&f.to, "to", "2025-12", "last month simulated (YYYY-MM)")
	fl.StringVar(&f.rate, "rate", "", "publish at most N events per second (N or N/s; default: as fast as the hub takes them)")
	fl.IntVar(&f.persons, "persons", 0, "population instead of the scale's (the number of sites follows)")
	fl.Float64Var(&f.badRate, "bad-rate", 0.001, "share of extra bad events the hub must reject (0 for none)")
	fl.StringVarP(&f.output, "output", "o", "", "write JSONL to this file (- for stdout) instead of publishing")
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	return cmd
}

func (a *app) runSimulate(cmd *cobra.Command, f simulateFlags) (err error) {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := simulate.Config{Scale: f.scale, Seed: f.seed, Persons: f.persons, BadRate: f.badRate}
	if f.badRate == 0 {
		cfg.BadRate = -1
	}
	if cfg.From, err = time.Parse("2006-01", f.from); err != nil {
		return usageErrorf("--from %q: want YYYY-MM", f.from)
	}
	if cfg.To, err = time.Parse("2006-01", f.to); err != nil {
		return usageErrorf("--to %q: want YYYY-MM", f.to)
	}
	var rate float64
	if f.rate != "" {
		if rate, err = strconv.ParseFloat(strings.TrimSuffix(f.rate, "/s"), 64); err != nil || rate <= 0 {
			return usageErrorf("--rate %q: want a positive number of events per second, e.g. 500/s", f.rate)
		}
	}
	sim, err := simulate.New(cfg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	sites, persons := sim.Sites()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log.Info("simulating", "scale", f.scale, "seed", f.seed, "sites", sites, "persons", persons, "from", f.from, "to", f.to)

	if f.output != "" {
		var w io.Writer = stdout
		flush := func() error { return nil }
		if f.output != "-" {
			out, cerr := os.Create(f.output)
			if cerr != nil {
				return fmt.Errorf("-o: %w", cerr)
			}
			defer keepErr(&err, "-o", out.Close)
			bw := bufio.NewWriter(out)
			w, flush = bw, bw.Flush
		}
		n, err := simulate.WriteJSONL(&ctxWriter{ctx: ctx, w: w}, sim)
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		if f.output != "-" {
			fmt.Fprintf(stdout, "wrote %d events to %s\n", n, f.output)
		}
		return nil
	}
	if f.scale != simulate.ScaleXianyang {
		return usageErrorf("--scale %s cannot be published to the Xianyang hub (its counties are not in the registry); write it with -o", f.scale)
	}
	nc, err := a.connectIntake(ctx, f.natsURL, "anzhi-simulate")
	if err != nil {
		return err
	}
	defer nc.Close()
	sum, err := simulate.Publish(ctx, nc, sim, simulate.PublishOptions{Rate: rate, Logger: log})
	if f.asJSON {
		if jerr := writeJSONLine(stdout, sum); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		fmt.Fprintf(stdout, "summary: events=%d published=%d duplicates=%d invalid=%d failed=%d bad=%d departments=%d\n",
			sum.Events, sum.Published, sum.Duplicates, sum.Invalid, sum.Failed, sum.Bad, sum.Departments)
	}
	return err
}

// ctxWriter stops writing once the command's context ends (SIGINT).
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
