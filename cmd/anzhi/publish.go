package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// publishFlags are the flags of anzhi publish.
type publishFlags struct {
	natsURL       string
	dept          string
	maxEventBytes int
	asJSON        bool
	// one fact from flags
	family, time, county, subject, id, data string
	noCheck                                 bool
	// a JSONL file of CloudEvents
	file, report string
	progress     bool
	// the hub's verdict
	wait        bool
	waitTimeout time.Duration
}

func newPublishCmd(a *app) *cobra.Command {
	var f publishFlags
	cmd := &cobra.Command{
		Use:   "publish --dept DEPT (--family FAMILY --time T --data JSON | --file EVENTS.jsonl)",
		Short: "Publish facts of a department: one from flags, or a JSONL file of CloudEvents",
		Long: `Publish facts of a department to the hub.

One fact from flags: the CloudEvent is built, validated exactly as the hub
will validate it, and published with its id as Nats-Msg-Id; the receipt
(id, subject, intake sequence, duplicate) is printed. An invalid fact is
never sent: every violation is printed and the exit code is 3.

The receipt only says the intake stored the message. Then publish waits for
the hub's verdict (--wait, on by default; --wait=false stops at the receipt)
and prints
  accepted: <id> at log seq N
or
  refused: <id>
followed by every reason, and exits 3. A fact published before (the same id
and content) is accepted at the original's log sequence. If the hub gives no
verdict within --wait-timeout, publish fails (exit 1): the fact may still be
judged later; see anzhi rejections.

A file (--file) holds complete CloudEvents in structured JSON, one per line.
Each line's source must be ` + fact.SourcePrefix + `<dept> of --dept; its NATS subject is
derived from the type and the county, as for one fact: --county, or the county
the data names in its family's county fields (x-anzhi.county in anzhi schemas
show); a fact of a citywide family naming none goes on the city (610400), a
county government's on its own county, and any other is refused. Valid lines are published in a batch; each bad line is reported as
  line N: <id>: <pointer>: <message> [<reason>]
followed by a summary line. Exit 3 if any line was invalid, 1 if any failed to
publish. Then (unless --wait=false) publish waits for the hub's verdict on
every line it sent and reports
  verdicts: accepted=N duplicates=D refused=M
and each refused line (the first 20) as
  refused: line N: <id>
followed by its reasons; exit 3 if the hub refused any.`,
		Example: `  anzhi publish --dept edu --family edu.enrolment --time 2020-09-01 --data @fact.json
  anzhi publish --dept county/610424 --file events.jsonl --report errors.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runPublish(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.StringVar(&f.dept, "dept", "", "publishing department as in "+fact.SourcePrefix+`<dept>: edu, county/610424, ... (required); "*" with --file publishes each line as the department of its source (replaying a simulated or exported file)`)
	fl.IntVar(&f.maxEventBytes, "max-event-bytes", fact.DefaultMaxBytes, "largest event accepted (keep it equal to the hub's)")
	fl.BoolVar(&f.asJSON, "json", false, "print the receipt (or the file summary) as JSON")
	fl.StringVar(&f.family, "family", "", "event family of the fact, e.g. edu.enrolment")
	fl.StringVar(&f.time, "time", "", "when the fact took effect: a date (midnight, UTC+8) or an RFC 3339 time")
	fl.StringVar(&f.county, "county", "", "county token of the NATS subject (default: derived from the data)")
	fl.StringVar(&f.subject, "subject", "", "CloudEvent subject (default: the family's subject field in the data)")
	fl.StringVar(&f.id, "id", "", "fact id (default: derived from the fact, so republishing is a no-op)")
	fl.StringVar(&f.data, "data", "", "the fact's data: JSON, or @file.json")
	fl.StringVar(&f.file, "file", "", "JSONL file of complete CloudEvents, one per line")
	fl.StringVar(&f.report, "report", "", "write the per-line error report of --file here (default: stderr)")
	fl.BoolVar(&f.progress, "progress", false, "show a progress bar for --file even when stderr is not a terminal")
	fl.BoolVar(&f.noCheck, "no-check", false, "send the fact without checking it locally, to see the hub's own verdict")
	fl.BoolVar(&f.wait, "wait", true, "wait for the hub's verdict on every fact published (accepted or refused, and why); --wait=false stops at the intake's receipt")
	fl.DurationVar(&f.waitTimeout, "wait-timeout", 30*time.Second, "how long --wait waits for the hub's verdict")
	_ = cmd.MarkFlagRequired("dept")
	for _, name := range []string{"family", "time", "subject", "id", "data"} {
		cmd.MarkFlagsMutuallyExclusive("file", name)
	}
	cmd.MarkFlagsOneRequired("file", "family")
	cmd.MarkFlagsMutuallyExclusive("file", "no-check")
	return cmd
}

func (a *app) runPublish(cmd *cobra.Command, f publishFlags) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if f.dept == anyDept {
		if f.file == "" {
			return usageErrorf("--dept %s (each line as its own department) is only for --file", anyDept)
		}
		return a.publishFile(cmd.Context(), cat, schemas.Publisher{}, f)
	}
	who, err := cat.ParsePublisher(f.dept)
	if err != nil || who.Dept == "hub" {
		if err == nil {
			err = errors.New("the hub publishes its own events")
		}
		return usageErrorf("--dept %s: %w; see anzhi schemas departments", f.dept, err)
	}
	if f.maxEventBytes <= 0 {
		return usageErrorf("--max-event-bytes must be positive, got %d", f.maxEventBytes)
	}
	if f.wait && f.waitTimeout <= 0 {
		return usageErrorf("--wait-timeout must be positive, got %s", f.waitTimeout)
	}
	if f.county != "" && !cat.ValidArea(f.county) {
		return usageErrorf("--county %s is not %s (%s) or one of its counties", f.county, cat.City.Code, cat.City.Name)
	}
	if f.file != "" {
		return a.publishFile(cmd.Context(), cat, who, f)
	}
	return a.publishOne(cmd, cat, f)
}

// publishOne publishes the fact described by the flags.
func (a *app) publishOne(cmd *cobra.Command, cat *schemas.Catalog, f publishFlags) error {
	var missing []string
	for _, name := range []string{"time", "data"} {
		if !cmd.Flags().Changed(name) {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return usageErrorf("publishing one fact needs %s", strings.Join(missing, " and "))
	}
	fam, err := lookupFamily(cat, f.family)
	if err != nil {
		return err
	}
	t, err := parseFactTime(f.time)
	if err != nil {
		return usageErrorf("--time: %w", err)
	}
	data, err := readData(f.data)
	if err != nil {
		return err
	}
	nc, err := a.connectIntake(cmd.Context(), f.natsURL, "anzhi-publish-"+f.dept)
	if err != nil {
		return err
	}
	defer nc.Close()
	p, err := publishers.New(nc, f.dept, publishers.WithCatalog(cat), publishers.WithMaxEventBytes(f.maxEventBytes))
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	pf := publishers.Fact{Family: fam.Name, County: f.county, Subject: f.subject, ID: f.id, Time: t, Data: data}
	var r publishers.Receipt
	if f.noCheck {
		var msg *nats.Msg
		if msg, err = p.BuildUnchecked(pf); err == nil {
			r, err = p.PublishMsg(cmd.Context(), msg)
		}
	} else {
		r, err = p.Publish(cmd.Context(), pf)
	}
	var ve *fact.ValidationError
	if errors.As(err, &ve) {
		a.printRefused(ve, f.asJSON)
		return refusedErrorf("the fact has %d violation(s); nothing was sent", len(ve.Violations))
	}
	if err != nil {
		return err
	}
	if !f.wait {
		return a.printReceipt(r, nil, f.asJSON)
	}
	if !f.asJSON {
		if err := a.printReceipt(r, nil, false); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.waitTimeout)
	defer cancel()
	v, err := r.Verdict(ctx)
	if err != nil {
		if cmd.Context().Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("published %s (intake seq %d), but the hub gave no verdict within %s (is the hub running and keeping up? see anzhi rejections later): %w",
				r.ID, r.Seq, f.waitTimeout, err)
		}
		return fmt.Errorf("published %s (intake seq %d), but its verdict is not known: %w", r.ID, r.Seq, err)
	}
	if f.asJSON {
		if err := a.printReceipt(r, &v, true); err != nil {
			return err
		}
	} else {
		a.printVerdict(r.ID, v)
	}
	if !v.Accepted {
		return refusedErrorf("the hub refused %s with %d reason(s); it is in the rejection ledger at log seq %d (anzhi rejections)",
			r.ID, len(v.Reasons)+v.OmittedReasons, v.LogSeq)
	}
	return nil
}

// receiptJSON is a receipt as printed by --json, with the hub's verdict
// when publish waited for it.
type receiptJSON struct {
	ID        string       `json:"id"`
	Subject   string       `json:"subject"`
	IntakeSeq uint64       `json:"intake_seq"`
	Duplicate bool         `json:"duplicate"`
	Verdict   *verdictJSON `json:"verdict,omitempty"`
}

// verdictJSON is the hub's verdict as printed by --json.
type verdictJSON struct {
	Status         fact.VerdictStatus  `json:"status"`
	Accepted       bool                `json:"accepted"`
	LogSeq         uint64              `json:"log_seq,omitempty"`
	Reasons        []schemas.Violation `json:"reasons,omitempty"`
	OmittedReasons int                 `json:"omitted_reasons,omitempty"`
	Note           string              `json:"note,omitempty"`
}

func newVerdictJSON(v publishers.Verdict) *verdictJSON {
	return &verdictJSON{Status: v.Status, Accepted: v.Accepted, LogSeq: v.LogSeq, Reasons: v.Reasons,
		OmittedReasons: v.OmittedReasons, Note: v.Note}
}

// printVerdict prints the hub's verdict on a fact: accepted: <id> at log
// seq N, or refused: <id> and every reason.
func (a *app) printVerdict(id string, v publishers.Verdict) {
	switch {
	case v.Accepted && v.LogSeq == 0:
		fmt.Fprintf(a.stdout, "accepted: %s (already in the log: %s)\n", id, v.Note)
	case v.Duplicate:
		fmt.Fprintf(a.stdout, "accepted: %s at log seq %d (already in the log; nothing new stored)\n", id, v.LogSeq)
	case v.Accepted:
		fmt.Fprintf(a.stdout, "accepted: %s at log seq %d\n", id, v.LogSeq)
	default:
		fmt.Fprintf(a.stdout, "refused: %s\n", id)
		writeViolations(a.stdout, "  ", v.Reasons)
		if v.OmittedReasons > 0 {
			fmt.Fprintf(a.stdout, "  (and %d more reasons the ledger left out)\n", v.OmittedReasons)
		}
	}
}

func (a *app) printReceipt(r publishers.Receipt, v *publishers.Verdict, asJSON bool) error {
	if asJSON {
		out := receiptJSON{ID: r.ID, Subject: r.Subject, IntakeSeq: r.Seq, Duplicate: r.Duplicate}
		if v != nil {
			out.Verdict = newVerdictJSON(*v)
		}
		return writeJSONLine(a.stdout, out)
	}
	if r.Duplicate {
		_, err := fmt.Fprintf(a.stdout, "duplicate %s on %s: already published (intake seq %d); nothing new stored\n", r.ID, r.Subject, r.Seq)
		return err
	}
	_, err := fmt.Fprintf(a.stdout, "published %s on %s (intake seq %d)\n", r.ID, r.Subject, r.Seq)
	return err
}

// refusedJSON is a refused fact as printed by --json.
type refusedJSON struct {
	ID         string              `json:"id,omitempty"`
	Subject    string              `json:"subject,omitempty"`
	Violations []schemas.Violation `json:"violations"`
}

// printRefused prints why a fact was refused: JSON on stdout, or a block on stderr.
func (a *app) printRefused(ve *fact.ValidationError, asJSON bool) {
	if asJSON {
		_ = writeJSONLine(a.stdout, refusedJSON{ID: ve.ID, Subject: ve.Subject, Violations: ve.Violations})
		return
	}
	what := "the fact"
	if ve.ID != "" {
		what += fmt.Sprintf(" %q", ve.ID)
	}
	if ve.Subject != "" {
		what += " on " + ve.Subject
	}
	fmt.Fprintf(a.stderr, "refused: %s is invalid and was not sent:\n", what)
	writeViolations(a.stderr, "  ", ve.Violations)
}

// writeViolations writes one violation a line: reason pointer: message.
func writeViolations(w io.Writer, indent string, vs []schemas.Violation) {
	for _, v := range vs {
		if v.Pointer == "" {
			fmt.Fprintf(w, "%s%s: %s\n", indent, v.Reason, v.Message)
			continue
		}
		fmt.Fprintf(w, "%s%s %s: %s\n", indent, v.Reason, v.Pointer, v.Message)
	}
}

// parseFactTime parses an RFC 3339 time or a date, which means midnight
// China Standard Time (UTC+8), the time of Xianyang.
func parseFactTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, view.ChinaTime()); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time (2006-01-02T15:04:05+08:00)", s)
}

// readData returns the --data value: literal JSON or the contents of @file.
func readData(s string) ([]byte, error) {
	name, ok := strings.CutPrefix(s, "@")
	if !ok {
		return []byte(s), nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usageErrorf("--data @%s: %w", name, err)
	}
	return b, nil
}
