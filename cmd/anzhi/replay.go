package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// replayFlags are the flags of anzhi replay.
type replayFlags struct {
	natsURL                     string
	since, until                string
	family, county, dept        string
	entity                      string
	includeRejected, includeHub bool
	output                      string
}

const replayLong = `Replay the canonical log for an audit: every entry, in log order, as it is
stored — a department's CloudEvent exactly as sent (structured, or binary-mode
data with its ce- headers), the hub's own events with --include-hub, and the
rejection ledger's records with --include-rejected — each with its log
sequence and the time the log recorded it.

--family and --county narrow by JetStream subject filter (the server sends
nothing else); --dept and --entity (a household, site or person id) are
checked on each entry. --since and --until take a date (China time; --until
includes the whole day), an RFC 3339 time, or a log sequence.

The output is JSON lines on stdout, or -o FILE: .jsonl, .csv or .xlsx (one
row an entry: sequence, recorded, kind, subject, source, id, time, data),
with a progress count on stderr. It reads up to the log's end when it started.`

func newReplayCmd(a *app) *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Replay the canonical log (auditors): entries in log order, filtered, as JSON lines or CSV",
		Long:  replayLong,
		Example: `  anzhi replay --creds auditor.creds --family edu.enrolment --county 610424 -o enrolment.jsonl
  anzhi replay --entity H610424-000123 --include-hub
  anzhi replay --since 2024-05-01 --until 2024-05-31 --include-rejected -o may.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runReplay(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.StringVar(&f.since, "since", "", "from this date, RFC 3339 time, or log sequence")
	fl.StringVar(&f.until, "until", "", "up to this date (inclusive), RFC 3339 time, or log sequence")
	fl.StringVar(&f.family, "family", "", "only facts of this family (edu.enrolment)")
	fl.StringVar(&f.county, "county", "", "only facts on this county's token (610424)")
	fl.StringVar(&f.dept, "dept", "", "only this department's facts and rejections (edu, county/610424)")
	fl.StringVar(&f.entity, "entity", "", "only facts about this household, site or person (its id or person_key)")
	fl.BoolVar(&f.includeRejected, "include-rejected", false, "add the rejection ledger's records")
	fl.BoolVar(&f.includeHub, "include-hub", false, "add the hub's own events (clock, warnings, read records)")
	fl.StringVarP(&f.output, "output", "o", "", "write to this file (.jsonl or .csv) instead of stdout")
	return cmd
}

// replayBound reads a --since/--until value: a log sequence, a date (its
// start, or with end its last instant), or an RFC 3339 time.
func replayBound(flag, s string, end bool) (seq uint64, t time.Time, err error) {
	if s == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
		return n, time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, view.ChinaTime()); err == nil {
		if end {
			d = d.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		return 0, d, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return 0, t, nil
	}
	return 0, time.Time{}, usageErrorf("--%s %q: want a date (2006-01-02), an RFC 3339 time or a log sequence", flag, s)
}

func (a *app) runReplay(ctx context.Context, f replayFlags) (err error) {
	q := subscribers.ReplayQuery{Family: f.family, County: f.county, Dept: f.dept, Entity: f.entity,
		IncludeRejected: f.includeRejected, IncludeHub: f.includeHub}
	if q.FromSeq, q.Since, err = replayBound("since", f.since, false); err != nil {
		return err
	}
	if q.ToSeq, q.Until, err = replayBound("until", f.until, true); err != nil {
		return err
	}
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	if f.family != "" {
		if _, ok := cat.Family(f.family); !ok {
			return usageErrorf("--family %q is not a family of the catalog (anzhi schemas list)", f.family)
		}
	}
	if f.county != "" && !cat.ValidArea(f.county) {
		return usageErrorf("--county %q is not a county of %s", f.county, cat.City.Name)
	}
	sink, err := a.replaySink(f.output)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if f.output != "" {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("replaying"),
			progressbar.OptionShowCount(), progressbar.OptionSetItsString("entries"), progressbar.OptionClearOnFinish())
	}
	nc, js, err := a.connectJS(ctx, f.natsURL, "anzhi-replay")
	if err != nil {
		_ = sink.close(false)
		return err
	}
	defer nc.Close()
	n, err := subscribers.Replay(ctx, js, q, func(e subscribers.ReplayedEntry) error {
		if bar != nil {
			_ = bar.Add(1)
		}
		return sink.write(e)
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if cerr := sink.close(err == nil); err == nil && cerr != nil {
		return fmt.Errorf("-o %s: %w", f.output, cerr)
	}
	if err != nil {
		return explainRefusal(nc, fmt.Errorf("replay: %w", err))
	}
	if f.output != "" {
		fmt.Fprintf(a.stderr, "replayed %d entries to %s\n", n, f.output)
	}
	return nil
}

// replayOut is where a replay goes: write takes each entry, close flushes
// and closes the output (a text file keeps what was written; a workbook is
// saved only when complete).
type replayOut struct {
	write func(subscribers.ReplayedEntry) error
	close func(complete bool) error
}

// replaySink opens the output a replay writes: JSON lines on stdout, or the
// file by its extension (.jsonl, .csv, .xlsx).
func (a *app) replaySink(path string) (replayOut, error) {
	if path == "" {
		return replayOut{write: replayJSONL(a.stdout), close: func(bool) error { return nil }}, nil
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".jsonl", ".ndjson", ".csv":
	case ".xlsx":
		return replayXLSX(path)
	default:
		return replayOut{}, usageErrorf("-o %s: write .jsonl, .csv or .xlsx", path)
	}
	file, err := os.Create(path)
	if err != nil {
		return replayOut{}, fmt.Errorf("-o: %w", err)
	}
	if ext != ".csv" {
		return replayOut{write: replayJSONL(file), close: func(bool) error { return file.Close() }}, nil
	}
	cw := csv.NewWriter(file)
	if err := cw.Write(replayColumns); err != nil {
		file.Close()
		return replayOut{}, fmt.Errorf("-o %s: %w", path, err)
	}
	return replayOut{write: replayCSV(cw), close: func(bool) error {
		cw.Flush()
		return cmp.Or(cw.Error(), file.Close())
	}}, nil
}

// replayJSONL writes an entry as one JSON line.
func replayJSONL(w io.Writer) func(subscribers.ReplayedEntry) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(e subscribers.ReplayedEntry) error { return enc.Encode(e) }
}

// replayColumns are the columns of a replay written as a table.
var replayColumns = []string{"log_seq", "recorded", "kind", "subject", "source", "id", "time", "data"}

// replayRow is an entry as a table row: a fact's attributes read from its
// CloudEvent, a rejection's body as its data.
func replayRow(e subscribers.ReplayedEntry) []string {
	row := []string{strconv.FormatUint(e.Seq, 10), e.Recorded.Format(time.RFC3339Nano), e.Kind, e.Subject, "", "", "", string(e.Body)}
	if e.Kind != "rejection" {
		if entry, err := fact.DecodeEntry(e.Seq, e.Subject, e.Header, e.Body); err == nil {
			row[4], row[5], row[7] = entry.Source, entry.ID, string(entry.Data)
			if !entry.Time.IsZero() {
				row[6] = entry.Time.Format(time.RFC3339)
			}
		}
	}
	return row
}

// replayCSV writes an entry as one CSV row.
func replayCSV(w *csv.Writer) func(subscribers.ReplayedEntry) error {
	return func(e subscribers.ReplayedEntry) error { return w.Write(replayRow(e)) }
}

// replayXLSX writes the replay to an XLSX workbook, one row an entry, with
// a streaming writer (a year of the log does not have to fit in memory).
func replayXLSX(path string) (replayOut, error) {
	book := excelize.NewFile()
	const sheet = "log"
	fail := func(err error) (replayOut, error) {
		book.Close()
		return replayOut{}, fmt.Errorf("-o %s: %w", path, err)
	}
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		return fail(err)
	}
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		return fail(err)
	}
	cells := func(row []string) []any {
		vals := make([]any, len(row))
		for i, v := range row {
			vals[i] = v
		}
		return vals
	}
	if err := sw.SetRow("A1", cells(replayColumns)); err != nil {
		return fail(err)
	}
	rowNum := 1
	return replayOut{
		write: func(e subscribers.ReplayedEntry) error {
			rowNum++
			cell, err := excelize.CoordinatesToCellName(1, rowNum)
			if err != nil {
				return err
			}
			return sw.SetRow(cell, cells(replayRow(e)))
		},
		close: func(complete bool) error {
			defer book.Close()
			if !complete {
				return nil
			}
			if err := sw.Flush(); err != nil {
				return err
			}
			return book.SaveAs(path)
		},
	}, nil
}
