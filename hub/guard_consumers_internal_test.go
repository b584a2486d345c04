package hub

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// TestOverseerConsumers: which push consumers of the streams overseers read
// may deliver where — each reader only what it may read itself.
func TestOverseerConsumers(t *testing.T) {
	allowed := overseerConsumers("_INBOX_lead_office", "_INBOX_auditor")
	ledger := fact.RejectedSubjectPrefix + ">"
	for _, tc := range []struct {
		name   string
		stream string
		c      jetstream.ConsumerConfig
		want   bool
	}{
		{"lead office watching the view", fact.ViewStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX_lead_office.abc"}, true},
		{"the view onto view.city", fact.ViewStream, jetstream.ConsumerConfig{DeliverSubject: fact.CitySubject}, false},
		{"the view to the auditors", fact.ViewStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX_auditor.x"}, false},
		{"the hub's own inbox", fact.ViewStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX.x"}, true},
		{"the log to the auditors", fact.LogStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX_auditor.x"}, true},
		{"the ledger to the lead office", fact.LogStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX_lead_office.x", FilterSubject: ledger}, true},
		{"the whole log to the lead office", fact.LogStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX_lead_office.x"}, false},
		{"facts to the lead office", fact.LogStream, jetstream.ConsumerConfig{DeliverSubject: "_INBOX_lead_office.x",
			FilterSubjects: []string{ledger, fact.FactSubjectPrefix + ">"}}, false},
		{"the log onto a verdict subject", fact.LogStream, jetstream.ConsumerConfig{DeliverSubject: fact.VerdictSubject}, false},
	} {
		if got := allowed(tc.stream, tc.c); got != tc.want {
			t.Errorf("%s: allowed %v, want %v", tc.name, got, tc.want)
		}
	}
}
