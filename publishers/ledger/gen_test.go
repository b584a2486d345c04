package ledger_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/publishers/ledger"
)

// updateLedgers regenerates the example ledgers under testdata/ledgers:
//
//	go test ./publishers/ledger -run TestExampleLedgers -update-ledgers
var updateLedgers = flag.Bool("update-ledgers", false, "regenerate testdata/ledgers")

// ledgerDir is where the example ledgers live (repository root).
const ledgerDir = "../../testdata/ledgers"

// sheet is one example ledger: a title line (optional), a header and rows.
type sheet struct {
	file     string
	title    string
	header   []string
	rows     [][]any // string, int, float64, time.Time (an Excel date) or nil
	encoding string  // CSV: gb18030 or utf-8-bom
}

// synth makes synthetic people: made-up names, random ID numbers with a
// correct GB 11643 check digit.
type synth struct{ rng *rand.Rand }

var (
	surnames = []string{"王", "李", "张", "刘", "杨", "赵", "陈", "马", "郭", "何", "高", "罗", "史", "雷", "任"}
	given    = []string{"建军", "秀兰", "小红", "志强", "春燕", "海涛", "丽娟", "国庆", "玉梅", "文博", "子涵", "浩然", "雨欣", "宏伟", "淑芬", "金花"}
)

func (s *synth) name() string {
	return surnames[s.rng.IntN(len(surnames))] + given[s.rng.IntN(len(given))]
}

// id returns a valid ID number of a person of county born in year.
func (s *synth) id(county string, year int, male bool) string {
	birth := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, s.rng.IntN(365))
	serial := s.rng.IntN(500) * 2
	if male {
		serial++
	}
	first17 := fmt.Sprintf("%s%s%03d", county, birth.Format("20060102"), serial)
	return first17 + string(idcard.CheckDigit(first17))
}

// badCheck returns id with a wrong check digit.
func badCheck(id string) string {
	c := id[17]
	if c == '0' {
		c = '1'
	} else {
		c = '0'
	}
	return id[:17] + string(c)
}

func hh(county string, n int) string { return fmt.Sprintf("H%s-%06d", county, n) }
func site(county string, n int) string {
	return fmt.Sprintf("S%s-%04d", county, n)
}
func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// write writes a ledger file.
func (sh sheet) write(path string) error {
	if strings.HasSuffix(sh.file, ".csv") {
		return os.WriteFile(path, sh.csv(), 0o644)
	}
	f := excelize.NewFile()
	defer f.Close()
	name := strings.TrimSuffix(strings.SplitN(sh.file, "-", 2)[1], ".xlsx")
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	r := 1
	if sh.title != "" {
		if err := f.SetCellStr(name, "A1", sh.title); err != nil {
			return err
		}
		last, _ := excelize.CoordinatesToCellName(len(sh.header), 1)
		if err := f.MergeCell(name, "A1", last); err != nil {
			return err
		}
		r++
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return err
	}
	for i, row := range append([][]any{toAny(sh.header)}, sh.rows...) {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, r+i)
			switch x := v.(type) {
			case nil:
				continue
			case string:
				err = f.SetCellStr(name, cell, x)
			case time.Time:
				if err = f.SetCellValue(name, cell, x); err == nil {
					err = f.SetCellStyle(name, cell, cell, dateStyle)
				}
			default:
				err = f.SetCellValue(name, cell, x)
			}
			if err != nil {
				return err
			}
		}
	}
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "anzhi", Created: "2021-01-05T08:00:00Z", Modified: "2021-01-05T08:00:00Z",
		Title: sh.title, Description: "synthetic example ledger: made-up people, never real"}); err != nil {
		return err
	}
	if err := f.SaveAs(path); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// csv renders a CSV ledger in its encoding, with CRLF line ends as
// spreadsheet programs write them.
func (sh sheet) csv() []byte {
	var b bytes.Buffer
	line := func(cells []any) {
		for i, c := range cells {
			if i > 0 {
				b.WriteByte(',')
			}
			var s string
			switch x := c.(type) {
			case nil:
			case time.Time:
				s = x.Format("2006-01-02")
			default:
				s = fmt.Sprint(x)
			}
			if strings.ContainsAny(s, ",\"\n") {
				s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			b.WriteString(s)
		}
		b.WriteString("\r\n")
	}
	if sh.title != "" {
		line([]any{sh.title})
	}
	line(toAny(sh.header))
	for _, r := range sh.rows {
		line(r)
	}
	switch sh.encoding {
	case "gb18030":
		out, err := simplifiedchinese.GB18030.NewEncoder().Bytes(b.Bytes())
		if err != nil {
			panic(err)
		}
		return out
	case "utf-8-bom":
		return append([]byte("\ufeff"), b.Bytes()...)
	}
	return b.Bytes()
}

// TestExampleLedgers checks that the checked-in example ledgers are what
// the generator makes (cell by cell), or rewrites them with -update-ledgers.
func TestExampleLedgers(t *testing.T) {
	for _, sh := range exampleLedgers() {
		t.Run(sh.file, func(t *testing.T) {
			path := filepath.Join(ledgerDir, sh.file)
			if *updateLedgers {
				if err := os.MkdirAll(ledgerDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := sh.write(path); err != nil {
					t.Fatalf("write %s: %v", path, err)
				}
			}
			fresh := filepath.Join(t.TempDir(), sh.file)
			if err := sh.write(fresh); err != nil {
				t.Fatalf("write %s: %v", fresh, err)
			}
			if got, want := readAll(t, path), readAll(t, fresh); !reflect.DeepEqual(got, want) {
				t.Errorf("%s differs from what the generator makes; run go test -run TestExampleLedgers -update-ledgers\n got: %q\nwant: %q", path, got, want)
			}
		})
	}
}

// readAll reads every row of a ledger as text.
func readAll(t *testing.T, path string) [][]string {
	t.Helper()
	src, err := ledger.Open(path, ledger.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	var out [][]string
	for {
		_, cells, err := src.Next()
		if err != nil {
			break
		}
		out = append(out, cells)
	}
	return out
}
