package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// maxLineBytes is the longest line of a --file; a longer line is reported
// and skipped.
const maxLineBytes = 1 << 20

// interruptGrace is how long publishing waits for acknowledgements of what
// it sent after an interrupt.
const interruptGrace = 5 * time.Second

// fileSummary counts the outcome of publishing a file.
type fileSummary struct {
	Lines      int `json:"lines"`
	Published  int `json:"published"`
	Duplicates int `json:"duplicates"`
	Invalid    int `json:"invalid"`
	Failed     int `json:"failed"`
	// The hub's verdicts on what was published (--wait only).
	Verdicts *verdictSummary `json:"verdicts,omitempty"`
}

// verdictSummary counts the hub's verdicts on a file's published lines.
type verdictSummary struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Refused    int           `json:"refused"`
	RefusedIn  []refusedLine `json:"refused_lines,omitempty"`
}

func (s verdictSummary) String() string {
	return fmt.Sprintf("verdicts: accepted=%d duplicates=%d refused=%d", s.Accepted, s.Duplicates, s.Refused)
}

// refusedLine is a line the hub refused, as --json lists it.
type refusedLine struct {
	Line    int                 `json:"line"`
	ID      string              `json:"id"`
	LogSeq  uint64              `json:"log_seq"`
	Reasons []schemas.Violation `json:"reasons"`
}

// maxRefusedListed bounds the refused lines listed after --wait.
const maxRefusedListed = 20

func (s fileSummary) String() string {
	return fmt.Sprintf("summary: lines=%d published=%d duplicates=%d invalid=%d failed=%d",
		s.Lines, s.Published, s.Duplicates, s.Invalid, s.Failed)
}

// publishFile publishes the CloudEvents of a JSONL file through a batch.
func (a *app) publishFile(ctx context.Context, cat *schemas.Catalog, who schemas.Publisher, f publishFlags) (err error) {
	in, err := os.Open(f.file)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	defer in.Close()
	rep := &reporter{w: a.stderr}
	if f.report != "" {
		out, cerr := os.Create(f.report)
		if cerr != nil {
			return fmt.Errorf("--report: %w", cerr)
		}
		defer keepErr(&err, "--report", out.Close)
		rep.w, rep.toFile = out, true
	}
	if f.progress || isTerminal(a.stderr) {
		total, err := countLines(in)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		rep.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription("publishing "+f.file), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}

	nc, err := a.connectIntake(ctx, f.natsURL, "anzhi-publish-"+f.dept)
	if err != nil {
		return err
	}
	defer nc.Close()
	transport := f.dept
	if transport == anyDept {
		// Each line speaks for its own source; the publisher only carries
		// them (its checks do not depend on its department).
		transport = cat.Rules().Lead
	}
	p, err := publishers.New(nc, transport, publishers.WithCatalog(cat), publishers.WithMaxEventBytes(f.maxEventBytes))
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	// The batch numbers what it is given from 0 in order; sent remembers
	// the line and id of each number until its outcome is known.
	sent := &inFlight{lines: map[int]lineRef{}}
	var receipts []publishers.Receipt // published lines, for --wait
	var receiptLines []lineRef
	// On interrupt, reading stops at once but what was sent is given a grace
	// period to be acknowledged, so that the summary stays true.
	bctx, bcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer bcancel()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(interruptGrace, bcancel) })
	defer stopGrace()
	batch, err := p.NewBatch(bctx, publishers.BatchOptions{OnResult: func(r publishers.BatchResult) {
		ref := sent.take(r.Index)
		var ve *fact.ValidationError
		switch {
		case errors.As(r.Err, &ve): // the batch checks again; judge should have caught it
			rep.bad(ref.line, ref.id, ve.Violations...)
		case r.Err != nil:
			rep.bad(ref.line, ref.id, schemas.Violation{Message: "publish failed: " + r.Err.Error()})
		case f.wait:
			receipts, receiptLines = append(receipts, r.Receipt), append(receiptLines, ref)
		}
	}})
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	j := &lineJudge{cat: cat, v: fact.NewValidator(cat, f.maxEventBytes), source: who.Source(), dept: f.dept, county: f.county}

	// Read, judge and send line by line; the batch keeps acknowledgements in
	// flight while the next lines are read.
	var sum fileSummary
	lr := newLineReader(in, maxLineBytes)
	var readErr error
	for ctx.Err() == nil {
		line, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("--file %s: line %d: %w", f.file, lr.n+1, err)
			break
		}
		rep.step()
		if tooLong {
			sum.Lines++
			sum.Invalid++
			rep.bad(lr.n, "", schemas.Violation{Reason: schemas.ReasonTooLarge,
				Message: fmt.Sprintf("line is longer than %d bytes; skipped", maxLineBytes)})
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		sum.Lines++
		id, msg, vs := j.judge(line)
		if len(vs) > 0 {
			sum.Invalid++
			rep.bad(lr.n, id, vs...)
			continue
		}
		sent.put(lineRef{line: lr.n, id: id})
		if _, err := batch.AddMsg(msg); err != nil {
			break // the grace period after an interrupt ended
		}
	}
	bs, waitErr := batch.Wait()
	sum.Published, sum.Duplicates, sum.Failed = bs.Published, bs.Duplicates, bs.Failed
	sum.Invalid += bs.Invalid
	var verdictErr error
	if f.wait && ctx.Err() == nil && len(receipts) > 0 {
		sum.Verdicts, verdictErr = a.awaitFileVerdicts(ctx, p, receipts, receiptLines, f.waitTimeout)
	}
	rep.finish(sum)
	switch {
	case f.asJSON:
		if err := writeJSONLine(a.stdout, sum); err != nil {
			return err
		}
	case rep.toFile:
		fmt.Fprintln(a.stdout, sum)
		if sum.Verdicts != nil {
			fmt.Fprintln(a.stdout, sum.Verdicts)
		}
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("publishing %s interrupted after %d lines: %w", f.file, lr.n, ctx.Err())
	case readErr != nil:
		return readErr
	case verdictErr != nil:
		return verdictErr
	case sum.Verdicts != nil && sum.Verdicts.Refused > 0:
		return refusedErrorf("the hub refused %d of %d published lines of %s (anzhi rejections)", sum.Verdicts.Refused, len(receipts), f.file)
	case sum.Invalid > 0:
		return refusedErrorf("%d of %d lines of %s are invalid and were not published", sum.Invalid, sum.Lines, f.file)
	case waitErr != nil:
		return waitErr
	}
	return nil
}

// awaitFileVerdicts waits for the hub's verdicts on a file's published lines.
func (a *app) awaitFileVerdicts(ctx context.Context, p *publishers.Publisher, receipts []publishers.Receipt, lines []lineRef,
	timeout time.Duration) (*verdictSummary, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	vs, err := p.Verdicts(wctx, receipts)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%d lines published, but the hub gave not every verdict within %s (is the hub running and keeping up? see anzhi rejections later): %w",
				len(receipts), timeout, err)
		}
		return nil, fmt.Errorf("%d lines published, but their verdicts are not known: %w", len(receipts), err)
	}
	sum := &verdictSummary{}
	var unknown int
	for i, v := range vs {
		switch {
		case v.Status == fact.VerdictUnknown:
			unknown++
		case v.Duplicate:
			sum.Duplicates++
			sum.Accepted++
		case v.Accepted:
			sum.Accepted++
		default:
			sum.Refused++
			if len(sum.RefusedIn) < maxRefusedListed {
				sum.RefusedIn = append(sum.RefusedIn, refusedLine{Line: lines[i].line, ID: lines[i].id, LogSeq: v.LogSeq, Reasons: v.Reasons})
			}
		}
	}
	if unknown > 0 {
		return sum, fmt.Errorf("the hub knows no verdict on %d of %d published lines: %w", unknown, len(receipts), publishers.ErrNoVerdict)
	}
	return sum, nil
}

// lineJudge turns a line of a JSONL file into the NATS message a department
// publisher would send, and checks it exactly as the hub will.
type lineJudge struct {
	cat    *schemas.Catalog
	v      *fact.Validator
	source string // /xianyang/<dept> of --dept
	dept   string
	county string // --county
}

// anyDept as --dept publishes each line of a file as the department of its
// own source.
const anyDept = "*"

// unroutable is the NATS subject a line is checked on when its own cannot be
// derived; the validator's complaints about it are dropped.
const unroutable = "unknown.unknown.unknown"

// judge returns the line's event id ("" when it has none) and either the
// message to publish or every violation found.
func (j *lineJudge) judge(line []byte) (string, *nats.Msg, []schemas.Violation) {
	var head struct {
		ID     any `json:"id"`
		Source any `json:"source"`
		Type   any `json:"type"`
		Data   any `json:"data"`
	}
	_ = json.Unmarshal(line, &head) // a malformed line is reported by the validator
	id, _ := head.ID.(string)
	source, _ := head.Source.(string)
	typ, _ := head.Type.(string)
	data, _ := head.Data.(map[string]any)

	var vs []schemas.Violation
	msgSource := j.source
	if j.dept == anyDept {
		msgSource = source
	} else if source != "" && source != j.source {
		vs = append(vs, schemas.Violation{Pointer: "/source", Reason: schemas.ReasonSource,
			Message: fmt.Sprintf("source %q is not %s: --dept %s publishes only its own facts", source, j.source, j.dept)})
	}
	subject := unroutable
	fam, known := j.cat.FamilyByType(typ)
	county := j.county
	if county == "" && known && data != nil {
		// The library's derivation: the county the data names, else the
		// city's (a county government's own) for a citywide family.
		pub, _ := j.cat.ParseSource(msgSource) // a bad source is the validator's to report
		var err error
		if county, err = j.cat.CountyOf(fam, pub, data); err != nil {
			vs = append(vs, schemas.Violation{Pointer: "/data", Reason: schemas.ReasonCounty, Message: err.Error() + "; pass --county"})
		}
	}
	if known && county != "" {
		subject = fact.SubjectFor(fam.Name, county)
	}
	msg := nats.NewMsg(subject)
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Data = line
	if id != "" {
		publishers.SetMsgID(msg, msgSource, id)
	}
	vd := j.v.Check(fact.Message{Subject: subject, Header: msg.Header, Data: line})
	for _, v := range vd.Violations {
		if subject == unroutable && strings.HasPrefix(v.Pointer, "subject:") {
			continue
		}
		vs = append(vs, v)
	}
	if len(vs) > 0 {
		return id, nil, vs
	}
	msg.Data = bytes.Clone(line) // the reader reuses its buffer
	return id, msg, nil
}

// reporter writes the per-line error report and drives the progress bar.
// The batch reports failures from its own goroutine, so it locks.
type reporter struct {
	mu     sync.Mutex
	w      io.Writer
	toFile bool
	bar    *progressbar.ProgressBar
	steps  int // lines not yet added to the bar
}

// barEvery is how many lines the progress bar advances at once: updating it
// for every line would cost more than publishing the line.
const barEvery = 256

// step advances the progress bar by one line.
func (r *reporter) step() {
	if r.bar == nil {
		return
	}
	if r.steps++; r.steps < barEvery {
		return
	}
	r.mu.Lock()
	_ = r.bar.Add(r.steps)
	r.steps = 0
	r.mu.Unlock()
}

// bad reports the violations of line n: line N: <id>: <pointer>: <message> [<reason>].
func (r *reporter) bad(n int, id string, vs ...schemas.Violation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil && !r.toFile {
		_ = r.bar.Clear()
	}
	if id == "" {
		id = "-"
	}
	for _, v := range vs {
		ptr := v.Pointer
		if ptr == "" {
			ptr = "-"
		}
		fmt.Fprintf(r.w, "line %d: %s: %s: %s", n, id, ptr, v.Message)
		if v.Reason != "" {
			fmt.Fprintf(r.w, " [%s]", v.Reason)
		}
		fmt.Fprintln(r.w)
	}
}

// finish closes the progress bar and writes the summary line.
func (r *reporter) finish(s fileSummary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Add(r.steps)
		_ = r.bar.Finish()
	}
	fmt.Fprintln(r.w, s)
	if v := s.Verdicts; v != nil {
		fmt.Fprintln(r.w, v)
		for _, l := range v.RefusedIn {
			id := l.ID
			if id == "" {
				id = "-"
			}
			fmt.Fprintf(r.w, "refused: line %d: %s\n", l.Line, id)
			writeViolations(r.w, "  ", l.Reasons)
		}
		if more := v.Refused - len(v.RefusedIn); more > 0 {
			fmt.Fprintf(r.w, "(and %d more refused lines: anzhi rejections)\n", more)
		}
	}
}

// lineRef names a line of the file and its event id.
type lineRef struct {
	line int
	id   string
}

// inFlight remembers the line of each message given to the batch until its
// outcome is known. The batch numbers messages from 0 in the order they are
// added (BatchResult.Index), so put numbers them the same way.
type inFlight struct {
	mu    sync.Mutex
	next  int
	lines map[int]lineRef
}

func (f *inFlight) put(ref lineRef) {
	f.mu.Lock()
	f.lines[f.next] = ref
	f.next++
	f.mu.Unlock()
}

func (f *inFlight) take(index int) lineRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref := f.lines[index]
	delete(f.lines, index)
	return ref
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
