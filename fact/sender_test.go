package fact_test

import (
	"testing"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

func TestCutSender(t *testing.T) {
	for _, tt := range []struct {
		subject, identity, sent string
		ok                      bool
	}{
		{"anzhi.in.edu.edu.enrolment.610424", "edu", "edu.enrolment.610424", true},
		{"anzhi.in.county-610424.civil.assistance.610424", "county-610424", "civil.assistance.610424", true},
		{"edu.enrolment.610424", "", "edu.enrolment.610424", false},
		{"anzhi.in.", "", "anzhi.in.", false},
		{"anzhi.in.edu", "", "anzhi.in.edu", false},
	} {
		identity, sent, ok := fact.CutSender(tt.subject)
		if identity != tt.identity || sent != tt.sent || ok != tt.ok {
			t.Errorf("CutSender(%q) = %q, %q, %v; want %q, %q, %v", tt.subject, identity, sent, ok, tt.identity, tt.sent, tt.ok)
		}
	}
	for dept, identity := range map[string]string{"edu": "edu", "county/610424": "county-610424"} {
		if got := fact.IdentityOf(dept); got != identity {
			t.Errorf("IdentityOf(%s) = %s, want %s", dept, got, identity)
		}
		if got := fact.DeptOfIdentity(identity); got != dept {
			t.Errorf("DeptOfIdentity(%s) = %s, want %s", identity, got, dept)
		}
	}
}

// TestSourceBoundToSender: with identities on, a message is checked as it
// was sent, and a source other than the sender's own is refused, however
// valid the rest; the rejection is filed under the sender.
func TestSourceBoundToSender(t *testing.T) {
	v := fact.NewValidator(schemas.MustLoad(), 0)
	own := structured(t, fact.SenderSubject("edu", "edu.enrolment.610424"), enrolment())
	vd := v.CheckIntake(own)
	if !vd.OK() || vd.Sender != "edu" {
		t.Fatalf("edu's own fact: sender %q, violations %+v", vd.Sender, vd.Violations)
	}
	forged := structured(t, fact.SenderSubject("police", "edu.enrolment.610424"), enrolment())
	vd = v.CheckIntake(forged)
	if vd.OK() || vd.Violations[0].Reason != schemas.ReasonSource || vd.Violations[0].Pointer != "/source" {
		t.Fatalf("edu's fact sent by police: %+v, want refused for its source", vd.Violations)
	}
	r := fact.NewRejection(forged, vd, 7, vd.Event.Time)
	if r.Department != "police" || r.Sender != "police" || r.Subject != "edu.enrolment.610424" {
		t.Errorf("rejection filed under %q (sender %q, subject %q), want police's ledger with the subject as sent", r.Department, r.Sender, r.Subject)
	}
	open := v.CheckIntake(structured(t, "edu.enrolment.610424", enrolment()))
	if !open.OK() || open.Sender != "" {
		t.Errorf("open trial mode: sender %q, violations %+v", open.Sender, open.Violations)
	}
}
