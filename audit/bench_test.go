package audit_test

import (
	"bytes"
	"testing"

	"github.com/xianyang/anzhi/audit"
)

// BenchmarkTreeAppend is what keeping the tree adds to the hub's ingest for
// each log entry: the leaf hash of a ≈500-byte entry with the hub's headers,
// and the append to the tree.
func BenchmarkTreeAppend(b *testing.B) {
	e := audit.Entry{Subject: "anzhi.fact.edu.enrolment.610424", Data: bytes.Repeat([]byte("x"), 480),
		Header: map[string][]string{"Anzhi-Intake-Seq": {"123456"}, "Anzhi-Received": {"2026-12-07T23:40:29.123456789Z"},
			"Anzhi-Key": {"9f86d081884c7d65"}, "Nats-Expected-Last-Sequence": {"123455"}}}
	tree := audit.NewTree()
	var lh audit.LeafHasher
	var buf []byte
	b.SetBytes(int64(len(e.Data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Seq = uint64(i + 1)
		buf = lh.Hash(buf[:0], e)
		if err := tree.Append(buf); err != nil {
			b.Fatal(err)
		}
	}
}
