package ledger_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/publishers/ledger"
	"github.com/xianyang/anzhi/schemas"
)

// testKey is the deployment key of the tests (hex of 32 bytes).
const testKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// startHub starts a hub on a random port that keeps the intake (no purge
// during the test), and a client connection.
func startHub(t *testing.T) (*hub.Hub, *nats.Conn) {
	t.Helper()
	h, nc, _ := hubtest.Start(t, hub.Config{PurgeEvery: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return h, nc
}

func waitIdle(t *testing.T, h *hub.Hub) hub.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := h.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func key(t *testing.T) []byte {
	t.Helper()
	k, err := ledger.ParseKey([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// importFile imports one example ledger with its built-in mapping.
func importFile(t *testing.T, nc *nats.Conn, dept, family, file string) (ledger.Summary, []ledger.RowError) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	cat := schemas.MustLoad()
	m, err := ledger.Builtin(family, cat)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publishers.New(nc, dept)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ledger.Open(filepath.Join(ledgerDir, file), ledger.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var logs bytes.Buffer
	sum, errs, err := ledger.Import(ctx, pub, src, m, ledger.Options{Key: key(t), Catalog: cat,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Import %s: %v", file, err)
	}
	if ids := idNumbersIn(logs.Bytes()); len(ids) > 0 {
		t.Errorf("the log holds raw ID numbers %v", ids)
	}
	return sum, errs
}

// idNumbersIn returns the raw ID numbers found in b.
func idNumbersIn(b []byte) []string {
	var out []string
	for _, m := range idcard.Find(b) {
		out = append(out, string(b[m.Start:m.End]))
	}
	return out
}

// ledgerIDs returns every string of the ledger that looks like an ID
// number (18 characters, 17 digits), valid or not.
func ledgerIDs(t *testing.T, file string) []string {
	t.Helper()
	re := regexp.MustCompile(`[1-8]\d{16}[\dXx]`)
	var out []string
	for _, row := range readAll(t, filepath.Join(ledgerDir, file)) {
		for _, cell := range row {
			out = append(out, re.FindAllString(cell, -1)...)
		}
	}
	return out
}

// scanStreams reads every message of the intake and the log and fails if
// one holds a raw ID number or one of the given strings.
func scanStreams(t *testing.T, nc *nats.Conn, secrets []string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, stream := range []string{fact.IntakeStream, fact.LogStream} {
		cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		// Read until the consumer has nothing pending: the server's count,
		// not a client timer, says when the scan is done.
		for pending := s.CachedInfo().State.Msgs; pending > 0; {
			m, err := cons.Next(jetstream.FetchMaxWait(hubtest.Patience))
			if err != nil {
				t.Fatalf("read %s: %v", stream, err)
			}
			n++
			md, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			pending = md.NumPending
			var all bytes.Buffer
			all.WriteString(m.Subject())
			for k, vs := range m.Headers() {
				all.WriteString(k + strings.Join(vs, ","))
			}
			all.Write(m.Data())
			if ids := idNumbersIn(all.Bytes()); len(ids) > 0 {
				t.Errorf("%s holds raw ID numbers %v", stream, ids)
			}
			for _, s := range secrets {
				if bytes.Contains(all.Bytes(), []byte(s)) || bytes.Contains(all.Bytes(), []byte(strings.ToUpper(s))) {
					t.Errorf("%s holds the ledger's number %s", stream, idcard.Mask(s))
				}
			}
		}
	}
	return n
}

func TestImportExampleLedgers(t *testing.T) {
	tests := []struct {
		dept, family, file string
		want               ledger.Summary
		report             []string
	}{
		{dept: "hrss", family: "hr.employment", file: "hrss-就业台账.xlsx",
			want: ledger.Summary{Rows: 26, Published: 17, Duplicates: 1, Invalid: 8},
			report: []string{
				"row 22: 身份证号: ID-card number 610424********9130: the check digit does not match (GB 11643)",
				"row 23: 户编号: required cell is empty",
				`row 24: 开始日期: "2026-13-01" is not a valid date`,
				`row 25: 就业形式: "打零工" is not one of 公益岗位、公益性岗位、外出务工、就地就近就业、扶贫车间、政府投资项目、本地务工、社区工厂、自主创业、转移就业`,
				"row 26: 就业形式: required field is missing [schema]",
				"row 27: 开始日期: start_on (2026-06-01) must not be greater than end_on (2026-03-01) [schema]",
				"row 28: 身份证号: ID-card number 610424********1750: the check digit does not match (GB 11643)",
				`row 28: 开始日期: "2026年2月30日" is not a valid date`,
				"row 29: 备注: holds an ID-card number (户主身份证610424********139X待核实); ID numbers are never published",
			}},
		{dept: "hrss", family: "hr.training", file: "hrss-培训台账.xlsx",
			want: ledger.Summary{Rows: 13, Published: 9, Invalid: 4},
			report: []string{
				"row 12: 结业日期: required cell is empty",
				`row 13: 是否合格: "良好" is not 是 or 否`,
				`row 14: 培训类别: "技能提升" is not one of 以工代训、创业培训、实用技术培训、技能培训、职业技能培训、订单培训、订单式培训`,
				`row 15: 培训补贴(元): "1200.555" has more than two decimals`,
			}},
		{dept: "medins", family: "health.coverage", file: "medins-参保台账.xlsx",
			want: ledger.Summary{Rows: 64, Published: 60, Invalid: 4},
			report: []string{
				"row 61: 参保日期: required field is missing [schema]",
				"row 63: 身份证号: ID-card number 610424********4650: the check digit does not match (GB 11643)",
				`row 64: 参保年度: "二〇二七" is not a year or a date`,
				`row 65: 险种: "商业保险" is not one of 城乡居民医保、城乡居民基本医疗保险、基本医疗保险、大病保险`,
			}},
		{dept: "resources", family: "resources.deeds", file: "resources-不动产登记台账.xlsx",
			want: ledger.Summary{Rows: 14, Published: 10, Invalid: 4},
			report: []string{
				"row 13: 不动产权证号: required field is missing [schema]",
				"row 14: 安置点编号: 'S61042-03' does not match pattern '^S[1-8][0-9]{5}-[0-9]{4,5}$' [schema]",
				"row 15: 户编号: required cell is empty",
				"row 16: 登记日期: required field is missing [schema]",
			}},
		{dept: "poverty", family: "registry.person", file: "poverty-搬迁人口台账.xlsx",
			want: ledger.Summary{Rows: 35, Published: 31, Invalid: 4},
			report: []string{
				`row 33: 性别: "未知" is not one of 女、男`,
				"row 34: 身份证号: ID-card number 610424********6570: the check digit does not match (GB 11643)",
				"row 35: 登记日期: required cell is empty",
				"row 36: 身份证号: ID-card number ********: an ID-card number has 18 characters",
			}},
		{dept: "poverty", family: "registry.household", file: "poverty-搬迁户台账.csv",
			want: ledger.Summary{Rows: 13, Published: 10, Invalid: 3},
			report: []string{
				"row 12: 劳动力人数: labour_count (3) must not be greater than size (2) [schema]",
				`row 13: 是否建档立卡: "也许" is not 是 or 否`,
				"row 14: 家庭人口: required cell is empty",
			}},
		{dept: "edu", family: "edu.enrolment", file: "edu-学生入学台账.csv",
			want: ledger.Summary{Rows: 16, Published: 11, Invalid: 5},
			report: []string{
				"row 14: 年级: maximum: got 12, want 9 [schema]",
				`row 15: 学段: "大学" is not one of 中职、初中、学前、小学、幼儿园、高中`,
				`row 16: 变动日期: "2026.13.5" is not a valid date`,
				"row 17: 学校代码: required cell is empty",
				"row 18: 身份证号: ID-card number 610424********7791: the check digit does not match (GB 11643)",
			}},
		{dept: "civil", family: "civil.assistance", file: "civil-低保台账.csv",
			want: ledger.Summary{Rows: 9, Published: 5, Invalid: 4},
			report: []string{
				"row 7: 月保障金额(元): required field is missing [schema]",
				"row 7: 保障人数: required field is missing [schema]",
				`row 8: 月保障金额(元): "560.345" has more than two decimals`,
				"row 9: 户编号: 'H610424-12' does not match pattern '^H[1-8][0-9]{5}-[0-9]{6,7}$' [schema]",
				`row 10: 救助类别: "五保" is not one of 临时救助、低保、农村低保、城市低保、特困人员、特困供养`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, nc := startHub(t)
			sum, errs := importFile(t, nc, tt.dept, tt.family, tt.file)
			tt.want.File, tt.want.Family, tt.want.Department = filepath.Join(ledgerDir, tt.file), tt.family, tt.dept
			if strings.HasSuffix(tt.file, ".xlsx") {
				tt.want.File += " [" + strings.TrimSuffix(strings.SplitN(tt.file, "-", 2)[1], ".xlsx") + "]"
			}
			if sum != tt.want {
				t.Errorf("summary\n got %+v\nwant %+v", sum, tt.want)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.String())
			}
			if g, w := strings.Join(got, "\n"), strings.Join(tt.report, "\n"); g != w {
				t.Errorf("report\n got:\n%s\nwant:\n%s", g, w)
			}
			first := waitIdle(t, h)
			if facts, rejected := hubtest.LogCounts(t, nc); facts != tt.want.Published || rejected != 0 {
				t.Errorf("log holds %d facts and %d rejections, want %d and 0", facts, rejected, tt.want.Published)
			}

			// Importing the same ledger again publishes nothing new.
			again, _ := importFile(t, nc, tt.dept, tt.family, tt.file)
			if again.Published != 0 || again.Duplicates != tt.want.Published+tt.want.Duplicates {
				t.Errorf("re-import: %v, want published=0 duplicates=%d", again, tt.want.Published+tt.want.Duplicates)
			}
			if second := waitIdle(t, h); second.LogLast != first.LogLast {
				t.Errorf("re-import: log went from %d to %d entries", first.LogLast, second.LogLast)
			}
			if facts, _ := hubtest.LogCounts(t, nc); facts != tt.want.Published {
				t.Errorf("re-import: log holds %d facts, want %d", facts, tt.want.Published)
			}
			if n := scanStreams(t, nc, ledgerIDs(t, tt.file)); n < tt.want.Published {
				t.Errorf("scanned %d messages, want at least %d", n, tt.want.Published)
			}
		})
	}
}

// TestReimportAfterDuplicateWindow: once JetStream has forgotten the ids,
// the hub still recognises every fact and the log does not grow.
func TestReimportAfterDuplicateWindow(t *testing.T) {
	h, nc, _ := hubtest.Start(t, hub.Config{DuplicateWindow: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	first, _ := importFile(t, nc, "edu", "edu.enrolment", "edu-学生入学台账.csv")
	before := waitIdle(t, h)
	time.Sleep(300 * time.Millisecond)
	again, _ := importFile(t, nc, "edu", "edu.enrolment", "edu-学生入学台账.csv")
	after := waitIdle(t, h)
	if again.Published+again.Duplicates != first.Published {
		t.Errorf("re-import sent %v, want %d facts", again, first.Published)
	}
	if after.LogLast != before.LogLast {
		t.Errorf("log went from %d to %d entries after the duplicate window", before.LogLast, after.LogLast)
	}
	if facts, _ := hubtest.LogCounts(t, nc); facts != first.Published {
		t.Errorf("log holds %d facts, want %d", facts, first.Published)
	}
	if after.IntakeLast <= before.IntakeLast {
		t.Errorf("intake did not receive the re-import (%d → %d): the window did not expire", before.IntakeLast, after.IntakeLast)
	}
}
