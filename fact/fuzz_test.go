package fact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/schemas"
)

// The fuzz input is (NATS subject, header block, body, binary). The header
// block has one "Name: value" per line (a line without a colon is a name with
// an empty value; a repeated name adds a value), so the fuzzer can grow,
// drop, repeat and re-case headers. When binary is set and no header is
// named ce-specversion (in any case), "ce-specversion: 1.0" is added, which
// makes the message a binary-mode event; otherwise the headers are used as
// they are (structured mode unless they say otherwise).

const (
	fzID         = "11010519491231002X"
	fzIDMasked   = "110105********002X"
	fzPersonKey  = "d5e3e0747a8fa38981c49ec12c252ed0bff420e203115b7e1fae871f43feed34"
	fzCorpusEnv  = "ANZHI_WRITE_FUZZ_CORPUS"
	fzCorpusPath = "testdata/fuzz/FuzzCheck"
)

// fzEscaped is fzID with every character JSON-escaped (\u0031\u0031…).
var fzEscaped = func() string {
	var b strings.Builder
	for _, c := range fzID {
		fmt.Fprintf(&b, `\u%04x`, c)
	}
	return b.String()
}()

func fzMessage(subject, headers string, body []byte, binary bool) fact.Message {
	h := map[string][]string{}
	hasSpec := false
	for _, line := range strings.Split(headers, "\n") {
		if line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		h[k] = append(h[k], v)
		if strings.EqualFold(k, "ce-specversion") {
			hasSpec = true
		}
	}
	if binary && !hasSpec {
		h["ce-specversion"] = []string{fact.SpecVersion}
	}
	if len(h) == 0 {
		h = nil
	}
	return fact.Message{Subject: subject, Header: h, Data: body}
}

func fzCloneMessage(m fact.Message) fact.Message {
	c := fact.Message{Subject: m.Subject, Data: bytes.Clone(m.Data)}
	if m.Header != nil {
		c.Header = make(map[string][]string, len(m.Header))
		for k, vs := range m.Header {
			c.Header[k] = slices.Clone(vs)
		}
	}
	return c
}

var fzReasons = []schemas.Reason{
	schemas.ReasonMalformed, schemas.ReasonAttribute, schemas.ReasonUnknownType, schemas.ReasonSubject,
	schemas.ReasonCounty, schemas.ReasonSource, schemas.ReasonNotAllowed, schemas.ReasonSchema,
	schemas.ReasonIDNumber, schemas.ReasonTooLarge, schemas.ReasonConflict,
}

// fzIDsInMessage returns the ID-card numbers anywhere in a message: subject,
// header names and values, body (raw and JSON-decoded).
func fzIDsInMessage(m fact.Message) []string {
	out := hubtest.IDNumbersIn([]byte(m.Subject), 0)
	for k, vs := range m.Header {
		out = append(out, hubtest.IDNumbersIn([]byte(k), 0)...)
		for _, v := range vs {
			out = append(out, hubtest.IDNumbersIn([]byte(v), 0)...)
		}
	}
	return append(out, hubtest.IDNumbersIn(m.Data, 1)...)
}

func fzCheck(t *testing.T, cat *schemas.Catalog, v *fact.Validator, m fact.Message) {
	orig := fzCloneMessage(m)
	vd := v.Check(m)
	if vd == nil {
		t.Fatal("Check returned nil")
	}
	if !reflect.DeepEqual(m, orig) {
		t.Fatalf("Check modified the message")
	}
	// Deterministic: several runs (map iteration order differs between
	// them) give the same verdict, violations in the same order.
	for range 8 {
		again := v.Check(fzCloneMessage(m))
		if !reflect.DeepEqual(again.Violations, vd.Violations) {
			t.Fatalf("Check is not deterministic:\nfirst: %v\nagain: %v", vd.Violations, again.Violations)
		}
		if again.IDNumbers != vd.IDNumbers || again.Family != vd.Family || again.Publisher != vd.Publisher ||
			again.Area != vd.Area || !reflect.DeepEqual(again.Event, vd.Event) {
			t.Fatalf("Check is not deterministic:\nfirst: %+v\nagain: %+v", vd, again)
		}
	}
	for _, x := range vd.Violations {
		if x.Reason == "" || x.Message == "" {
			t.Fatalf("violation without reason or message: %+v", x)
		}
		if !slices.Contains(fzReasons, x.Reason) {
			t.Fatalf("violation with an undocumented reason: %+v", x)
		}
	}
	if vd.OK() {
		if vd.Family == nil {
			t.Fatalf("accepted without a family: %+v", vd)
		}
		if vd.Publisher.Dept == "" {
			t.Fatalf("accepted without a publisher: %+v", vd)
		}
		if !cat.ValidArea(vd.Area) {
			t.Fatalf("accepted on an invalid area %q", vd.Area)
		}
		if vd.IDNumbers != 0 {
			t.Fatalf("accepted with %d ID-card numbers", vd.IDNumbers)
		}
		if vd.Event.Mode != fact.Structured && vd.Event.Mode != fact.Binary {
			t.Fatalf("accepted in mode %v", vd.Event.Mode)
		}
		if n := m.Size(); n > v.MaxBytes() {
			t.Fatalf("accepted a message of %d bytes, limit %d", n, v.MaxBytes())
		}
		// Subscribers decode the log with sdk-go: an accepted structured
		// fact must decode there to the same attributes.
		if vd.Event.Mode == fact.Structured {
			var e event.Event
			if err := e.UnmarshalJSON(m.Data); err != nil {
				t.Fatalf("accepted fact does not decode with sdk-go: %v", err)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted fact is not a valid sdk-go event: %v", err)
			}
			if e.ID() != vd.Event.ID || e.Source() != vd.Event.Source || e.Type() != vd.Event.Type ||
				e.Subject() != vd.Event.Subject || !e.Time().Equal(vd.Event.Time) {
				t.Fatalf("sdk-go reads the accepted fact as %s, the hub as %+v", e, vd.Event)
			}
			for name, val := range vd.Event.Extensions {
				got, err := types.Format(e.Extensions()[name])
				if err != nil || got != val {
					t.Fatalf("sdk-go reads extension %s as %v (%v), the hub as %q", name, e.Extensions()[name], err, val)
				}
			}
		}
	}
	// Every ID-card number anywhere in the message is noticed.
	if ids := fzIDsInMessage(m); len(ids) > 0 && vd.IDNumbers == 0 {
		t.Fatalf("message holds ID-card number(s) %q but the verdict counts none (violations %v)", ids, vd.Violations)
	}
	if vd.IDNumbers > 0 && !slices.ContainsFunc(vd.Violations, func(x schemas.Violation) bool { return x.Reason == schemas.ReasonIDNumber }) {
		t.Fatalf("%d ID-card numbers counted but no %s violation: %v", vd.IDNumbers, schemas.ReasonIDNumber, vd.Violations)
	}
	r := fact.NewRejection(m, vd, 42, time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("rejection does not encode: %v", err)
	}
	for range 8 {
		again, _ := json.Marshal(fact.NewRejection(fzCloneMessage(m), vd, 42, time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC)))
		if !bytes.Equal(again, b) {
			t.Fatalf("NewRejection is not deterministic:\nfirst: %s\nagain: %s", b, again)
		}
	}
	if vd.IDNumbers > 0 {
		if !r.Redacted || r.SHA256 != "" {
			t.Fatalf("rejection of a message with ID-card numbers: redacted=%v sha256=%q", r.Redacted, r.SHA256)
		}
		if ids := hubtest.IDNumbersIn(b, 3); len(ids) > 0 {
			t.Fatalf("rejection keeps ID-card number(s) %q: %s", ids, b)
		}
	}
}

func FuzzCheck(f *testing.F) {
	cat := schemas.MustLoad()
	v := fact.NewValidator(cat, 0)
	for _, s := range fzInlineSeeds() {
		f.Add(s.subject, s.headers, s.body, s.binary)
	}
	f.Fuzz(func(t *testing.T, subject, headers string, body []byte, binary bool) {
		fzCheck(t, cat, v, fzMessage(subject, headers, body, binary))
	})
}

type fzSeed struct {
	name    string
	subject string
	headers string
	body    []byte
	binary  bool
	want    string // "accepted", "rejected", or "" when not asserted
}

func fzInlineSeeds() []fzSeed {
	ev := `{"specversion":"1.0","id":"edu-1","source":"/xianyang/edu","type":"anzhi.edu.enrolment.v1","subject":"` + fzPersonKey +
		`","time":"2020-09-01T08:00:00+08:00","data":{"person_key":"` + fzPersonKey +
		`","household_id":"H610424-000123","action":"enrolled","school_id":"QX-CGXX","level":"primary","effective_on":"2020-09-01"}}`
	return []fzSeed{
		{name: "inline-valid", subject: "edu.enrolment.610424", body: []byte(ev), want: "accepted"},
		{name: "inline-id", subject: "edu.enrolment.610424", headers: "X-Operator: " + fzID, body: []byte(strings.Replace(ev, `"level"`, `"note":"`+fzID+`","level"`, 1))},
		{name: "inline-too-large", subject: "edu.enrolment.610424", headers: "Content-Type: application/cloudevents+json",
			body: []byte(strings.Replace(ev, `"level"`, `"note":"`+strings.Repeat("很", 23000)+`","level"`, 1))},
		{name: "inline-empty", binary: true},
	}
}

// fzFixture reads a data fixture of schemas/testdata/valid.
func fzFixture(t testing.TB, family, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "schemas", "testdata", "valid", family, file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type fzEvent struct {
	family, file, source, area, subject string
	// edit changes the structured event (attributes and data) before encoding.
	edit func(ev map[string]any)
}

func (e fzEvent) attrs(t testing.TB) map[string]any {
	data := fzFixture(t, e.family, e.file)
	f, ok := schemas.MustLoad().Family(e.family)
	if !ok {
		t.Fatalf("no family %s", e.family)
	}
	ev := map[string]any{
		"specversion":     "1.0",
		"id":              e.family + "-" + strings.TrimSuffix(e.file, ".json"),
		"source":          e.source,
		"type":            f.Type,
		"subject":         data[f.SubjectField],
		"time":            "2020-09-01T08:00:00+08:00",
		"datacontenttype": "application/json",
		"dataschema":      f.SchemaURI,
		"data":            data,
	}
	if e.edit != nil {
		e.edit(ev)
	}
	return ev
}

func (e fzEvent) natsSubject() string { return e.family + "." + e.area }

func (e fzEvent) structured(t testing.TB, name string, want string) fzSeed {
	b, err := json.Marshal(e.attrs(t))
	if err != nil {
		t.Fatal(err)
	}
	return fzSeed{name: name, subject: e.natsSubject(), headers: "Content-Type: application/cloudevents+json", body: b, want: want}
}

// binary encodes the event in binary mode; ctHeader names the header of the
// data content type (ce-datacontenttype as sdk-go writes it, content-type as
// its receiver reads it); upper capitalises the ce- names (Ce-Id).
func (e fzEvent) binary(t testing.TB, name, ctHeader string, upper bool, want string) fzSeed {
	ev := e.attrs(t)
	data, err := json.Marshal(ev["data"])
	if err != nil {
		t.Fatal(err)
	}
	var h []string
	for _, k := range slices.Sorted(maps.Keys(ev)) {
		if k == "data" {
			continue
		}
		name := "ce-" + k
		if k == "datacontenttype" {
			name = ctHeader
		}
		if upper {
			parts := strings.Split(name, "-")
			for i, p := range parts {
				parts[i] = strings.ToUpper(p[:1]) + p[1:]
			}
			name = strings.Join(parts, "-")
		}
		h = append(h, fmt.Sprintf("%s: %v", name, ev[k]))
	}
	return fzSeed{name: name, subject: e.natsSubject(), headers: strings.Join(h, "\n"), body: data, want: want}
}

func fzCorpusSeeds(t testing.TB) []fzSeed {
	enrol := fzEvent{family: "edu.enrolment", file: "enrolled_primary.json", source: "/xianyang/edu", area: "610424"}
	withEdit := func(e fzEvent, edit func(map[string]any)) fzEvent { e.edit = edit; return e }
	dataEdit := func(k string, v any) func(map[string]any) {
		return func(ev map[string]any) { ev["data"].(map[string]any)[k] = v }
	}
	raw := func(name, subject, headers, body string, binary bool) fzSeed {
		return fzSeed{name: name, subject: subject, headers: headers, body: []byte(body), binary: binary, want: "rejected"}
	}
	wanting := func(want string, s fzSeed) fzSeed { s.want = want; return s }
	validEnrol, err := json.Marshal(enrol.attrs(t))
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string { return strings.Replace(string(validEnrol), old, new, 1) }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	const ct = "Content-Type: application/cloudevents+json"

	seeds := []fzSeed{
		// Valid facts of several families, structured mode.
		enrol.structured(t, "valid-edu-enrolment", "accepted"),
		fzEvent{family: "edu.enrolment", file: "transferred_junior.json", source: "/xianyang/edu", area: "610426"}.structured(t, "valid-edu-enrolment-transfer", "accepted"),
		fzEvent{family: "registry.household", file: "poor_household_four.json", source: "/xianyang/poverty", area: "610424"}.structured(t, "valid-registry-household", "accepted"),
		fzEvent{family: "registry.site", file: "centralized_urban.json", source: "/xianyang/county/610424", area: "610424"}.structured(t, "valid-registry-site-county", "accepted"),
		fzEvent{family: "hr.employment", file: "outbound_organized.json", source: "/xianyang/hrss", area: "610431"}.structured(t, "valid-hr-employment", "accepted"),
		fzEvent{family: "finance.funds", file: "allocated_to_site.json", source: "/xianyang/finance", area: "610424"}.structured(t, "valid-finance-funds", "accepted"),
		fzEvent{family: "infra.water", file: "building.json", source: "/xianyang/water", area: "610429"}.structured(t, "valid-infra-water", "accepted"),
		fzEvent{family: "task.progress", file: "done.json", source: "/xianyang/police", area: "610400"}.structured(t, "valid-task-progress", "accepted"),
		fzEvent{family: "health.coverage", file: "basic_enrolled_subsidized.json", source: "/xianyang/medins", area: "610424"}.structured(t, "valid-health-coverage", "accepted"),
		wanting("accepted", raw("valid-structured-no-content-type", enrol.natsSubject(), "", string(validEnrol), false)),

		// Binary mode: sdk-go's sender (ce-datacontenttype), its receiver's
		// convention (content-type), capitalised names.
		enrol.binary(t, "binary-ce-datacontenttype", "ce-datacontenttype", false, "accepted"),
		enrol.binary(t, "binary-content-type-mixed-case", "content-type", true, "accepted"),
		fzEvent{family: "civil.assistance", file: "dibao_granted.json", source: "/xianyang/civil", area: "610424"}.binary(t, "binary-civil-assistance", "Content-Type", false, "accepted"),
		raw("binary-not-json", enrol.natsSubject(), "ce-id: x\nce-source: /xianyang/edu\nce-type: anzhi.edu.enrolment.v1", "not json", true),
		raw("binary-empty-body", enrol.natsSubject(), "ce-id: x\nce-source: /xianyang/edu\nce-type: anzhi.edu.enrolment.v1\nce-data: {}", "", true),

		// Malformed and non-object JSON.
		raw("malformed-json", enrol.natsSubject(), ct, string(validEnrol[:len(validEnrol)/2]), false),
		raw("trailing-data", enrol.natsSubject(), ct, string(validEnrol)+" {}", false),
		raw("non-object-array", enrol.natsSubject(), ct, `[{"specversion":"1.0"}]`, false),
		raw("non-object-string", enrol.natsSubject(), "", `"1.0"`, false),
		raw("non-object-null", enrol.natsSubject(), "Content-Type: text/plain", `null`, false),
		raw("data-base64", enrol.natsSubject(), ct, replace(`"data":{`, `"data_base64":"e30=","x":{`), false),
		// Huge numbers, deep nesting, invalid UTF-8.
		raw("huge-numbers", enrol.natsSubject(), ct, replace(`"grade":3`, `"grade":1e400,"big":`+strings.Repeat("9", 400)), false),
		// CloudEvents integers are 32-bit; sdk-go reads -1e999999 as 0 and
		// fails on 12345678901234 ("cannot convert … to int32").
		raw("huge-number-extension", enrol.natsSubject(), ct, replace(`"id":`, `"seqno":-1e999999,"id":`), false),
		raw("float-extension", enrol.natsSubject(), ct, replace(`"id":`, `"seqno":1.5,"id":`), false),
		raw("int64-extension", enrol.natsSubject(), ct, replace(`"id":`, `"seqno":12345678901234,"id":`), false),
		wanting("accepted", raw("int32-extension", enrol.natsSubject(), ct, replace(`"id":`, `"seqno":-2147483648,"flag":true,"id":`), false)),
		raw("deep-nesting-data", enrol.natsSubject(), ct, replace(`"near_home":true`, `"near_home":`+deep(3000)), false),
		raw("deep-nesting-over-limit", enrol.natsSubject(), ct, replace(`"near_home":true`, `"near_home":`+deep(10001)), false),
		// Accepted today: encoding/json replaces invalid bytes with U+FFFD, and
		// sdk-go passes them through (see the report: strict JSON readers fail).
		wanting("", raw("invalid-utf8", enrol.natsSubject(), ct, replace(`乾县城关小学`, "\xff\xfe\xc3"), false)),
		raw("invalid-utf8-id", enrol.natsSubject(), "ce-id: \xff\xfe\nce-source: /xianyang/edu", "{\"id\":\"\xff\"}", true),

		// ID-card numbers: data, header, extension attribute, escaped.
		withEdit(enrol, dataEdit("school_name", fzID)).structured(t, "id-in-data", "rejected"),
		withEdit(enrol, dataEdit("note", "身份证"+fzID)).structured(t, "id-in-data-note", "rejected"),
		raw("id-in-header", enrol.natsSubject(), ct+"\nX-Operator: "+fzID, string(validEnrol), false),
		withEdit(enrol, func(ev map[string]any) { ev["holder"] = fzID }).structured(t, "id-in-extension", "rejected"),
		withEdit(enrol, func(ev map[string]any) { ev["holder"] = fzID }).binary(t, "id-in-ce-header", "ce-datacontenttype", false, "rejected"),
		raw("id-escaped", enrol.natsSubject(), ct, replace(`"level"`, `"note":"`+fzEscaped+`","level"`), false),
		raw("id-escaped-key", enrol.natsSubject(), ct, replace(`"level"`, `"`+fzEscaped+`":1,"level"`), false),
		raw("id-escaped-non-object", enrol.natsSubject(), ct, `["`+fzEscaped+`"]`, false),
		raw("id-escaped-and-clear-header", enrol.natsSubject(), ct+"\nX-Operator: "+fzID, replace(`"level"`, `"note":"`+fzEscaped+`","level"`), false),
		// A number right after a JSON escape ending in a letter or hex
		// digit (\n, or \u53f7 as Python's json.dumps writes 号).
		raw("id-after-escaped-newline", enrol.natsSubject(), ct, replace(`"level"`, `"note":"核实\n`+fzID+`","level"`), false),
		raw("id-after-escaped-cjk", enrol.natsSubject(), ct, replace(`"level"`, `"note":"\u8eab\u4efd\u8bc1\u53f7`+fzID+`","level"`), false),
		raw("id-after-escaped-hyphen", enrol.natsSubject(), ct, replace(`"level"`, `"note":"ID\u002D`+fzID+`","level"`), false),
		raw("id-in-header-name", enrol.natsSubject(), ct+"\nX-"+fzID+": yes", string(validEnrol), false),
		raw("id-in-ce-header-name", enrol.natsSubject(), "ce-"+strings.ToLower(fzID)+": 1", string(validEnrol), false),
		// Two header names that are the same once masked.
		raw("id-header-names-collide", enrol.natsSubject(), ct+"\nX-"+fzID+": a\nX-"+fzIDMasked+": b\nX-"+fzID[:17]+"x: c", string(validEnrol), false),
		raw("id-in-nats-subject", "edu.enrolment."+fzID, ct, string(validEnrol), false),
		raw("id-as-json-number", enrol.natsSubject(), ct, replace(`"grade":3`, `"grade":610424198503151234`), false),

		// Wrong attribute types, bad values.
		raw("wrong-types", enrol.natsSubject(), ct, `{"specversion":1.0,"id":5,"source":{},"type":["anzhi.edu.enrolment.v1"],"subject":null,"time":true,"datacontenttype":7,"dataschema":false,"ext":{"a":1},"data":"x"}`, false),
		raw("bad-values", enrol.natsSubject(), ct, replace(`"time":"2020-09-01T08:00:00+08:00"`, `"time":"2020-09-01 08:00:00","Bad_Ext":"1","toolongextensionname21":"x","UPPER":"y","e-x":"z","":"empty"`), false),
		raw("not-allowed-source", enrol.natsSubject(), ct, replace(`/xianyang/edu`, `/xianyang/drc`), false),
		raw("unknown-source", enrol.natsSubject(), ct, replace(`/xianyang/edu`, `/beijing/edu`), false),
		raw("wrong-dataschema", enrol.natsSubject(), ct, replace(`schemas/v1/edu.enrolment.json`, `schemas/v1/edu.capacity.json`), false),

		// Unknown or malformed NATS subjects.
		raw("subject-unknown-family", "edu.unknown.610424", ct, string(validEnrol), false),
		raw("subject-other-family", "edu.capacity.610424", ct, string(validEnrol), false),
		raw("subject-unknown-county", "edu.enrolment.999999", ct, string(validEnrol), false),
		raw("subject-other-county", "edu.enrolment.610426", ct, string(validEnrol), false),
		raw("subject-too-long", "edu.enrolment.610424.x", ct, string(validEnrol), false),
		raw("subject-empty", "", ct, string(validEnrol), false),

		// Headers naming the same attribute in two cases: which one counts
		// must not depend on map iteration order.
		wanting("", raw("binary-duplicate-case", enrol.natsSubject(),
			"ce-id: a\nce-source: /xianyang/edu\nce-type: anzhi.edu.enrolment.v1\nce-subject: "+fzPersonKey+
				"\nce-time: not a time\nCe-Time: 2020-09-01T08:00:00Z\nCE-TIME: 2020-09-01T08:00:00Z\ncontent-type: application/json",
			string(must(json.Marshal(enrol.attrs(t)["data"]))), true)),
	}
	return seeds
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// fzCorpusFile encodes a seed in the "go test fuzz v1" format.
func fzCorpusFile(s fzSeed) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(s.subject))
	fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(s.headers))
	fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(s.body)))
	fmt.Fprintf(&b, "bool(%v)\n", s.binary)
	return b.Bytes()
}

// TestFuzzCheckCorpus checks that the seeds fzCorpusSeeds describes are
// checked in and that exactly the valid ones are accepted. With
// ANZHI_WRITE_FUZZ_CORPUS=1 it (re)writes them.
func TestFuzzCheckCorpus(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	seeds := fzCorpusSeeds(t)
	write := os.Getenv(fzCorpusEnv) != ""
	if write {
		if err := os.MkdirAll(fzCorpusPath, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range seeds {
		vd := v.Check(fzMessage(s.subject, s.headers, s.body, s.binary))
		if got := map[bool]string{true: "accepted", false: "rejected"}[vd.OK()]; s.want != "" && got != s.want {
			t.Errorf("seed %s: %s, want %s: %v", s.name, got, s.want, vd.Violations)
		}
		path := filepath.Join(fzCorpusPath, s.name)
		if write {
			if err := os.WriteFile(path, fzCorpusFile(s), 0o644); err != nil {
				t.Fatal(err)
			}
		} else if _, err := os.Stat(path); err != nil {
			t.Errorf("seed %s is not checked in (run with %s=1): %v", s.name, fzCorpusEnv, err)
		}
	}
}
