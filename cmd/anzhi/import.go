package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/publishers/ledger"
	"github.com/xianyang/anzhi/schemas"
)

// importFlags are the flags of anzhi import.
type importFlags struct {
	dept, family, file, sheet, mapping, encoding string
	natsURL, report, keyFile                     string
	progress, asJSON, showMapping                bool
}

const importLong = `Import a department's ledger (台账): an XLSX workbook or a CSV file (UTF-8, with or
without BOM, or GB18030) with Chinese headers. Each row becomes one fact of
--family, published as --dept through the publisher library.

Columns are mapped to the family's fields by a built-in mapping (` + "`anzhi import\n--family F --show-mapping`" + ` prints it) or by --mapping FILE (YAML, same format).
The header row may have title rows above it. Dates may be written 2020-09-01,
2020/9/1, 2020年9月1日 or be Excel dates.

ID-card numbers are checked (GB 11643 check digit) and turned into person keys
on this machine with the deployment's HMAC key (` + ledger.KeyEnv + `, hex or raw, at least
16 bytes, or --key-file); they are never sent, logged or written to the report
(which shows them masked). Columns of names must be ignored by the mapping.

Every bad row gets a line in the report (stderr or --report):
  row N: <column>: <reason>
followed by a summary line. Fact ids are derived from each row's identity
(the mapping's id_from columns), so importing the same ledger again adds
nothing to the log: within JetStream's duplicate window (2 minutes) the rows
count as duplicates; after it they count as published again, and the hub,
which knows every fact it holds, drops them. Exit 3 if any row was refused,
1 if any failed to publish.`

// newImportCmd builds anzhi import.
func newImportCmd(a *app) *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import --dept DEPT --family FAMILY --file LEDGER.xlsx|.csv",
		Short: "Import a department's XLSX or CSV ledger (台账) as facts",
		Long:  importLong,
		Example: `  anzhi keys new -o person.key    # once per deployment: every department uses this key
  ANZHI_PERSON_KEY=$(cat /etc/anzhi/person.key) anzhi import --dept hrss --family hr.employment --file 就业台账.xlsx
  anzhi import --dept edu --family edu.enrolment --file 入学台账.csv --key-file person.key --report errors.txt
  anzhi import --dept civil --family civil.assistance --file 低保.csv --mapping my-mapping.yaml
  anzhi import --family hr.training --show-mapping`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runImport(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dept, "dept", "", "publishing department as in "+fact.SourcePrefix+"<dept>: hrss, edu, county/610424, ...")
	fl.StringVar(&f.family, "family", "", "event family of the ledger's rows, e.g. hr.employment (required)")
	fl.StringVar(&f.file, "file", "", "the ledger: .xlsx or .csv")
	fl.StringVar(&f.sheet, "sheet", "", "worksheet of a workbook (default: the first)")
	fl.StringVar(&f.mapping, "mapping", "", "mapping file (YAML) instead of the built-in mapping of --family")
	fl.StringVar(&f.encoding, "encoding", ledger.EncodingAuto, "encoding of a CSV ledger: auto, utf-8 or gb18030")
	fl.StringVar(&f.natsURL, "nats-url", natsURLDefault(), "NATS URL of the hub (env ANZHI_NATS_URL)")
	fl.StringVar(&f.report, "report", "", "write the error report here (default: stderr)")
	fl.StringVar(&f.keyFile, "key-file", "", "file holding the person key (default: env "+ledger.KeyEnv+")")
	fl.BoolVar(&f.progress, "progress", false, "show a progress bar even when stderr is not a terminal")
	fl.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	fl.BoolVar(&f.showMapping, "show-mapping", false, "print the built-in mapping of --family and exit")
	_ = cmd.MarkFlagRequired("family")
	return cmd
}

func (a *app) runImport(cmd *cobra.Command, f importFlags) (err error) {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if f.showMapping {
		b, err := ledger.BuiltinYAML(f.family)
		if err != nil {
			return usageErrorf("no built-in mapping for %s (built in: %s)", f.family, strings.Join(ledger.BuiltinFamilies(), ", "))
		}
		_, err = stdout.Write(b)
		return err
	}
	if f.dept == "" || f.file == "" {
		return usageErrorf("--dept and --file are required")
	}
	cat, err := schemas.Load()
	if err != nil {
		return fmt.Errorf("load the event catalog: %w", err)
	}
	switch f.encoding {
	case ledger.EncodingAuto, ledger.EncodingUTF8, ledger.EncodingGB18030:
	default:
		return usageErrorf("--encoding %s: want %s, %s or %s", f.encoding, ledger.EncodingAuto, ledger.EncodingUTF8, ledger.EncodingGB18030)
	}
	if err := ledger.MayPublish(cat, f.dept, f.family); err != nil {
		if errors.Is(err, ledger.ErrNotAllowed) {
			return refusedErrorf("%v", err)
		}
		return usageErrorf("%v", err)
	}
	// The key before the ledger: without it nothing is read.
	key, err := ledger.LoadKey(f.keyFile)
	if err != nil {
		return usageErrorf("%w", err) // no key, an unreadable --key-file or a bad key
	}
	var m *ledger.Mapping
	if f.mapping != "" {
		if m, err = ledger.LoadMapping(f.mapping, cat); err != nil {
			return usageErrorf("%v", err)
		}
		if m.Family != f.family {
			return usageErrorf("--mapping %s is for %s, not --family %s", f.mapping, m.Family, f.family)
		}
	} else if m, err = ledger.Builtin(f.family, cat); err != nil {
		return usageErrorf("%v", err)
	}
	src, err := ledger.Open(f.file, ledger.OpenOptions{Sheet: f.sheet, Encoding: f.encoding})
	if err != nil {
		return err
	}
	defer src.Close()

	report := stderr
	if f.report != "" {
		out, cerr := os.Create(f.report)
		if cerr != nil {
			return fmt.Errorf("--report: %w", cerr)
		}
		defer keepErr(&err, "--report", out.Close)
		report = out
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nc, err := a.connectIntake(cmd.Context(), f.natsURL, "anzhi-import-"+f.dept)
	if err != nil {
		return err
	}
	defer nc.Close()
	pub, err := publishers.New(nc, f.dept, publishers.WithCatalog(cat))
	if err != nil {
		return usageErrorf("--dept: %v", err)
	}
	var progress io.Writer
	if f.progress || isTerminal(stderr) {
		progress = stderr
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	sum, rowErrs, err := ledger.Import(ctx, pub, src, m, ledger.Options{Key: key, Catalog: cat, Progress: progress, Logger: log})
	if werr := ledger.WriteReport(report, rowErrs, sum); werr != nil && err == nil {
		err = fmt.Errorf("write the report: %w", werr)
	}
	if f.asJSON {
		if jerr := writeJSONLine(stdout, sum); jerr != nil && err == nil {
			err = jerr
		}
	} else if f.report != "" {
		fmt.Fprintln(stdout, sum)
	}
	switch {
	case err != nil:
		return err
	case sum.Invalid > 0:
		return refusedErrorf("%d of %d rows of %s were refused (see the report)", sum.Invalid, sum.Rows, f.file)
	}
	return nil
}
