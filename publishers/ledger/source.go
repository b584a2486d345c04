package ledger

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Encodings of CSV ledgers.
const (
	EncodingAuto    = "auto" // UTF-8 when the file is valid UTF-8, else GB18030
	EncodingUTF8    = "utf-8"
	EncodingGB18030 = "gb18030"
)

// Formats of ledgers.
const (
	FormatXLSX = "xlsx"
	FormatCSV  = "csv"
)

// OpenOptions say how to read a ledger file.
type OpenOptions struct {
	// Format is xlsx or csv; by default the file's extension decides.
	Format string
	// Sheet is the worksheet of a workbook (default: the first).
	Sheet string
	// Encoding of a CSV file: auto (default), utf-8 or gb18030 (GBK and
	// GB2312 are subsets of it).
	Encoding string
}

// Source yields the rows of a ledger in order.
type Source interface {
	// Next returns the next row and its number as the spreadsheet shows
	// it (from 1), or io.EOF after the last row.
	Next() (row int, cells []string, err error)
	// Rows estimates the number of rows (0 when unknown), for progress.
	Rows() int
	// Name describes the source: the file, and the sheet of a workbook.
	Name() string
	Close() error
}

// Open opens a ledger file, XLSX or CSV.
func Open(file string, o OpenOptions) (Source, error) {
	format := strings.ToLower(o.Format)
	if format == "" {
		switch strings.ToLower(filepath.Ext(file)) {
		case ".xlsx", ".xlsm":
			format = FormatXLSX
		case ".csv", ".txt":
			format = FormatCSV
		default:
			return nil, fmt.Errorf("ledger %s: cannot tell the format from the extension; want .xlsx or .csv", file)
		}
	}
	switch format {
	case FormatXLSX:
		if o.Encoding != "" && o.Encoding != EncodingAuto {
			return nil, fmt.Errorf("ledger %s: an encoding applies to CSV files only", file)
		}
		return openXLSX(file, o.Sheet)
	case FormatCSV:
		if o.Sheet != "" {
			return nil, fmt.Errorf("ledger %s: a CSV file has no sheets", file)
		}
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		src, err := NewCSV(f, file, o.Encoding)
		if err != nil {
			f.Close()
			return nil, err
		}
		src.closer = f
		return src, nil
	}
	return nil, fmt.Errorf("ledger %s: format %q is not xlsx or csv", file, o.Format)
}

// xlsxSource reads one worksheet with excelize's streaming row reader. Cells
// are read raw (unformatted): dates arrive as Excel serial numbers.
type xlsxSource struct {
	f     *excelize.File
	rows  *excelize.Rows
	name  string
	n     int
	total int
}

func openXLSX(file, sheet string) (*xlsxSource, error) {
	f, err := excelize.OpenFile(file, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", file, err)
	}
	sheets := f.GetSheetList()
	if sheet == "" {
		if len(sheets) == 0 {
			f.Close()
			return nil, fmt.Errorf("ledger %s: the workbook has no sheet", file)
		}
		sheet = sheets[0]
	} else if idx, _ := f.GetSheetIndex(sheet); idx < 0 {
		f.Close()
		return nil, fmt.Errorf("ledger %s: no sheet %q (sheets: %s)", file, sheet, strings.Join(sheets, ", "))
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ledger %s, sheet %s: %w", file, sheet, err)
	}
	s := &xlsxSource{f: f, rows: rows, name: file + " [" + sheet + "]"}
	if dim, err := f.GetSheetDimension(sheet); err == nil {
		if _, last, ok := strings.Cut(dim, ":"); ok {
			if _, r, err := excelize.SplitCellName(last); err == nil {
				s.total = r
			}
		}
	}
	return s, nil
}

func (s *xlsxSource) Next() (int, []string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return 0, nil, fmt.Errorf("ledger %s: %w", s.name, err)
		}
		return 0, nil, io.EOF
	}
	s.n++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return 0, nil, fmt.Errorf("ledger %s, row %d: %w", s.name, s.n, err)
	}
	return s.n, cells, nil
}

func (s *xlsxSource) Rows() int    { return s.total }
func (s *xlsxSource) Name() string { return s.name }
func (s *xlsxSource) Close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// csvSource reads a CSV file, decoding GB18030 when needed.
type csvSource struct {
	r      *csv.Reader
	name   string
	total  int
	closer io.Closer
}

// NewCSV reads a CSV ledger from r. The encoding is auto (UTF-8 when the
// whole input is valid UTF-8, else GB18030), utf-8 or gb18030; a UTF-8 byte
// order mark is dropped. The input is read into memory to detect its
// encoding and count its lines (ledgers are at most some hundred MB).
func NewCSV(r io.Reader, name, encoding string) (*csvSource, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", name, err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	switch strings.ToLower(strings.ReplaceAll(encoding, "_", "-")) {
	case "", EncodingAuto:
		if !utf8.Valid(b) {
			if b, err = decodeGB18030(b); err != nil {
				return nil, fmt.Errorf("ledger %s: neither UTF-8 nor GB18030: %w", name, err)
			}
		}
	case EncodingUTF8, "utf8":
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("ledger %s: not valid UTF-8 (try --encoding gb18030)", name)
		}
	case EncodingGB18030, "gbk", "gb2312":
		if b, err = decodeGB18030(b); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("ledger %s: encoding %q is not auto, utf-8 or gb18030", name, encoding)
	}
	cr := csv.NewReader(bufio.NewReader(bytes.NewReader(b)))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false // an unclosed quote is an error naming its line, not the rest of the file swallowed into one cell
	return &csvSource{r: cr, name: name, total: bytes.Count(b, []byte("\n"))}, nil
}

func decodeGB18030(b []byte) ([]byte, error) {
	out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), b)
	if err != nil {
		return nil, fmt.Errorf("decode GB18030: %w", err)
	}
	return out, nil
}

func (s *csvSource) Next() (int, []string, error) {
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil, io.EOF
	}
	line, _ := s.r.FieldPos(0)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return pe.StartLine, nil, fmt.Errorf("ledger %s, line %d: %w", s.name, pe.StartLine, err)
		}
		return 0, nil, fmt.Errorf("ledger %s: %w", s.name, err)
	}
	return line, rec, nil
}

func (s *csvSource) Rows() int    { return s.total }
func (s *csvSource) Name() string { return s.name }
func (s *csvSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
