package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// KeyEnv is the environment variable holding the deployment's person key.
const KeyEnv = "ANZHI_PERSON_KEY"

// MinKeyBytes is the shortest person key accepted.
const MinKeyBytes = 16

// headerSearchRows is how many rows may stand above the header row (a title,
// a unit, a date).
const headerSearchRows = 20

// chinaTime is the zone of ledger dates (UTC+8).
var chinaTime = time.FixedZone("CST", 8*3600)

// Options tune an import.
type Options struct {
	// Key is the deployment's HMAC key for person keys (see LoadKey).
	Key []byte
	// Catalog is the event catalog (default: the embedded one).
	Catalog *schemas.Catalog
	// Progress, when set, shows a progress bar there.
	Progress io.Writer
	// Logger receives the import's log (default slog.Default()); it never
	// sees a raw ID-card number.
	Logger *slog.Logger
	// MaxPending bounds unacknowledged publishes (default: the batch's).
	MaxPending int
}

// Summary counts an import's rows.
type Summary struct {
	File       string `json:"file"`
	Family     string `json:"family"`
	Department string `json:"department"`
	Rows       int    `json:"rows"`       // data rows read (not the header, title or empty rows)
	Published  int    `json:"published"`  // new facts stored
	Duplicates int    `json:"duplicates"` // facts already published (a re-import)
	Invalid    int    `json:"invalid"`    // rows refused, each with lines in the report
	Failed     int    `json:"failed"`     // rows that could not be published
}

func (s Summary) String() string {
	return fmt.Sprintf("summary: rows=%d published=%d duplicates=%d invalid=%d failed=%d",
		s.Rows, s.Published, s.Duplicates, s.Invalid, s.Failed)
}

// RowError is one line of the error report: a row as numbered in the
// spreadsheet, the column header ("" for the row as a whole) and why.
type RowError struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func (e RowError) String() string {
	col := e.Column
	if col == "" {
		col = "-"
	}
	return fmt.Sprintf("row %d: %s: %s", e.Row, col, e.Reason)
}

// WriteReport writes the error report: one line per row error, then the
// summary.
func WriteReport(w io.Writer, errs []RowError, sum Summary) error {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	b.WriteString(sum.String())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// ParseKey reads a person key: hex (an even number of hex digits, at least
// 32) or the raw bytes, surrounding white space trimmed.
func ParseKey(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2*MinKeyBytes && len(s)%2 == 0 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	if len(s) < MinKeyBytes {
		return nil, fmt.Errorf("the person key has %d bytes; it needs at least %d (hex or raw)", len(s), MinKeyBytes)
	}
	return []byte(s), nil
}

// LoadKey reads the person key from keyFile, or from ANZHI_PERSON_KEY when
// keyFile is empty. Without either it returns ErrNoKey.
func LoadKey(keyFile string) ([]byte, error) {
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("person key: %w", err)
		}
		k, err := ParseKey(b)
		if err != nil {
			return nil, fmt.Errorf("person key %s: %w", keyFile, err)
		}
		return k, nil
	}
	v, ok := os.LookupEnv(KeyEnv)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, ErrNoKey
	}
	k, err := ParseKey([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("person key %s: %w", KeyEnv, err)
	}
	return k, nil
}

// importer is the state of one import.
type importer struct {
	m    *Mapping
	key  []byte
	dept string
	log  *slog.Logger
	cols []*Column // mapping column of each ledger column, nil when unmapped

	mu    sync.Mutex
	errs  []RowError
	rowOf map[int]int // batch index → row
}

// Import reads the rows of src, maps them with m and publishes the good ones
// through pub (as pub's department) in a batch. It returns the summary and
// the report's lines in row order. The error is for the import as a whole
// (no key, no header row, a read error, the context); bad rows are reported,
// not returned as errors.
func Import(ctx context.Context, pub *publishers.Publisher, src Source, m *Mapping, o Options) (Summary, []RowError, error) {
	sum := Summary{File: src.Name(), Family: m.Family, Department: pub.Department()}
	if len(o.Key) == 0 {
		return sum, nil, ErrNoKey
	}
	if len(o.Key) < MinKeyBytes {
		return sum, nil, fmt.Errorf("person key: %d bytes, need at least %d", len(o.Key), MinKeyBytes)
	}
	cat := o.Catalog
	if cat == nil {
		var err error
		if cat, err = schemas.Load(); err != nil {
			return sum, nil, fmt.Errorf("ledger: %w", err)
		}
	}
	if err := MayPublish(cat, pub.Department(), m.Family); err != nil {
		return sum, nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	imp := &importer{m: m, key: o.Key, dept: pub.Department(), log: log.With("ledger", src.Name(), "family", m.Family), rowOf: map[int]int{}}

	headerRow, err := imp.findHeader(src)
	if err != nil {
		return sum, nil, err
	}
	var bar *progressbar.ProgressBar
	if o.Progress != nil {
		bar = progressbar.NewOptions(max(src.Rows()-headerRow, -1), progressbar.OptionSetWriter(o.Progress),
			progressbar.OptionSetDescription("importing "+src.Name()), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	batch, err := pub.NewBatch(ctx, publishers.BatchOptions{MaxPending: o.MaxPending, OnResult: imp.result})
	if err != nil {
		return sum, nil, fmt.Errorf("ledger: %w", err)
	}
	var readErr error
	next := 0 // the batch numbers facts from 0 in the order they are added
	for ctx.Err() == nil {
		row, cells, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if bar != nil {
			_ = bar.Add(1)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			sum.Rows++
			sum.Invalid++
			imp.report(RowError{Row: row, Reason: "not readable as CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			readErr = err
			break
		}
		if blank(cells) {
			continue
		}
		sum.Rows++
		f, errs := imp.convert(row, cells)
		if len(errs) > 0 {
			sum.Invalid++
			imp.report(errs...)
			continue
		}
		imp.mu.Lock()
		imp.rowOf[next] = row
		imp.mu.Unlock()
		next++
		if _, err := batch.Add(f); err != nil {
			break // the context ended
		}
	}
	bs, waitErr := batch.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	sum.Published, sum.Duplicates, sum.Failed = bs.Published, bs.Duplicates, bs.Failed
	sum.Invalid += bs.Invalid
	imp.mu.Lock()
	errs := slices.Clone(imp.errs)
	imp.mu.Unlock()
	slices.SortStableFunc(errs, func(a, b RowError) int { return a.Row - b.Row })
	imp.log.Info("ledger imported", "rows", sum.Rows, "published", sum.Published, "duplicates", sum.Duplicates,
		"invalid", sum.Invalid, "failed", sum.Failed)
	switch {
	case ctx.Err() != nil:
		return sum, errs, fmt.Errorf("import of %s interrupted: %w", src.Name(), ctx.Err())
	case readErr != nil:
		return sum, errs, readErr
	case waitErr != nil:
		return sum, errs, fmt.Errorf("import of %s: %w", src.Name(), waitErr)
	}
	return sum, errs, nil
}

// ErrNotAllowed means a department may not publish a family at all.
var ErrNotAllowed = errors.New("not allowed")

// MayPublish checks that the department may publish the family at all
// (errors.Is(err, ErrNotAllowed) when it may not).
func MayPublish(cat *schemas.Catalog, dept, family string) error {
	p, err := cat.ParsePublisher(dept)
	if err != nil {
		return fmt.Errorf("ledger: department: %w", err)
	}
	f, ok := cat.Family(family)
	if !ok {
		return fmt.Errorf("ledger: family %q is not in the catalog", family)
	}
	for _, o := range f.Owners {
		if o == p.Dept || o == "*" {
			return nil
		}
	}
	return fmt.Errorf("ledger: %s may not publish %s (allowed: %s): %w", dept, family, strings.Join(f.Owners, ", "), ErrNotAllowed)
}

// findHeader reads rows until one holds every required column of the
// mapping (and at least two of its columns), and remembers which mapping
// column each ledger column is. Rows above it (a title) are skipped.
func (imp *importer) findHeader(src Source) (int, error) {
	var required []string
	for i := range imp.m.Columns {
		if c := &imp.m.Columns[i]; c.Required || c.Role == RoleIDNumber {
			required = append(required, c.Name())
		}
	}
	best, bestRow := -1, 0
	var bestMissing []string
	for i := 0; i < headerSearchRows; i++ {
		row, cells, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		cols := make([]*Column, len(cells))
		found := map[*Column]bool{}
		for j, cell := range cells {
			if c := imp.m.column(cell); c != nil && strings.TrimSpace(cell) != "" && !found[c] {
				cols[j] = c
				found[c] = true
			}
		}
		var missing []string
		for _, name := range required {
			if !found[imp.m.column(name)] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 && len(found) >= min(2, len(imp.m.Columns)) {
			imp.cols = cols
			for j, c := range cols {
				if c == nil && strings.TrimSpace(cells[j]) != "" {
					imp.log.Warn("column not in the mapping; ignored", "row", row, "column", maskAll(strings.TrimSpace(cells[j])))
				}
			}
			return row, nil
		}
		if len(found) > best {
			best, bestRow, bestMissing = len(found), row, missing
		}
	}
	if best > 0 {
		return 0, fmt.Errorf("ledger %s: no header row for %s; row %d comes closest but lacks %s",
			src.Name(), imp.m.Family, bestRow, strings.Join(bestMissing, "、"))
	}
	return 0, fmt.Errorf("ledger %s: no header row for %s in the first %d rows; expected columns %s",
		src.Name(), imp.m.Family, headerSearchRows, strings.Join(required, "、"))
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// convert maps one row to a fact, or returns every problem of the row.
func (imp *importer) convert(row int, cells []string) (publishers.Fact, []RowError) {
	var errs []RowError
	data := map[string]any{}
	idVals := map[*Column]string{}
	var timeCol string
	present := map[*Column]bool{}
	for j, c := range imp.cols {
		if c == nil || c.Role == RoleIgnore {
			continue
		}
		raw := ""
		if j < len(cells) {
			raw = cells[j]
		}
		v, err := imp.readCell(c, raw)
		if errors.Is(err, errEmpty) {
			continue
		}
		present[c] = true
		if err != nil {
			errs = append(errs, RowError{Row: row, Column: c.Name(), Reason: err.Error()})
			continue
		}
		idVals[c] = fmt.Sprint(v)
		switch c.Role {
		case RoleTime:
			timeCol = v.(string)
		default:
			data[c.Field] = v
		}
	}
	for i := range imp.m.Columns {
		c := &imp.m.Columns[i]
		if (c.Required || c.Role == RoleIDNumber) && !present[c] {
			errs = append(errs, RowError{Row: row, Column: c.Name(), Reason: "required cell is empty"})
		}
	}
	if len(errs) > 0 {
		return publishers.Fact{}, errs
	}
	for _, k := range sortedKeys(imp.m.Defaults) {
		if _, ok := data[k]; !ok {
			data[k] = imp.m.Defaults[k]
		}
	}
	when, err := imp.effective(timeCol, data)
	if err != nil {
		return publishers.Fact{}, []RowError{{Row: row, Reason: err.Error()}}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return publishers.Fact{}, []RowError{{Row: row, Reason: "cannot encode the row: " + err.Error()}}
	}
	h := sha256.New()
	for _, part := range []string{"anzhi-ledger", imp.dept, imp.m.Family} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	for _, name := range imp.m.IDFrom {
		h.Write([]byte(idVals[imp.m.column(name)]))
		h.Write([]byte{0})
	}
	id := imp.m.Family + "-L" + hex.EncodeToString(h.Sum(nil)[:16])
	return publishers.Fact{Family: imp.m.Family, ID: id, Time: when, Data: json.RawMessage(b)}, nil
}

// effective returns the fact's effective time: the time column, else the
// first present field of the mapping's time list (a year: 1 January).
func (imp *importer) effective(timeCol string, data map[string]any) (time.Time, error) {
	if timeCol != "" {
		return time.ParseInLocation(time.DateOnly, timeCol, chinaTime)
	}
	for _, f := range imp.m.Time {
		switch v := data[f].(type) {
		case string:
			if t, err := time.ParseInLocation(time.DateOnly, v, chinaTime); err == nil {
				return t, nil
			}
		case int64:
			return time.Date(int(v), 1, 1, 0, 0, 0, 0, chinaTime), nil
		}
	}
	var names []string
	for _, f := range imp.m.Time {
		if c := imp.m.columnOfField(f); c != nil {
			names = append(names, c.Name())
		} else {
			names = append(names, f)
		}
	}
	return time.Time{}, fmt.Errorf("no effective date: %s is empty", strings.Join(names, " / "))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// report records row errors.
func (imp *importer) report(errs ...RowError) {
	imp.mu.Lock()
	imp.errs = append(imp.errs, errs...)
	imp.mu.Unlock()
}

// result receives a fact's outcome from the batch and turns a refusal into
// row errors, mapping each field back to its column.
func (imp *importer) result(r publishers.BatchResult) {
	imp.mu.Lock()
	row := imp.rowOf[r.Index]
	delete(imp.rowOf, r.Index)
	imp.mu.Unlock()
	if r.Err == nil {
		return
	}
	var ve *fact.ValidationError
	if !errors.As(r.Err, &ve) {
		imp.report(RowError{Row: row, Reason: "publish failed: " + r.Err.Error()})
		return
	}
	// A malformed site_id or household_id also spoils the NATS subject
	// derived from it; the field's own violation says it all.
	fieldBad := slices.ContainsFunc(ve.Violations, func(v schemas.Violation) bool {
		return strings.HasPrefix(v.Pointer, "/data/")
	})
	var errs []RowError
	for _, v := range ve.Violations {
		if fieldBad && strings.HasPrefix(v.Pointer, "subject:") {
			continue
		}
		e := RowError{Row: row, Reason: v.Message + " [" + string(v.Reason) + "]"}
		if field, ok := strings.CutPrefix(v.Pointer, "/data/"); ok {
			field, _, _ = strings.Cut(field, "/")
			if c := imp.m.columnOfField(field); c != nil {
				e.Column = c.Name()
			} else {
				e.Reason = field + ": " + e.Reason
			}
		} else if v.Pointer != "" {
			e.Reason = v.Pointer + ": " + e.Reason
		}
		errs = append(errs, e)
	}
	imp.report(errs...)
}
