package fact_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/fact"
)

// contractMarks match the pieces of a contract name in a string literal:
// stream and bucket names, the anzhi. subjects and types, the hub's
// Anzhi-* headers, sources, the view's subjects and JetStream's subjects of
// the view bucket and the snapshot store.
var contractMarks = regexp.MustCompile(`ANZHI_[A-Z_]+|(^|[^\w-])anzhi\.[a-z]*|Anzhi-|/xianyang/|view\.(city|county|>)|\$KV\.|\$O\.`)

// notContract are literals holding a mark that are not wire-contract
// names, each with why, by file (relative to the module root).
var notContract = map[string]map[string]string{
	// The catalog sits below package fact and frames every family's type
	// and dataschema and every publisher's source at load; fact/contract.go
	// names these three declarations.
	"schemas/schemas.go": {
		"https://anzhi.xianyang.gov.cn/schemas/v1/": "schemas.BaseURI, named by fact.DataSchemaBase",
		"anzhi.":     "schemas.TypePrefix, named by fact.TypePrefix",
		"/xianyang/": "schemas.SourcePrefix, named by fact.SourcePrefix",
	},
	"hub/lock_unix.go": {"anzhi.lock": "the data directory's lock file"},
}

// environment are the environment variables of the command and the
// library: ANZHI_ names that are configuration, not the wire.
var environment = map[string]bool{"ANZHI_NATS_URL": true, "ANZHI_PERSON_KEY": true, "ANZHI_API_URL": true, "ANZHI_BENCH_NO_MATERIALIZE": true,
	"ANZHI_CREDS": true, "ANZHI_TLS_CA": true, "ANZHI_TOKEN": true, "ANZHI_TLS_CLIENT_CERT": true, "ANZHI_TLS_CLIENT_KEY": true,
	// internal/browser: set by .ci/run, so that a browser test with no
	// Chromium installed fails instead of skipping.
	"ANZHI_BROWSER_REQUIRED": true}

// TestContractNamesInOneFile: no string literal of non-test code outside
// fact/contract.go spells out a name of the wire contract (a stream, a
// subject, a header, a bucket, a source); everyone uses the names declared
// there, so that the contract is read, and changed, in one place.
func TestContractNamesInOneFile(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || rel == "fact/contract.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		scanned++
		imports := map[*ast.BasicLit]bool{}
		for _, is := range f.Imports {
			imports[is.Path] = true
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || imports[lit] {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if _, ok := notContract[rel][s]; ok {
				return true
			}
			for _, m := range contractMarks.FindAllString(s, -1) {
				if m = strings.TrimLeft(m, " \t\n\"'`(["); environment[m] {
					continue
				}
				t.Errorf("%s: the literal %q spells out %q of the wire contract: use the name fact/contract.go declares for it",
					fset.Position(lit.Pos()), s, m)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files from %s: is the module root there?", scanned, root)
	}
}

// TestContractNames pins the values outside clients rely on.
func TestContractNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fact.IntakeStream, "ANZHI_INTAKE"},
		{fact.LogStream, "ANZHI_LOG"},
		{fact.SenderIntakeStream("county-610424") + " " + fact.SenderIntakeSubject("county-610424"), "ANZHI_INTAKE_county-610424 anzhi.in.county-610424.>"},
		{fact.HeaderIntakeStream + " " + fact.HeaderIntakePositions + " " + fact.HeaderSender, "Anzhi-Intake-Stream Anzhi-Intake-Positions Anzhi-Sender"},
		{fact.ViewBucket, "ANZHI_VIEW"},
		{fact.SnapshotBucket, "ANZHI_SNAPSHOTS"},
		{fact.SubjectFor("edu.enrolment", "610424"), "edu.enrolment.610424"},
		{fact.FactSubject("edu.enrolment", "610424"), "anzhi.fact.edu.enrolment.610424"},
		{fact.RejectedSubject("county/610424"), "anzhi.rejected.county.610424"},
		{fact.RejectedSubject(""), "anzhi.rejected.unknown"},
		{fact.TypeFor("edu.enrolment"), "anzhi.edu.enrolment.v1"},
		{fact.SourceFor("county/610424"), "/xianyang/county/610424"},
		{fact.DeptOf("/xianyang/county/610424"), "county/610424"},
		{fact.DataSchemaBase + "edu.enrolment.json", "https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json"},
		{fact.HeaderIntakeSeq + " " + fact.HeaderReceived + " " + fact.HeaderKey, "Anzhi-Intake-Seq Anzhi-Received Anzhi-Key"},
		{fact.CityKey + " " + fact.CountyKey("610424") + " " + fact.SiteKey("S610424-0001") + " " + fact.HouseholdKey("H610424-000001"),
			"city county.610424 site.S610424-0001 household.H610424-000001"},
		{fact.DigestKey + " " + fact.MaterializedKey, "digest materialized"},
		{fact.CitySubject + " " + fact.CountySubject("610424"), "view.city view.county.610424"},
		{strings.Join(fact.HubOnlySubjects(), " "), "anzhi.fact.> anzhi.rejected.> anzhi.audit.> view.> $KV.ANZHI_VIEW.> $O.ANZHI_SNAPSHOTS.> anzhi.notice.> anzhi.delivery.> $KV.ANZHI_NOTICE_STATE.>"},
		{fact.NoticeStream + " " + fact.NoticeSubject("hrss") + " " + fact.NoticeSubject("county/610424") + " " + fact.NoticeType,
			"ANZHI_NOTICES anzhi.notice.hrss anzhi.notice.county.610424 anzhi.notice.v1"},
		{fact.NoticeConsumer("county/610424") + " " + fact.WebhookConsumer("hrss") + " " + fact.NoticeAPIPrefix, "notices-county-610424 webhook-hrss JS.notices.API"},
		{fact.DeliveryStream + " " + fact.DeliverySubject("county/610424") + " " + fact.NoticeStateBucket,
			"ANZHI_DELIVERIES anzhi.delivery.county.610424 ANZHI_NOTICE_STATE"},
		{fact.HeaderWebhookSignature + " " + fact.HeaderWebhookTimestamp, "X-Anzhi-Signature X-Anzhi-Timestamp"},
		{fact.AuditStream + " " + fact.AuditCheckpointSubject + " " + fact.HeaderAuditRange, "ANZHI_AUDIT anzhi.audit.checkpoint Anzhi-Audit-Range"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
