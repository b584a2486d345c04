package hub_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/audit"
	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/subscribers"
)

// BenchmarkAuditVerify compares, on the same log in one run, a raw ordered
// read of the whole log with audit verify (read, recompute the tree, check
// the checkpoints). Compare the ns/op of raw and verify; entries/s is
// reported for each.
func BenchmarkAuditVerify(b *testing.B) {
	h, nc, js := auditHub(b, b.TempDir())
	fillLog(b, h, nc, 0, 20000, 0)
	v, err := audit.NewVerifier(h.AuditVerifierKey())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		b.Fatal(err)
	}
	last := s.CachedInfo().State.LastSeq
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				b.Fatal(err)
			}
			it, err := c.Messages(jetstream.PullMaxMessages(1024))
			if err != nil {
				b.Fatal(err)
			}
			for {
				m, err := it.Next()
				if err != nil {
					b.Fatal(err)
				}
				md, _ := m.Metadata()
				if md.Sequence.Stream >= last {
					break
				}
			}
			it.Stop()
		}
		b.ReportMetric(float64(last)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			r, err := subscribers.VerifyLog(ctx, js, v, 0)
			if err != nil || !r.OK() {
				b.Fatal(err, r)
			}
		}
		b.ReportMetric(float64(last)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	})
}
