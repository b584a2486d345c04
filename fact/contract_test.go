package fact_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// TestContractEdges: verdicts on the edges of the CloudEvents format and the
// NATS binding, each once decided wrongly (found by a review).
func TestContractEdges(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	const subj = "edu.enrolment.610424"
	withHeader := func(m fact.Message, k string, vs ...string) fact.Message { m.Header[k] = vs; return m }
	raw := func(from, to string) []byte {
		return []byte(strings.Replace(string(mustJSON(t, enrolment())), from, to, 1))
	}
	const id = "11010519491231002X"
	hrEmployment := func(project string) fact.Message {
		return structured(t, "hr.employment.610424", map[string]any{
			"specversion": "1.0", "id": "e1", "source": "/xianyang/hrss", "type": "anzhi.hr.employment.v1",
			"subject": personKey, "time": "2021-03-01T00:00:00Z",
			"data": map[string]any{"person_key": personKey, "household_id": "H610424-000123", "status": "employed",
				"kind": "project", "project_id": project, "destination_area": "610402", "start_on": "2021-03-01"},
		})
	}
	for _, tc := range []struct {
		name   string
		msg    fact.Message
		valid  bool
		reason schemas.Reason // for invalid ones: a violation of this reason is expected
	}{
		// --- time not RFC 3339 (time-secfrac is "." 1*DIGIT; hours 2DIGIT; offset hour 00-23, minute 00-59)
		{"time comma fraction", structured(t, subj, with(enrolment(), set("time", "2020-09-01T08:00:00,5+08:00"))), false, schemas.ReasonAttribute},
		{"time one-digit hour", structured(t, subj, with(enrolment(), set("time", "2020-09-01T8:00:00Z"))), false, schemas.ReasonAttribute},
		{"time offset +24:00", structured(t, subj, with(enrolment(), set("time", "2020-09-01T08:00:00+24:00"))), false, schemas.ReasonAttribute},
		{"time offset minute 60", structured(t, subj, with(enrolment(), set("time", "2020-09-01T08:00:00+08:60"))), false, schemas.ReasonAttribute},
		// --- CloudEvents String: no U+0000-001F, U+007F-009F, noncharacters, lone surrogates
		{"extension with NUL", structured(t, subj, with(enrolment(), set("trace", "a\x00b"))), false, schemas.ReasonAttribute},
		{"extension with DEL", structured(t, subj, with(enrolment(), set("trace", "a\x7fb"))), false, schemas.ReasonAttribute},
		{"id with C1 control U+0085", structured(t, subj, with(enrolment(), set("id", "a\u0085b"))), false, schemas.ReasonAttribute},
		{"id with noncharacter U+FFFF", structured(t, subj, with(enrolment(), set("id", "a\uffffb"))), false, schemas.ReasonAttribute},
		{"id with lone surrogate", fact.Message{Subject: subj, Data: raw(`"id":"edu-2020-000001"`, `"id":"edu-\udead"`)}, false, schemas.ReasonMalformed},
		{"binary extension invalid UTF-8", withHeader(binary(t, subj, enrolment()), "ce-trace", "a\xffb"), false, schemas.ReasonAttribute},
		{"binary extension with NUL", withHeader(binary(t, subj, enrolment()), "ce-trace", "a\x00b"), false, schemas.ReasonAttribute},
		// --- attribute name "data" is reserved (MUST NOT)
		{"binary ce-data header", withHeader(binary(t, subj, enrolment()), "ce-data", "x"), false, schemas.ReasonAttribute},
		// --- JSON format: null attribute == unset (MUST)
		{"optional dataschema null", structured(t, subj, with(enrolment(), set("dataschema", nil))), true, ""},
		{"optional datacontenttype null", structured(t, subj, with(enrolment(), set("datacontenttype", nil))), true, ""},
		{"extension null", structured(t, subj, with(enrolment(), set("trace", nil))), true, ""},
		// --- names: CloudEvents advises at most 20 characters; anzhi requires it, and says so
		{"extension name 21 chars", structured(t, subj, with(enrolment(), set("abcdefghijklmnopqrstu", "x"))), false, schemas.ReasonAttribute},
		// --- one mode per message: ce-specversion means binary (as sdk-go
		// decides; raw JSON without headers is structured), and a structured
		// event may not carry ce- headers the log reader would read instead
		{"structured with stray ce-specversion", withHeader(structured(t, subj, enrolment()), "ce-specversion", "1.0"), false, schemas.ReasonMalformed},
		{"structured with ce-id header", withHeader(structured(t, subj, enrolment()), "ce-id", "someone-elses-id"), false, schemas.ReasonAttribute},
		{"structured with CE-Source header", withHeader(structured(t, subj, enrolment()), "CE-Source", "/xianyang/poverty"), false, schemas.ReasonAttribute},
		{"time with a lower-case t and z", structured(t, subj, with(enrolment(), set("time", "2020-09-01t08:00:00z"))), false, schemas.ReasonAttribute},
		{"time with a fraction and an offset", structured(t, subj, with(enrolment(), set("time", "2020-09-01T08:00:00.123456+08:00"))), true, ""},
		// --- ID numbers hidden behind an escape in a body that does not parse
		{"malformed structured, ID after \\n", fact.Message{Subject: subj, Header: map[string][]string{"Content-Type": {fact.ContentType}},
			Data: []byte(`{"note":"\n` + id + `"`)}, false, schemas.ReasonIDNumber},
		{"malformed binary data, ID after \\u4e2d", func() fact.Message {
			m := binary(t, subj, enrolment())
			m.Data = []byte(`{"note":"\u4e2d` + id + `",}`)
			return m
		}(), false, schemas.ReasonIDNumber},
		// --- an ID number typed by a Chinese input method in full-width mode
		{"full-width ID number in data", structured(t, subj, with(enrolment(), setData("note", "身份证１１０１０５１９４９１２３１００２Ｘ"))), false, schemas.ReasonIDNumber},
		{"full-width ID number in an extension", structured(t, subj, with(enrolment(), set("holder", "１１０１０５１９４９１２３１００２ｘ"))), false, schemas.ReasonIDNumber},
		// --- a person of H610424 employed on a project of 610402: the fact is
		// about the person, so it goes on the household's county token; the
		// project may be elsewhere (x-anzhi.elsewhere)
		{"employment on a project in another county", hrEmployment("P610402-YGDZ1"), true, ""},
		{"employment on a project in another county, on the project's token", func() fact.Message {
			m := hrEmployment("P610402-YGDZ1")
			m.Subject = "hr.employment.610402"
			return m
		}(), false, schemas.ReasonCounty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := v.Check(tc.msg)
			if tc.valid {
				if !vd.OK() {
					t.Errorf("refused a valid event: %v", vd.Violations)
				}
				return
			}
			for _, x := range vd.Violations {
				if x.Reason == tc.reason {
					return
				}
			}
			t.Errorf("want a %s violation, got ok=%v ids=%d %v", tc.reason, vd.OK(), vd.IDNumbers, vd.Violations)
		})
	}
}

// TestRejectionMasksNumbersBehindEscapes: a body that does not parse, with an
// ID-card number right after an escape, is refused for the number, and its
// kept copy is masked.
func TestRejectionMasksNumbersBehindEscapes(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	m := fact.Message{Subject: "edu.enrolment.610424", Header: map[string][]string{"Content-Type": {fact.ContentType}},
		Data: []byte(`{"note":"\n11010519491231002X"`)}
	vd := v.Check(m)
	r := fact.NewRejection(m, vd, 1, time.Unix(0, 0))
	fw := fact.Message{Subject: "edu.enrolment.610424", Header: map[string][]string{"Content-Type": {fact.ContentType}},
		Data: []byte(`{"note":"１１０１０５１９４９１２３１００２Ｘ"`)}
	if fr := fact.NewRejection(fw, v.Check(fw), 2, time.Unix(0, 0)); strings.Contains(fr.Body, "１９４９１２３１") || !fr.Redacted {
		t.Errorf("full-width number kept in clear: %q", fr.Body)
	}
	if vd.IDNumbers != 1 || !r.Redacted {
		t.Errorf("id_numbers = %d, redacted = %v, want 1 and true: the hub erases the intake copy only for counted numbers", vd.IDNumbers, r.Redacted)
	}
	if strings.Contains(r.Body, "11010519491231002X") || !strings.Contains(r.Body, "110105********002X") {
		t.Errorf("rejection keeps the clear number (id_numbers=%d redacted=%v; the hub erases the intake copy only when id_numbers>0): body %q", vd.IDNumbers, r.Redacted, r.Body)
	}
}

// TestLogReaderSeesWhatTheCheckSaw: a binary-mode fact decodes from the log
// with the attributes the check judged, and a structured one from its body
// even when its headers carry other text.
func TestLogReaderSeesWhatTheCheckSaw(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	for _, m := range []fact.Message{binary(t, "edu.enrolment.610424", enrolment()), structured(t, "edu.enrolment.610424", enrolment())} {
		vd := v.CheckIntake(m)
		if !vd.OK() {
			t.Fatalf("refused: %v", vd.Violations)
		}
		e, err := fact.DecodeEntry(1, "anzhi.fact.edu.enrolment.610424", m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if e.ID != vd.Event.ID || e.Source != vd.Event.Source || e.Subject != vd.Event.Subject || !e.Time.Equal(vd.Event.Time) ||
			!strings.HasPrefix(strings.TrimSpace(string(e.Data)), "{") || strings.Contains(string(e.Data), `"specversion"`) {
			t.Errorf("%v mode: check saw id=%q source=%q subject=%q time=%v; log reader reads id=%q source=%q subject=%q time=%v data=%.40s",
				vd.Event.Mode, vd.Event.ID, vd.Event.Source, vd.Event.Subject, vd.Event.Time, e.ID, e.Source, e.Subject, e.Time, e.Data)
		}
	}
}

// TestRejectionRecordFits: whatever a refused message holds, its record fits
// in a NATS message and says what it left out.
func TestRejectionRecordFits(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	m := structured(t, "edu.enrolment.610424", enrolment())
	for i := range 550 {
		m.Header[fmt.Sprintf("Anzhi-%s%03d", strings.Repeat("&", 100), i)] = []string{strings.Repeat("<", 50)}
	}
	vd := v.CheckIntake(m)
	if vd.OK() || len(vd.Violations) < 550 {
		t.Fatalf("%d violations, want one per reserved header", len(vd.Violations))
	}
	r := fact.NewRejection(m, vd, 7, time.Unix(0, 0))
	full, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Encode(fact.MaxRejectionBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) <= fact.MaxRejectionBytes || len(b) > fact.MaxRejectionBytes {
		t.Fatalf("record: %d bytes in full, %d encoded; want over and under %d", len(full), len(b), fact.MaxRejectionBytes)
	}
	var back fact.Rejection
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.IntakeSeq != 7 || len(back.Violations) != 20 || back.OmittedViolations != len(vd.Violations)-20 {
		t.Errorf("kept %d violations, omitted %d, of %d", len(back.Violations), back.OmittedViolations, len(vd.Violations))
	}
	if tiny, err := r.Encode(2048); err != nil || len(tiny) > 2048 || !json.Valid(tiny) {
		t.Errorf("record cut to 2 KiB: %d bytes, %v", len(tiny), err)
	}
	sm := structured(t, "edu.enrolment.610424", with(enrolment(), set("time", "yesterday")))
	svd := v.CheckIntake(sm)
	small, err := fact.NewRejection(sm, svd, 1, time.Unix(0, 0)).Encode(fact.MaxRejectionBytes)
	if err != nil || svd.OK() || strings.Contains(string(small), "omitted") || strings.Contains(string(small), "truncated") {
		t.Errorf("a small record lost something: %s (%v)", small, err)
	}
}

// TestRelationsInRealLedgers: relations between fields that a ledger can
// get wrong are refused, and a fact whose project or site lies in another
// county than its token is accepted where the family allows it.
func TestRelationsInRealLedgers(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	cat := schemas.MustLoad()
	fixture := func(family, name string) map[string]any {
		b, err := os.ReadFile(filepath.Join("..", "schemas", "testdata", "valid", family, name))
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	event := func(family, dept, county string, data map[string]any) fact.Message {
		fam, _ := cat.Family(family)
		subject, _ := data[fam.SubjectField].(string)
		return structured(t, family+"."+county, map[string]any{
			"specversion": "1.0", "id": "rel-1", "source": "/xianyang/" + dept, "type": fam.Type,
			"subject": subject, "time": "2020-09-01T00:00:00Z", "data": data,
		})
	}
	edit := func(d map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			d[kv[i].(string)] = kv[i+1]
		}
		return d
	}
	for _, tt := range []struct {
		name   string
		msg    fact.Message
		reason schemas.Reason // "" for accepted
		ptr    string
	}{
		{"contract ended before it was signed", event("health.contract", "health", "610424",
			edit(fixture("health.contract", "ended.json"), "signed_on", "2020-05-01", "ended_on", "2019-01-01")), schemas.ReasonSchema, "/data/signed_on"},
		{"more doctors than staff", event("health.facility", "health", "610424",
			edit(fixture("health.facility", firstFixture(t, "health.facility")), "staff", 2, "doctors", 10)), schemas.ReasonSchema, "/data/doctors"},
		{"a city project funding a site in a county", event("finance.funds", "finance", "610400",
			edit(fixture("finance.funds", "allocated_to_site.json"), "project_id", "P610400-2020GZ07", "area", "610424")), "", ""},
		{"the same, from the development and reform commission", event("finance.funds", "drc", "610400",
			edit(fixture("finance.funds", "allocated_to_site.json"), "project_id", "P610400-2020GZ07", "area", "610424")), "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vd := v.CheckIntake(tt.msg)
			if tt.reason == "" {
				if !vd.OK() {
					t.Errorf("refused: %v", vd.Violations)
				}
				return
			}
			for _, x := range vd.Violations {
				if x.Reason == tt.reason && x.Pointer == tt.ptr {
					return
				}
			}
			t.Errorf("want %s at %s, got %v", tt.reason, tt.ptr, vd.Violations)
		})
	}
}

func firstFixture(t *testing.T, family string) string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join("..", "schemas", "testdata", "valid", family))
	if err != nil || len(es) == 0 {
		t.Fatalf("no valid fixture of %s: %v", family, err)
	}
	return es[0].Name()
}
