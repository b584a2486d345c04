package hub

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
)

// TestFactDifference: a fact sent again under a key the log holds is the
// same fact when it means the same (however it is written), and otherwise
// the difference is named as the conflict's reason gives it.
func TestFactDifference(t *testing.T) {
	const subject = "edu.enrolment.610424"
	at := time.Date(2024, 9, 1, 8, 0, 0, 0, time.UTC)
	stored := func() *fact.Event {
		return &fact.Event{
			Mode: fact.Binary, SpecVersion: "1.0", ID: "enrol-1", Source: "/xianyang/edu",
			Type: "anzhi.edu.enrolment.v1", Subject: "P1", Time: at,
			DataSchema: "https://schemas.example/edu.enrolment.v1.json",
			Extensions: map[string]string{"recordedat": "2024-09-01T08:00:00Z"},
			Data: map[string]any{
				"status": "enrolled",
				"grade":  json.Number("3"),
				"terms":  []any{json.Number("1"), json.Number("2")},
				"school": map[string]any{"id": "SC610424-001", "levels": []any{"primary"}},
			},
		}
	}
	for _, tc := range []struct {
		name    string
		change  func(e *fact.Event)
		subject string // the arriving fact's NATS subject ("": the stored one's)
		want    string
	}{
		{name: "same fact", change: func(*fact.Event) {}, want: ""},
		{name: "time with another offset", want: "",
			change: func(e *fact.Event) { e.Time = at.In(time.FixedZone("CST", 8*3600)) }},
		{name: "time extension with another offset (the other mode)", want: "",
			change: func(e *fact.Event) {
				e.Mode = fact.Structured
				e.Extensions["recordedat"] = "2024-09-01T16:00:00+08:00"
			}},
		{name: "3.0 for 3", want: "",
			change: func(e *fact.Event) { e.Data.(map[string]any)["grade"] = json.Number("3.0") }},
		{name: "3e0 for 3 in an array", want: "",
			change: func(e *fact.Event) { e.Data.(map[string]any)["terms"] = []any{json.Number("1e0"), json.Number("2")} }},
		{name: "a data field", want: "/data/status",
			change: func(e *fact.Event) { e.Data.(map[string]any)["status"] = "withdrawn" }},
		{name: "a number", want: "/data/grade",
			change: func(e *fact.Event) { e.Data.(map[string]any)["grade"] = json.Number("4") }},
		{name: "a number written as text", want: "/data/grade",
			change: func(e *fact.Event) { e.Data.(map[string]any)["grade"] = "3" }},
		{name: "a data field more", want: "/data/note",
			change: func(e *fact.Event) { e.Data.(map[string]any)["note"] = "x" }},
		{name: "nested array of another length", want: "/data/school/levels",
			change: func(e *fact.Event) {
				e.Data.(map[string]any)["school"] = map[string]any{"id": "SC610424-001", "levels": []any{"primary", "junior"}}
			}},
		{name: "array element", want: "/data/terms/1",
			change: func(e *fact.Event) { e.Data.(map[string]any)["terms"] = []any{json.Number("1"), json.Number("3")} }},
		{name: "no data", want: "/data",
			change: func(e *fact.Event) { e.Data = nil }},
		{name: "an extension's value", want: "extension recordedat",
			change: func(e *fact.Event) { e.Extensions["recordedat"] = "2024-09-02T08:00:00Z" }},
		{name: "an extension more", want: "extension partition",
			change: func(e *fact.Event) { e.Extensions["partition"] = "1" }},
		{name: "an extension fewer", want: "extension recordedat",
			change: func(e *fact.Event) { e.Extensions = nil }},
		{name: "subject", want: "subject",
			change: func(e *fact.Event) { e.Subject = "P2" }},
		{name: "type", want: "type",
			change: func(e *fact.Event) { e.Type = "anzhi.edu.enrolment.v2" }},
		{name: "dataschema", want: "dataschema",
			change: func(e *fact.Event) { e.DataSchema += "?v=2" }},
		{name: "time", want: "time",
			change: func(e *fact.Event) { e.Time = at.Add(time.Second) }},
		{name: "NATS subject", subject: "edu.enrolment.610402", want: "the NATS subject",
			change: func(*fact.Event) {}},
		{name: "source and id (a key collision)", want: "the source and id (a different fact whose key collides)",
			change: func(e *fact.Event) { e.Source, e.ID = "/xianyang/hrss", "other" }},
		{name: "collision first, whatever else differs", want: "the source and id (a different fact whose key collides)",
			subject: "hr.training.610402",
			change:  func(e *fact.Event) { e.ID = "enrol-2"; e.Type = "anzhi.hr.training.v1"; e.Data = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := stored(), stored()
			b.Extensions = maps.Clone(a.Extensions)
			tc.change(b)
			sub := tc.subject
			if sub == "" {
				sub = subject
			}
			if got := factDifference(a, b, subject, sub); got != tc.want {
				t.Errorf("factDifference = %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				if got := factDifference(b, a, sub, subject); got != "" {
					t.Errorf("reversed: factDifference = %q, want the same fact", got)
				}
			}
		})
	}
}
