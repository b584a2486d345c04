package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// viewFlags are the flags of anzhi view.
type viewFlags struct {
	natsURL string
	apiURL  string
	asJSON  bool
	cut     cutFlags
}

func newViewCmd(a *app) *cobra.Command {
	var f viewFlags
	cmd := &cobra.Command{
		Use:   "view city | county CODE | site ID | household ID | digest | warnings | KEY",
		Short: "Show the shared view: the city, a county, a site or a household",
		Long: `Show the shared view as the hub materializes it in the NATS KV bucket
` + fact.ViewBucket + ` (any NATS client can read and watch it: nats kv watch ` + fact.ViewBucket + `).

  city            persons, households, rates, open warnings by rule, a line per county
  county CODE     the same for a county (610424), with its sites
  site ID         a resettlement site (S610424-0001): infrastructure, facilities, rates
  household ID    a household (H610424-000001): obligations, members, warnings
  digest          the view's digest, recorded once the view was quiet (the HTTP
                  API's /api/v1/digest gives the live one)
  warnings        open warnings, from the hub's HTTP API (anzhi view warnings --help)
  KEY             any key of the bucket, printed as JSON (county.610424, ...)

Times are shown in China Standard Time (CST, UTC+8) and effective dates as
the departments wrote them. What the view does not know yet (no clock
recorded, a household known only through a fact about a member) is said in
notes, not shown as zeros.

The hub writes each key at most once a second, so a fact shows here within
about a second of being accepted. With --json the value is printed as the
hub wrote it (the JSON of the HTTP API).

For auditors, --as-of and --effective show a view of a cut of the log,
which the hub's HTTP API builds (--api-url, --token): --as-of DATE|TIME|SEQ
is what the hub knew then (the log as stored by the end of that day in CST,
by that RFC 3339 time, or up to that log sequence); --effective DATE|TIME
leaves out the facts whose own time is after it (what was true then, as
known now). Together: what the hub knew on one date about another.

Exit codes: 0 shown; 1 not found (no such county, site, household or key in
the view) or NATS unreachable; 2 usage error.`,
		Example: `  anzhi view city
  anzhi view county 610424 --json | jq .indicators.rates
  anzhi view household H610424-000001
  anzhi view county 610424 --as-of 2021-10-31
  anzhi view household H610424-000001 --as-of 2021-10-31 --effective 2021-09-30`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runView(cmd.Context(), f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.BoolVar(&f.asJSON, "json", false, "print the value as JSON")
	fl.StringVar(&f.cut.asOf, "as-of", "", "show the view as the hub knew it then: a date (the end of that day, CST), an RFC 3339 time or a log sequence (from the HTTP API)")
	fl.StringVar(&f.cut.effective, "effective", "", "leave out the facts whose own time is after this date or RFC 3339 time (from the HTTP API)")
	fl.StringVar(&f.apiURL, "api-url", apiURLDefault(), "base URL of the hub's HTTP API, for --as-of and --effective (env ANZHI_API_URL)")
	fl.StringVar(&a.token, "token", os.Getenv("ANZHI_TOKEN"), "bearer token for the HTTP API (env ANZHI_TOKEN; anzhi identities token NAME)")
	cmd.AddCommand(newViewWarningsCmd(a))
	return cmd
}

// viewKey maps the arguments of anzhi view to a key of the bucket.
func viewKey(args []string) (kind, key string, err error) {
	kind = args[0]
	one := func() error {
		if len(args) != 1 {
			return usageErrorf("view %s takes no argument, got %q", kind, args[1])
		}
		return nil
	}
	two := func(what string) error {
		if len(args) != 2 {
			return usageErrorf("view %s needs the %s", kind, what)
		}
		return nil
	}
	switch kind {
	case "city":
		return kind, fact.CityKey, one()
	case "digest":
		return kind, fact.DigestKey, one()
	case "county":
		if err := two("county code (610424)"); err != nil {
			return "", "", err
		}
		return kind, fact.CountyKey(args[1]), nil
	case "site":
		if err := two("site id (S610424-0001)"); err != nil {
			return "", "", err
		}
		return kind, fact.SiteKey(args[1]), nil
	case "household":
		if err := two("household id (H610424-000001)"); err != nil {
			return "", "", err
		}
		return kind, fact.HouseholdKey(args[1]), nil
	}
	if len(args) != 1 {
		return "", "", usageErrorf("view %s: want city, county CODE, site ID, household ID, digest or a key of %s", kind, fact.ViewBucket)
	}
	return "key", kind, nil
}

func (a *app) runView(ctx context.Context, f viewFlags, args []string) error {
	kind, key, err := viewKey(args)
	if err != nil {
		return err
	}
	if f.cut.set() {
		return a.runViewAt(ctx, f, kind, args)
	}
	nc, js, err := a.connectJS(ctx, f.natsURL, "anzhi-view")
	if err != nil {
		return err
	}
	defer nc.Close()
	b, err := subscribers.Get(ctx, js, key)
	if errors.Is(err, view.ErrNotFound) {
		what := strings.Join(args, " ")
		if kind == "key" {
			what = "key " + key
		}
		return fmt.Errorf("%s not found in the view (no key %q in %s; try: anzhi view city)", what, key, fact.ViewBucket)
	}
	if err != nil {
		return explainRefusal(nc, err)
	}
	if f.asJSON || kind == "key" {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		out.WriteByte('\n')
		_, err := a.stdout.Write(out.Bytes())
		return err
	}
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	p := &viewPrinter{w: a.stdout, cat: cat}
	switch kind {
	case "city", "county":
		var v view.AreaView
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return p.area(&v)
	case "site":
		var v view.SiteView
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return p.site(&v)
	case "household":
		var v view.HouseholdView
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return p.household(&v)
	default: // digest
		var v subscribers.ViewDigest
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		fmt.Fprintf(a.stdout, "视图摘要 view digest  %s\n", v.Digest)
		fmt.Fprintf(a.stdout, "  log seq      %d\n", v.Seq)
		fmt.Fprintf(a.stdout, "  as of        %s\n", showTime(v.Clock))
		_, err := fmt.Fprintf(a.stdout, "  computed at  %s (when the view was last quiet)\n", showTime(v.ComputedAt))
		return err
	}
}

// rateLabels are the rates in the order shown, with the counter that is
// their denominator (a rate over nothing shows as "-").
var rateLabels = []struct{ key, zh, en, den string }{
	{"employment", "就业", "employment", "households_labour"},
	{"insured", "医保", "insured", "persons"},
	{"enrolled", "义务教育", "enrolled", "school_age"},
	{"pension", "养老保险", "pension", "pension_eligible"},
	{"deeds", "不动产登记", "deeds", "households"},
	{"hukou", "户籍迁移", "hukou", "households"},
	{"reclamation", "旧宅腾退", "reclamation", "households"},
	{"secure", "两不愁三保障", "secure", "households"},
	{"training_to_employment_6m", "培训后就业", "trained→employed 6m", "trained_due"},
	{"infrastructure_complete", "基础设施", "infrastructure", "sites"},
	{"project_jobs_relocated", "项目用工", "project jobs", "project_jobs"},
}

// tableRates are the rates of the county table and of anzhi watch.
var tableRates = []string{"employment", "insured", "enrolled", "secure"}

func percent(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

// showTime shows a time in China Standard Time, as the view presents it.
func showTime(t time.Time) string { return view.ShowTime(t) }

// viewPrinter prints views for people.
type viewPrinter struct {
	w   io.Writer
	cat *schemas.Catalog
}

func (p *viewPrinter) ruleTitle(id string) string {
	if r, ok := p.cat.Rules().Rule(id); ok {
		return r.Title
	}
	return ""
}

// warnings prints open warnings by rule.
func (p *viewPrinter) warnings(indent string, byRule map[string]int) {
	total := 0
	var rules []string
	for r, n := range byRule {
		if n > 0 {
			rules = append(rules, r)
			total += n
		}
	}
	if total == 0 {
		fmt.Fprintf(p.w, "%s预警 warnings open: 0 (无 none)\n", indent)
		return
	}
	sortRules(rules)
	fmt.Fprintf(p.w, "%s预警 warnings open: %d\n", indent, total)
	for _, r := range rules {
		fmt.Fprintf(p.w, "%s  %-4s %5d  %s\n", indent, r, byRule[r], p.ruleTitle(r))
	}
}

// sortRules orders rule ids by number (R2 before R10).
func sortRules(rules []string) {
	sort.Slice(rules, func(i, j int) bool {
		if c := view.CompareRules(rules[i], rules[j]); c != 0 {
			return c < 0
		}
		return rules[i] < rules[j]
	})
}

// rates prints an area's or a site's rates.
func (p *viewPrinter) rates(indent string, ind view.Indicators) {
	fmt.Fprintf(p.w, "%s指标 rates:\n", indent)
	var rows [][]string
	for _, l := range rateLabels {
		v := "-"
		if ind.Counts[l.den] > 0 {
			v = percent(ind.Rates[l.key])
		}
		rows = append(rows, []string{indent + " ", l.zh, l.en, v})
	}
	// Without a header: the first row is printed as the header is.
	_ = writeTable(p.w, rows[0], rows[1:])
}

func (p *viewPrinter) area(v *view.AreaView) error {
	kind := "county 县(市、区)"
	if len(v.Counties) > 0 || v.Code == p.cat.City.Code {
		kind = "city 市"
	}
	fmt.Fprintf(p.w, "%s %s (%s)  as of %s · log seq %d\n", v.Name, kind, v.Code, showTime(v.Clock), v.Seq)
	c := v.Indicators.Counts
	fmt.Fprintf(p.w, "  人口 persons %d · 户 households %d · 有劳动力户 with labour %d · 安置点 sites %d\n",
		c["persons"], c["households"], c["households_labour"], v.Sites)
	fmt.Fprintf(p.w, "  零就业户 zero-employment households %d · 在校 enrolled %d/%d · 建档立卡 registered poor %d\n",
		c["zero_employment"], c["enrolled"], c["school_age"], c["registered_poor"])
	pop := v.Population
	fmt.Fprintf(p.w, "  已知 known: 户 households %d (registered %d, not yet %d) · 人 persons %d (registered %d, not yet %d)\n",
		pop.Households.Known, pop.Households.Registered, pop.Households.NotYetRegistered,
		pop.Persons.Known, pop.Persons.Registered, pop.Persons.NotYetRegistered)
	p.notes("  ", v.Notes)
	p.rates("  ", v.Indicators)
	p.warnings("  ", v.Warnings)
	if len(v.Counties) > 0 {
		fmt.Fprintln(p.w, "各县市区 counties:")
		header := []string{"code", "name", "persons", "known"}
		header = append(header, tableRates...)
		header = append(header, "warnings")
		var rows [][]string
		for _, k := range v.Counties {
			row := []string{k.Code, k.Name, strconv.FormatInt(k.Persons, 10), strconv.FormatInt(k.Population.Persons.Known, 10)}
			for _, r := range tableRates {
				if k.Persons == 0 {
					row = append(row, "-")
				} else {
					row = append(row, percent(k.Rates[r]))
				}
			}
			rows = append(rows, append(row, strconv.Itoa(k.Warnings)))
		}
		return writeTable(p.w, header, rows)
	}
	if len(v.SiteIDs) > 0 {
		_, err := fmt.Fprintf(p.w, "安置点 sites: %s\n", strings.Join(v.SiteIDs, " "))
		return err
	}
	return nil
}

func (p *viewPrinter) site(v *view.SiteView) error {
	name := v.Name
	if name == "" {
		name = "(未登记 not registered)"
	}
	fmt.Fprintf(p.w, "%s site 安置点 %s  county %s\n", name, v.SiteID, v.County)
	fmt.Fprintf(p.w, "  kind %s · setting %s · status %s · planned %d households, %d persons\n",
		dash(v.Kind), dash(v.Setting), dash(v.Status), v.PlannedHH, v.PlannedPersons)
	c := v.Indicators.Counts
	fmt.Fprintf(p.w, "  人口 persons %d · 户 households %d · 零就业户 zero-employment %d\n",
		c["persons"], c["households"], c["zero_employment"])
	var items []string
	for it := range v.Infrastructure {
		items = append(items, it)
	}
	sort.Strings(items)
	fmt.Fprintf(p.w, "  基础设施 infrastructure:")
	for _, it := range items {
		fmt.Fprintf(p.w, " %s %s", it, v.Infrastructure[it].State)
	}
	fmt.Fprintln(p.w)
	var kinds []string
	for k := range v.Facilities {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(p.w, "  配套 facilities (open/all):")
	for _, k := range kinds {
		open := 0
		for _, x := range v.Facilities[k] {
			if x.Open {
				open++
			}
		}
		fmt.Fprintf(p.w, " %s %d/%d", k, open, len(v.Facilities[k]))
	}
	fmt.Fprintln(p.w)
	p.rates("  ", v.Indicators)
	p.warnings("  ", v.Warnings)
	return nil
}

func (p *viewPrinter) household(v *view.HouseholdView) error {
	fmt.Fprintf(p.w, "household 搬迁户 %s  county %s · site %s\n", v.HouseholdID, v.County, dash(v.Site))
	if v.Registered {
		fmt.Fprintf(p.w, "  status %s · size %s · labour %s · registered poor %v · relocated on %s · registered %v\n",
			v.Status, count(v.Size), count(v.LabourCount), v.RegisteredPoor, dash(v.RelocatedOn), v.Registered)
	} else {
		fmt.Fprintf(p.w, "  未登记 not yet registered · size %s · labour %s · status %s\n", count(v.Size), count(v.LabourCount), v.Status)
	}
	p.notes("  ", v.Notes)
	secure := "✗ no"
	if v.Secure {
		secure = "✓ yes"
	}
	fmt.Fprintf(p.w, "  两不愁三保障 two assurances, three guarantees: %s\n", secure)
	fmt.Fprintln(p.w, "  obligations 义务:")
	var obs [][]string
	for _, name := range sortedKeys(v.Obligations) {
		o := v.Obligations[name]
		obs = append(obs, []string{"   ", name, o.State, met(o.Met)})
	}
	if err := writeTable(p.w, []string{"   ", "obligation", "state", "met"}, obs); err != nil {
		return err
	}
	fmt.Fprintf(p.w, "  members 成员: %d\n", len(v.Members))
	if len(v.Members) > 0 {
		var rows [][]string
		for _, m := range v.Members {
			var unmet []string
			for _, name := range sortedKeys(m.Obligations) {
				if !m.Obligations[name].Met {
					unmet = append(unmet, name)
				}
			}
			age := "-"
			switch {
			case m.BirthYear != 0 && m.Age > 0:
				age = fmt.Sprintf("%d (%d)", m.BirthYear, m.Age)
			case m.BirthYear != 0:
				age = strconv.Itoa(m.BirthYear)
			}
			rows = append(rows, []string{"   ", shortKey(m.PersonKey), age, dash(m.Sex), dash(m.Labour),
				m.Status, dash(strings.Join(unmet, ","))})
		}
		if err := writeTable(p.w, []string{"   ", "person", "born (age)", "sex", "labour", "status", "unmet"}, rows); err != nil {
			return err
		}
	}
	if len(v.Warnings) == 0 {
		_, err := fmt.Fprintln(p.w, "  预警 warnings open: 0 (无 none)")
		return err
	}
	fmt.Fprintf(p.w, "  预警 warnings open: %d\n", len(v.Warnings))
	for _, w := range v.Warnings {
		entity := w.EntityID
		if w.EntityKind == "person" {
			entity = "person " + shortKey(entity)
		}
		fmt.Fprintf(p.w, "    %-4s %s · %s · %s/%s · due %s · %s\n", w.Rule, p.ruleTitle(w.Rule), entity, w.Level, w.Supervision,
			view.ShowDate(w.Due), w.Message)
	}
	return nil
}

// notes prints what the view says it does not know yet.
func (p *viewPrinter) notes(indent string, notes []string) {
	for _, n := range notes {
		fmt.Fprintf(p.w, "%s注 note: %s\n", indent, n)
	}
}

// count shows a figure the view may not know yet ("-": unknown).
func count(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}

// shortKey shortens a person key (64 hex digits) for a table.
func shortKey(k string) string {
	if len(k) <= 14 {
		return k
	}
	return k[:8] + "…" + k[len(k)-4:]
}

func met(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
