package ledger_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/publishers/ledger"
	"github.com/xianyang/anzhi/schemas"
)

func TestBuiltinMappings(t *testing.T) {
	cat := schemas.MustLoad()
	want := []string{"civil.assistance", "edu.enrolment", "health.coverage", "hr.employment", "hr.training",
		"registry.household", "registry.person", "resources.deeds"}
	if got := ledger.BuiltinFamilies(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("BuiltinFamilies = %v, want %v", got, want)
	}
	for _, fam := range want {
		m, err := ledger.Builtin(fam, cat)
		if err != nil {
			t.Errorf("Builtin(%s): %v", fam, err)
			continue
		}
		if m.Family != fam {
			t.Errorf("Builtin(%s).Family = %s", fam, m.Family)
		}
	}
	if _, err := ledger.Builtin("infra.water", cat); !errors.Is(err, ledger.ErrMapping) {
		t.Errorf("Builtin(infra.water) = %v, want ErrMapping", err)
	}
}

func TestParseMapping(t *testing.T) {
	cat := schemas.MustLoad()
	const base = "family: hr.employment\ntime: [start_on]\nid_from: [身份证号]\ncolumns:\n" +
		"  - {header: 身份证号, role: id_number}\n  - {header: 户编号, field: household_id, required: true}\n"
	tests := []struct {
		name, yaml, withError string
	}{
		{name: "ok", yaml: base + "  - {header: 姓名, role: ignore}\n"},
		{name: "name published", yaml: base + "  - {header: [姓名, 名字], field: note}\n", withError: "names are never published"},
		{name: "unknown field", yaml: base + "  - {header: 工号, field: staff_no}\n", withError: `has no field "staff_no"`},
		{name: "unknown family", yaml: strings.Replace(base, "hr.employment", "hr.nothing", 1), withError: "not in the catalog"},
		{name: "field twice", yaml: base + "  - {header: 户号, field: household_id}\n", withError: "given by columns"},
		{name: "header twice", yaml: base + "  - {header: 户编号, field: note}\n", withError: "is given for columns"},
		{name: "enum without values", yaml: base + "  - {header: 状态, field: status, type: enum}\n", withError: "needs values"},
		{name: "bad type", yaml: base + "  - {header: 状态, field: status, type: number}\n", withError: "is not string"},
		{name: "unknown key", yaml: base + "  - {header: 状态, field: status, colour: red}\n", withError: "colour"},
		{name: "no id_from", yaml: strings.Replace(base, "id_from: [身份证号]\n", "", 1), withError: "id_from"},
		{name: "no time", yaml: strings.Replace(base, "time: [start_on]\n", "", 1), withError: "time"},
		{name: "bool label", yaml: base + "  - {header: 输出, field: organized, type: bool, values: {是: yes}}\n", withError: "true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ledger.ParseMapping([]byte(tt.yaml), cat)
			switch {
			case tt.withError == "" && err != nil:
				t.Fatalf("ParseMapping: %v", err)
			case tt.withError != "" && (err == nil || !strings.Contains(err.Error(), tt.withError)):
				t.Fatalf("ParseMapping = %v, want an error with %q", err, tt.withError)
			case err != nil && !errors.Is(err, ledger.ErrMapping):
				t.Fatalf("error %v is not ErrMapping", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in        string
		wantLen   int
		withError bool
	}{
		{in: testKey, wantLen: 32},
		{in: testKey + "\n", wantLen: 32},
		{in: "a raw key of some length", wantLen: 24},
		{in: "short", withError: true},
		{in: "", withError: true},
	}
	for _, tt := range tests {
		k, err := ledger.ParseKey([]byte(tt.in))
		if (err != nil) != tt.withError || len(k) != tt.wantLen {
			t.Errorf("ParseKey(%q) = %d bytes, %v; want %d bytes (error %v)", tt.in, len(k), err, tt.wantLen, tt.withError)
		}
	}
}

func TestLoadKey(t *testing.T) {
	t.Setenv(ledger.KeyEnv, "")
	if _, err := ledger.LoadKey(""); !errors.Is(err, ledger.ErrNoKey) {
		t.Errorf("LoadKey without a key = %v, want ErrNoKey", err)
	}
	t.Setenv(ledger.KeyEnv, testKey)
	if k, err := ledger.LoadKey(""); err != nil || len(k) != 32 {
		t.Errorf("LoadKey from the environment = %d bytes, %v", len(k), err)
	}
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := ledger.LoadKey(file); err != nil || string(k) != "0123456789abcdef0123" {
		t.Errorf("LoadKey(file) = %q, %v", k, err)
	}
	if _, err := ledger.LoadKey(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("LoadKey(missing file): no error")
	}
}

// countingSource fails the test if it is read.
type countingSource struct{ reads int }

func (s *countingSource) Next() (int, []string, error) { s.reads++; return 0, nil, errors.New("read") }
func (s *countingSource) Rows() int                    { return 0 }
func (s *countingSource) Name() string                 { return "counting" }
func (s *countingSource) Close() error                 { return nil }

func TestImportRefusesBeforeReading(t *testing.T) {
	_, nc := startHub(t)
	cat := schemas.MustLoad()
	m, err := ledger.Builtin("hr.employment", cat)
	if err != nil {
		t.Fatal(err)
	}
	hrss, _ := publishers.New(nc, "hrss")
	edu, _ := publishers.New(nc, "edu")
	tests := []struct {
		name      string
		pub       *publishers.Publisher
		key       []byte
		withError string
	}{
		{name: "no key", pub: hrss, withError: "no person key"},
		{name: "short key", pub: hrss, key: []byte("short"), withError: "at least 16"},
		{name: "not the owner", pub: edu, key: key(t), withError: "edu may not publish hr.employment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingSource{}
			_, _, err := ledger.Import(context.Background(), tt.pub, src, m, ledger.Options{Key: tt.key, Catalog: cat})
			if err == nil || !strings.Contains(err.Error(), tt.withError) {
				t.Errorf("Import = %v, want an error with %q", err, tt.withError)
			}
			if src.reads != 0 {
				t.Errorf("the ledger was read %d times before refusing", src.reads)
			}
		})
	}
}

func TestImportMappingFile(t *testing.T) {
	h, nc := startHub(t)
	dir := t.TempDir()
	// A county's own employment ledger with other headers.
	mapping := `family: hr.employment
time: [start_on]
id_from: [公民身份号码, 状态]
columns:
  - {header: 名字, role: ignore}
  - {header: 公民身份号码, role: id_number}
  - {header: 户号, field: household_id, required: true}
  - {header: 状态, field: status, type: enum, values: {在岗: employed, 待业: unemployed}, required: true}
  - {header: 岗位类别, field: kind, type: enum, values: {公益岗: public_welfare}}
  - {header: 上岗日期, field: start_on, type: date, required: true}
`
	if err := os.WriteFile(filepath.Join(dir, "map.yaml"), []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := "名字,公民身份号码,户号,状态,岗位类别,上岗日期\n" +
		"某甲,11010519491231002X,H610424-000123,在岗,公益岗,2021年3月1日\n" +
		"某乙,110105194912310021,H610424-000124,待业,,2021/3/1\n"
	if err := os.WriteFile(filepath.Join(dir, "ledger.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := schemas.MustLoad()
	m, err := ledger.LoadMapping(filepath.Join(dir, "map.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ledger.Open(filepath.Join(dir, "ledger.csv"), ledger.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pub, _ := publishers.New(nc, "hrss")
	var progress bytes.Buffer
	sum, errs, err := ledger.Import(context.Background(), pub, src, m, ledger.Options{Key: key(t), Catalog: cat, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "importing") {
		t.Errorf("no progress bar: %q", progress.String())
	}
	if sum.Rows != 2 || sum.Published != 1 || sum.Invalid != 1 {
		t.Errorf("summary %v, want rows=2 published=1 invalid=1", sum)
	}
	if len(errs) != 1 || errs[0].String() != "row 3: 公民身份号码: ID-card number 110105********0021: the check digit does not match (GB 11643)" {
		t.Errorf("report %v", errs)
	}
	if st := waitIdle(t, h); st.LogLast != 1 {
		t.Errorf("log holds %d facts, want 1", st.LogLast)
	}
	scanStreams(t, nc, []string{"11010519491231002X", "110105194912310021"})
}

func TestImportNoHeader(t *testing.T) {
	_, nc := startHub(t)
	cat := schemas.MustLoad()
	m, _ := ledger.Builtin("hr.employment", cat)
	pub, _ := publishers.New(nc, "hrss")
	tests := []struct{ csv, withError string }{
		{csv: "a,b\n1,2\n", withError: "expected columns 身份证号、户编号、就业状态、开始日期"},
		{csv: "标题\n姓名,身份证号,户编号,开始日期\n", withError: "row 2 comes closest but lacks 就业状态"},
	}
	for _, tt := range tests {
		src, err := ledger.NewCSV(strings.NewReader(tt.csv), "x.csv", "")
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ledger.Import(context.Background(), pub, src, m, ledger.Options{Key: key(t), Catalog: cat})
		if err == nil || !strings.Contains(err.Error(), tt.withError) {
			t.Errorf("Import(%q) = %v, want an error with %q", tt.csv, err, tt.withError)
		}
	}
}

func TestOpenEncodings(t *testing.T) {
	gb := filepath.Join(ledgerDir, "civil-低保台账.csv")
	tests := []struct {
		name, file, encoding, withError string
		header                          string
	}{
		{name: "gb18030 detected", file: gb, header: "户主姓名"},
		{name: "gb18030 named", file: gb, encoding: "gbk", header: "户主姓名"},
		{name: "gb18030 read as utf-8", file: gb, encoding: "utf-8", withError: "not valid UTF-8"},
		{name: "utf-8 with BOM", file: filepath.Join(ledgerDir, "poverty-搬迁户台账.csv"), header: "户主姓名"},
		{name: "unknown encoding", file: gb, encoding: "big5", withError: "is not auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ledger.Open(tt.file, ledger.OpenOptions{Encoding: tt.encoding})
			if tt.withError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.withError) {
					t.Fatalf("Open = %v, want an error with %q", err, tt.withError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			row, cells, err := src.Next()
			if err != nil || row != 1 || len(cells) < 2 || cells[0] != "序号" || cells[1] != tt.header {
				t.Errorf("first row %d %q %v", row, cells, err)
			}
		})
	}
	if _, err := ledger.Open(filepath.Join(ledgerDir, "hrss-就业台账.xlsx"), ledger.OpenOptions{Sheet: "没有"}); err == nil || !strings.Contains(err.Error(), "no sheet") {
		t.Errorf("Open with a missing sheet = %v", err)
	}
	if _, err := ledger.Open("ledger.ods", ledger.OpenOptions{}); err == nil {
		t.Error("Open(.ods): no error")
	}
}

// TestUnclosedQuoteIsNamed: a CSV cell opened with a quote and never closed
// is an error naming its line, not the rest of the file read into one cell.
func TestUnclosedQuoteIsNamed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "quote.csv")
	body := "序号,户主姓名,户编号\n1,\"张三,H610424-000124\n2,李四,H610424-000125\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := ledger.Open(file, ledger.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, _, err := src.Next(); err != nil {
		t.Fatal(err)
	}
	row, cells, err := src.Next()
	var pe *csv.ParseError
	if !errors.As(err, &pe) || row != 2 || !strings.Contains(err.Error(), `"`) {
		t.Errorf("second row: %d %q %v; want a CSV error on line 2 about the quote", row, cells, err)
	}
}
