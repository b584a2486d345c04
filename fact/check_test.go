package fact_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

const personKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// enrolment returns a valid structured-mode edu.enrolment event as a map.
func enrolment() map[string]any {
	return map[string]any{
		"specversion":     "1.0",
		"id":              "edu-2020-000001",
		"source":          "/xianyang/edu",
		"type":            "anzhi.edu.enrolment.v1",
		"subject":         personKey,
		"time":            "2020-09-01T08:00:00+08:00",
		"datacontenttype": "application/json",
		"dataschema":      "https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json",
		"data": map[string]any{
			"person_key":   personKey,
			"household_id": "H610424-000123",
			"action":       "enrolled",
			"school_id":    "SC610424-001",
			"level":        "primary",
			"effective_on": "2020-09-01",
		},
	}
}

func structured(t testing.TB, subject string, ev map[string]any) fact.Message {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return fact.Message{Subject: subject, Header: map[string][]string{"Content-Type": {fact.ContentType}}, Data: b}
}

func binary(t testing.TB, subject string, ev map[string]any) fact.Message {
	t.Helper()
	h := map[string][]string{}
	var data []byte
	for k, v := range ev {
		if k == "data" {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			data = b
			continue
		}
		if k == "datacontenttype" {
			h["content-type"] = []string{v.(string)}
			continue
		}
		h["ce-"+k] = []string{v.(string)}
	}
	return fact.Message{Subject: subject, Header: h, Data: data}
}

func with(ev map[string]any, edits ...func(map[string]any)) map[string]any {
	for _, e := range edits {
		e(ev)
	}
	return ev
}

func set(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
func del(k string) func(map[string]any)        { return func(m map[string]any) { delete(m, k) } }
func setData(k string, v any) func(map[string]any) {
	return func(m map[string]any) { m["data"].(map[string]any)[k] = v }
}

type want struct {
	reason  schemas.Reason
	pointer string
}

func TestCheck(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 4096)
	const subj = "edu.enrolment.610424"
	for _, tc := range []struct {
		name string
		msg  fact.Message
		want []want // empty: valid
	}{
		{"valid structured", structured(t, subj, enrolment()), nil},
		{"valid binary", binary(t, subj, enrolment()), nil},
		{"valid binary ce-datacontenttype", func() fact.Message {
			m := binary(t, subj, enrolment())
			m.Header["ce-datacontenttype"] = m.Header["content-type"]
			delete(m.Header, "content-type")
			return m
		}(), nil},
		{"valid binary mixed-case headers", func() fact.Message {
			m := binary(t, subj, enrolment())
			m.Header["Ce-Id"] = m.Header["ce-id"]
			delete(m.Header, "ce-id")
			return m
		}(), nil},
		{"valid without optional attributes", structured(t, subj, with(enrolment(), del("dataschema"), del("datacontenttype"))), nil},
		{"malformed JSON", fact.Message{Subject: subj, Data: []byte(`{"specversion":`)}, []want{{schemas.ReasonMalformed, ""}}},
		{"JSON array", fact.Message{Subject: subj, Data: []byte(`[1,2]`)}, []want{{schemas.ReasonMalformed, ""}}},
		{"wrong specversion", structured(t, subj, with(enrolment(), set("specversion", "0.3"))), []want{{schemas.ReasonAttribute, "/specversion"}}},
		{"missing id and time", structured(t, subj, with(enrolment(), del("id"), del("time"))),
			[]want{{schemas.ReasonAttribute, "/id"}, {schemas.ReasonAttribute, "/time"}}},
		{"id wrong type", structured(t, subj, with(enrolment(), set("id", 12))), []want{{schemas.ReasonAttribute, "/id"}}},
		{"bad time", structured(t, subj, with(enrolment(), set("time", "yesterday"))), []want{{schemas.ReasonAttribute, "/time"}}},
		{"unknown type", structured(t, subj, with(enrolment(), set("type", "anzhi.edu.graduation.v1"))),
			[]want{{schemas.ReasonUnknownType, "/type"}}},
		{"unknown subject family", structured(t, "edu.graduation.610424", enrolment()),
			[]want{{schemas.ReasonUnknownType, "subject:edu.graduation.610424"}}},
		{"subject family differs from type", structured(t, "edu.capacity.610424", enrolment()),
			[]want{{schemas.ReasonSubject, "subject:edu.capacity.610424"}}},
		{"malformed NATS subject", structured(t, "edu.enrolment", enrolment()),
			[]want{{schemas.ReasonSubject, "subject:edu.enrolment"}}},
		{"unknown county token", structured(t, "edu.enrolment.999999", enrolment()),
			[]want{{schemas.ReasonCounty, "subject:edu.enrolment.999999"}}},
		{"entity in another county", structured(t, "edu.enrolment.610402", enrolment()),
			[]want{{schemas.ReasonCounty, "/data/household_id"}}},
		{"unknown source", structured(t, subj, with(enrolment(), set("source", "/xianyang/nobody"))),
			[]want{{schemas.ReasonSource, "/source"}}},
		{"source not of the city", structured(t, subj, with(enrolment(), set("source", "https://example.com/edu"))),
			[]want{{schemas.ReasonSource, "/source"}}},
		{"department posing as another", structured(t, subj, with(enrolment(), set("source", "/xianyang/resources"))),
			[]want{{schemas.ReasonNotAllowed, "/source"}}},
		{"county government on another county", structured(t, "registry.person.610402", map[string]any{
			"specversion": "1.0", "id": "p1", "source": "/xianyang/county/610424", "type": "anzhi.registry.person.v1",
			"subject": personKey, "time": "2020-01-01T00:00:00Z",
			"data": map[string]any{"person_key": personKey, "household_id": "H610402-000001", "birth_year": 1980, "sex": "female", "labour_capacity": "full"},
		}), []want{{schemas.ReasonNotAllowed, "/source"}}},
		{"hub-only family", structured(t, "warning.resolved.610424", with(enrolment(), set("type", "anzhi.warning.resolved.v1"),
			del("dataschema"), set("data", fixture(t, "warning.resolved")), func(m map[string]any) {
				m["subject"] = m["data"].(map[string]any)["warning_id"]
			})), []want{{schemas.ReasonNotAllowed, "/source"}}},
		{"wrong dataschema", structured(t, subj, with(enrolment(), set("dataschema", "https://example.com/x.json"))),
			[]want{{schemas.ReasonAttribute, "/dataschema"}}},
		{"wrong datacontenttype", structured(t, subj, with(enrolment(), set("datacontenttype", "text/plain"))),
			[]want{{schemas.ReasonAttribute, "/datacontenttype"}}},
		{"subject is not the entity", structured(t, subj, with(enrolment(), set("subject", "someone-else"))),
			[]want{{schemas.ReasonSubject, "/subject"}}},
		{"schema: missing and unknown fields", structured(t, subj, with(enrolment(), setData("name", "张三"), func(m map[string]any) {
			delete(m["data"].(map[string]any), "level")
		})), []want{{schemas.ReasonSchema, "/data/level"}, {schemas.ReasonSchema, "/data/name"}}},
		{"schema: wrong enum", structured(t, subj, with(enrolment(), setData("action", "expelled"))), []want{{schemas.ReasonSchema, "/data/action"}}},
		{"data missing", structured(t, subj, with(enrolment(), del("data"))), []want{{schemas.ReasonSchema, "/data"}}},
		{"data not an object", structured(t, subj, with(enrolment(), set("data", "hello"))), []want{{schemas.ReasonSchema, "/data"}}},
		{"data_base64", structured(t, subj, with(enrolment(), del("data"), set("data_base64", "e30="))),
			[]want{{schemas.ReasonMalformed, "/data_base64"}, {schemas.ReasonSchema, "/data"}}},
		{"ID number in data", structured(t, subj, with(enrolment(), setData("note", "身份证11010519491231002X"))),
			[]want{{schemas.ReasonIDNumber, "/data/note"}}},
		{"ID number as a JSON number", structured(t, subj, with(enrolment(), set("idno", json.Number("610424198503151234")))),
			[]want{{schemas.ReasonIDNumber, "/idno"}, {schemas.ReasonAttribute, "/idno"}}},
		{"extension number beyond 32 bits", structured(t, subj, with(enrolment(), set("seqno", json.Number("4294967296")))),
			[]want{{schemas.ReasonAttribute, "/seqno"}}},
		{"extension integer", structured(t, subj, with(enrolment(), set("seqno", json.Number("42")))), nil},
		{"ID number in an extension", structured(t, subj, with(enrolment(), set("operator", "11010519491231002X"))),
			[]want{{schemas.ReasonIDNumber, "/operator"}}},
		{"ID number JSON-escaped", fact.Message{Subject: subj, Data: []byte(strings.Replace(string(mustJSON(t, enrolment())),
			`"level":"primary"`, `"level":"primary","note":"\u0031\u0031010519491231002X"`, 1))},
			[]want{{schemas.ReasonIDNumber, "/data/note"}}},
		{"ID number in a binary header", func() fact.Message {
			m := binary(t, subj, enrolment())
			m.Header["ce-operator"] = []string{"11010519491231002X"}
			return m
		}(), []want{{schemas.ReasonIDNumber, "header:ce-operator"}}},
		{"bad extension name", structured(t, subj, with(enrolment(), set("Trace-Id", "x"))), []want{{schemas.ReasonAttribute, "/Trace-Id"}}},
		{"extension object", structured(t, subj, with(enrolment(), set("trace", map[string]any{}))), []want{{schemas.ReasonAttribute, "/trace"}}},
		{"too large", structured(t, subj, with(enrolment(), setData("note", strings.Repeat("很", 2000)))),
			[]want{{schemas.ReasonTooLarge, ""}, {schemas.ReasonSchema, "/data/note"}}},
		{"binary: data not JSON", func() fact.Message {
			m := binary(t, subj, enrolment())
			m.Data = []byte("not json")
			return m
		}(), []want{{schemas.ReasonMalformed, "/data"}, {schemas.ReasonSchema, "/data"}}},
		{"structured with foreign content type", func() fact.Message {
			m := structured(t, subj, enrolment())
			m.Header["Content-Type"] = []string{"text/csv"}
			return m
		}(), []want{{schemas.ReasonMalformed, "header:Content-Type"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Check(tc.msg)
			var got []want
			for _, x := range vd.Violations {
				got = append(got, want{x.Reason, x.Pointer})
				if x.Message == "" {
					t.Errorf("violation %v has no message", x)
				}
			}
			sortWants(got)
			exp := slices.Clone(tc.want)
			sortWants(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("violations = %v, want %v\n%v", got, exp, vd.Violations)
			}
			if len(tc.want) == 0 {
				if vd.Family == nil || vd.Family.Name != "edu.enrolment" || vd.Area != "610424" || vd.Publisher.Dept != "edu" {
					t.Errorf("valid verdict lacks family/area/publisher: %+v", vd)
				}
				if err := vd.Err(tc.msg.Subject); err != nil {
					t.Errorf("Err() = %v on a valid fact", err)
				}
				return
			}
			err := vd.Err(tc.msg.Subject)
			var ve *fact.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, fact.ErrInvalid) {
				t.Fatalf("Err() = %v, want a *fact.ValidationError matching ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), string(tc.want[0].reason)) {
				t.Errorf("error text %q does not name %s", err, tc.want[0].reason)
			}
		})
	}
}

// fixture returns the first valid data fixture of a family.
func fixture(t testing.TB, family string) map[string]any {
	t.Helper()
	dir := filepath.Join("..", "schemas", "testdata", "valid", family)
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no fixture for %s: %v", family, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sortWants(ws []want) {
	slices.SortFunc(ws, func(a, b want) int {
		if c := strings.Compare(string(a.reason), string(b.reason)); c != 0 {
			return c
		}
		return strings.Compare(a.pointer, b.pointer)
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckDecodesEvent(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	ev := with(enrolment(), set("traceparent", "00-abc-01"), set("priority", json.Number("3")))
	vd := v.Check(structured(t, "edu.enrolment.610424", ev))
	if !vd.OK() {
		t.Fatal(vd.Violations)
	}
	e := vd.Event
	if got, want := e.Mode, fact.Structured; got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
	if got, want := e.Time, time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("time = %v, want %v", got, want)
	}
	if got, want := e.Extensions["traceparent"], "00-abc-01"; got != want {
		t.Errorf("extension traceparent = %q, want %q", got, want)
	}
	if got, want := e.Extensions["priority"], "3"; got != want {
		t.Errorf("extension priority = %q, want %q", got, want)
	}
	if got, want := e.Family(), "edu.enrolment"; got != want {
		t.Errorf("family = %q, want %q", got, want)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	data := mustJSON(t, enrolment()["data"])
	o := &fact.Outgoing{
		ID: "id-\"quoted\"\n", Source: "/xianyang/edu", Type: "anzhi.edu.enrolment.v1", Subject: personKey,
		Time:       time.Date(2020, 9, 1, 8, 0, 0, 123, time.FixedZone("CST", 8*3600)),
		DataSchema: "https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json",
		Extensions: map[string]string{"b": "2", "a": "中文\u2028"},
		Data:       data,
	}
	b := fact.Encode(nil, o)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Encode produced invalid JSON %s: %v", b, err)
	}
	if got, want := back["id"], o.ID; got != want {
		t.Errorf("id = %q, want %q", got, want)
	}
	if got, want := back["a"], "中文\u2028"; got != want {
		t.Errorf("extension = %q, want %q", got, want)
	}
	vd := v.Check(fact.Message{Subject: "edu.enrolment.610424", Data: b})
	// The id has a newline, which the contract refuses: everything else is fine.
	if len(vd.Violations) != 1 || vd.Violations[0].Pointer != "/id" {
		t.Errorf("violations = %v, want only /id", vd.Violations)
	}
	if !vd.Event.Time.Equal(o.Time) {
		t.Errorf("time = %v, want %v", vd.Event.Time, o.Time)
	}
}

func TestKey(t *testing.T) {
	if fact.Key("/xianyang/edu", "1") == fact.Key("/xianyang/edu1", "") {
		t.Error("Key does not separate source and id")
	}
	if fact.Key("a", "b") != fact.Key("a", "b") {
		t.Error("Key is not deterministic")
	}
}

func TestRejectionRedacts(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	m := structured(t, "edu.enrolment.610424", with(enrolment(), setData("household_id", "11010519491231002X")))
	m.Header["X-Operator"] = []string{"11010519491231002X"}
	vd := v.Check(m)
	r := fact.NewRejection(m, vd, 7, time.Unix(0, 0))
	b := mustJSON(t, r)
	if strings.Contains(string(b), "19491231") {
		t.Errorf("rejection keeps the clear number: %s", b)
	}
	if !r.Redacted || r.IDNumbers != 2 || r.SHA256 != "" {
		t.Errorf("redacted=%v id_numbers=%d sha256=%q, want true, 2, empty", r.Redacted, r.IDNumbers, r.SHA256)
	}
	if !strings.Contains(r.Body, "110105********002X") {
		t.Errorf("body does not show the masked number: %s", r.Body)
	}
}

func TestRejectionTruncatesAtRuneBoundary(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	m := fact.Message{Subject: "edu.enrolment.610424", Data: []byte("x" + strings.Repeat("很", fact.MaxKeptBody))}
	r := fact.NewRejection(m, v.Check(m), 1, time.Unix(0, 0))
	if !r.Truncated || r.Body == "" || r.BodyBase64 != "" || len(r.Body) > fact.MaxKeptBody {
		t.Errorf("truncated=%v len(body)=%d base64=%d", r.Truncated, len(r.Body), len(r.BodyBase64))
	}
	if r.SHA256 == "" {
		t.Error("no digest of the whole body")
	}
}

func BenchmarkCheck(b *testing.B) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	for _, mode := range []string{"structured", "binary"} {
		m := structured(b, "edu.enrolment.610424", enrolment())
		if mode == "binary" {
			m = binary(b, "edu.enrolment.610424", enrolment())
		}
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(m.Size()))
			b.ReportAllocs()
			for b.Loop() {
				if vd := v.Check(m); !vd.OK() {
					b.Fatal(vd.Violations)
				}
			}
		})
	}
}

func TestCheckRelations(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	event := func(family, source string, data map[string]any, edit func(map[string]any)) fact.Message {
		if edit != nil {
			edit(data)
		}
		f, _ := schemas.MustLoad().Family(family)
		area := "610400"
		for _, k := range []string{"site_id", "household_id", "project_id"} {
			if s, ok := data[k].(string); ok {
				area = s[1:7]
			}
		}
		if s, ok := data["area"].(string); ok {
			area = s
		}
		return structured(t, family+"."+area, map[string]any{
			"specversion": "1.0", "id": "x-1", "source": source, "type": f.Type,
			"subject": data[f.SubjectField], "time": "2021-03-01T00:00:00Z", "data": data,
		})
	}
	for _, tc := range []struct {
		name string
		msg  fact.Message
		want []want
	}{
		{"progress by its owner", event("task.progress", "/xianyang/hrss", fixture(t, "task.progress"), func(d map[string]any) {
			d["department"] = "hrss"
		}), nil},
		{"progress reported for another department", event("task.progress", "/xianyang/edu", fixture(t, "task.progress"), func(d map[string]any) {
			d["department"] = "hrss"
		}), []want{{schemas.ReasonNotAllowed, "/data/department"}}},
		{"task owned by an unknown department", event("plan.task", "/xianyang/drc", fixture(t, "plan.task"), func(d map[string]any) {
			d["owner"] = "nobody"
			d["co_owners"] = []any{"edu", "hub"}
		}), []want{{schemas.ReasonSchema, "/data/owner"}, {schemas.ReasonSchema, "/data/co_owners/1"}}},
		{"meeting issue owned by an unknown department", event("plan.meeting", "/xianyang/drc", fixture(t, "plan.meeting"), func(d map[string]any) {
			d["issues_assigned"].([]any)[1].(map[string]any)["owner"] = "nobody"
		}), []want{{schemas.ReasonSchema, "/data/issues_assigned/1/owner"}}},
		{"meeting issues owned by units", event("plan.meeting", "/xianyang/drc", fixture(t, "plan.meeting"), nil), nil},
		{"assessment scheme by its county", event("plan.assessment", "/xianyang/county/610424", fixture(t, "plan.assessment"), nil), nil},
		{"assessment scheme by another county", event("plan.assessment", "/xianyang/county/610429", fixture(t, "plan.assessment"), nil),
			[]want{{schemas.ReasonNotAllowed, "/source"}}},
		{"assessment scheme by a department", event("plan.assessment", "/xianyang/hrss", fixture(t, "plan.assessment"), nil),
			[]want{{schemas.ReasonNotAllowed, "/source"}}},
		{"more seats used than seats", event("edu.capacity", "/xianyang/edu", fixture(t, "edu.capacity"), func(d map[string]any) {
			d["seats"], d["seats_used"] = json.Number("100"), json.Number("101")
		}), []want{{schemas.ReasonSchema, "/data/seats_used"}}},
		{"seats all used", event("edu.capacity", "/xianyang/edu", fixture(t, "edu.capacity"), func(d map[string]any) {
			d["seats"], d["seats_used"] = json.Number("100"), json.Number("100")
		}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Check(tc.msg)
			var got []want
			for _, x := range vd.Violations {
				got = append(got, want{x.Reason, x.Pointer})
			}
			sortWants(got)
			exp := slices.Clone(tc.want)
			sortWants(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("violations = %v, want %v\n%v", got, exp, vd.Violations)
			}
		})
	}
}

func TestUnquoteString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`"a\/b\n\"c\""`, "a/b\n\"c\""},
		{`"\u4e2d\u6587"`, "中文"},
		{`"\ud83d\ude00"`, "😀"},
		{`42`, ""},
		{`"unterminated`, ""},
	} {
		if got := fact.UnquoteString([]byte(tc.in)); got != tc.want {
			t.Errorf("UnquoteString(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
