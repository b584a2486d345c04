// Command lead-office-subscriber is the second of anzhi's examples: the lead
// office (市发改委) following the shared view of the city as it changes.
//
// The hub folds every accepted fact into one view and materializes it into
// the JetStream KV bucket ANZHI_VIEW: the city under the key "city", each
// county under "county.<code>", sites and households under their ids (see
// package subscribers for the whole list). The same city and county values
// are also published on the core NATS subjects view.city and
// view.county.<code>; the bucket is better for a program like this one: it
// gives the current value at once, then every new one, and nothing is lost
// while the subscriber is not running.
//
// It prints the current indicators of the city (or, with --county, of one
// county), then a line each time the hub writes new ones (at most once a
// second), until interrupted (Ctrl-C). Run it against a hub
// (go run ./cmd/anzhi hub) and publish something, e.g. with the first
// example:
//
//	go run ./examples/02-lead-office-subscriber
//	go run ./examples/01-department-publisher     # in another terminal
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

func main() {
	natsURL := flag.String("nats-url", nats.DefaultURL, "NATS server of the hub")
	county := flag.String("county", "", "follow this county (e.g. 610424) instead of the city")
	flag.Parse()

	if err := checkCounty(*county); err != nil {
		fmt.Fprintln(os.Stderr, "lead-office-subscriber:", err)
		os.Exit(2) // usage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *natsURL, *county, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lead-office-subscriber:", err)
		os.Exit(1)
	}
}

// run connects to NATS and follows the view until ctx ends; an interrupt is
// not an error.
func run(ctx context.Context, natsURL, county string, w io.Writer) error {
	nc, err := nats.Connect(natsURL, nats.Name("anzhi example: lead office subscriber"))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := follow(ctx, js, county, w); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// checkCounty checks that code ("" for the city) names a county of the
// event catalog.
func checkCounty(code string) error {
	if code == "" {
		return nil
	}
	cat, err := schemas.Load()
	if err != nil {
		return err
	}
	if _, ok := cat.County(code); !ok {
		var codes []string
		for _, c := range cat.Counties() {
			codes = append(codes, c.Code)
		}
		return fmt.Errorf("--county %q is not a county of %s; the counties are %s", code, cat.City.Name, strings.Join(codes, ", "))
	}
	return nil
}

// headline are the indicators printed, in this order: counts first, then
// rates (the view has more; see GET /api/v1/city).
var headline = []string{"households", "persons", "school_age", "enrolled", "labour", "employed"}
var headlineRates = []string{"enrolled", "employment", "insured", "deeds", "hukou"}

// follow writes a line to w for the current view of the city (of county,
// when not "") and for each new one, until ctx ends.
func follow(ctx context.Context, js jetstream.JetStream, county string, w io.Writer) error {
	show := func(u subscribers.AreaUpdate) error {
		a := &u.View
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s (%s) log seq %d:", u.Written.UTC().Format(time.TimeOnly), a.Code, a.Name, a.Seq)
		for _, k := range headline {
			fmt.Fprintf(&b, " %s=%d", k, a.Indicators.Counts[k])
		}
		b.WriteString(" |")
		for _, k := range headlineRates {
			fmt.Fprintf(&b, " %s=%.0f%%", k, 100*a.Indicators.Rates[k])
		}
		// Open warnings by rule (R4, R6, …), in rule order.
		rules := make([]string, 0, len(a.Warnings))
		for r, n := range a.Warnings {
			if n > 0 {
				rules = append(rules, r)
			}
		}
		slices.SortFunc(rules, cmpRule)
		b.WriteString(" | warnings:")
		if len(rules) == 0 {
			b.WriteString(" none")
		}
		for _, r := range rules {
			fmt.Fprintf(&b, " %s=%d", r, a.Warnings[r])
		}
		_, err := fmt.Fprintln(w, b.String())
		return err
	}
	// WatchCity and WatchCounty give the current value first, then every
	// value the hub writes, until ctx ends.
	if county != "" {
		return subscribers.WatchCounty(ctx, js, county, show)
	}
	return subscribers.WatchCity(ctx, js, show)
}

// cmpRule orders rule ids by number: R2 before R10.
func cmpRule(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
