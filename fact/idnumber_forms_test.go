package fact_test

import (
	"strings"
	"testing"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// TestIDNumberForms: a first-generation 15-digit number, or an 18-digit one
// written with spaces or hyphens, is refused like any raw ID-card number,
// and the rejection keeps it masked.
func TestIDNumberForms(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	for _, tt := range []struct{ name, number, masked string }{
		{"15 digits", "110105491231002", "110105******002"},
		{"grouped with spaces", "110105 19491231 002X", "110105 ******** 002X"},
		{"grouped with hyphens", "110105-19491231-002X", "110105-********-002X"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := with(enrolment(), set("id", "enrol-idforms"))
			ev["data"].(map[string]any)["school_id"] = "原身份证 " + tt.number
			m := structured(t, "edu.enrolment.610424", ev)
			vd := v.CheckIntake(m)
			if vd.IDNumbers != 1 || vd.OK() || vd.Violations[0].Reason != schemas.ReasonIDNumber {
				t.Fatalf("%d numbers found, violations %+v; want the number refused", vd.IDNumbers, vd.Violations)
			}
			b, err := fact.NewRejection(m, vd, 1, vd.Event.Time).Encode(fact.MaxRejectionBytes)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), tt.number) || !strings.Contains(string(b), tt.masked) {
				t.Errorf("rejection record does not hold the number masked as %s:\n%s", tt.masked, b)
			}
		})
	}
}
