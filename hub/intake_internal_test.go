package hub

import (
	"context"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
)

// TestResumePoint: where a restart takes up each intake stream — the last
// position record raised by the entries after it, and for a log written
// before position records existed, the newest entry's intake sequence.
func TestResumePoint(t *testing.T) {
	type entry struct {
		stream    string // "" for the open intake
		seq       uint64
		positions string
	}
	edu := fact.SenderIntakeStream("edu")
	cases := []struct {
		name    string
		entries []entry
		want    positions
	}{
		{"empty log", nil, positions{}},
		{"a log from before position records: its last entry's sequence",
			[]entry{{"", 1, ""}, {"", 2, ""}, {"", 0, ""}, {"", 5, ""}}, positions{fact.IntakeStream: 5}},
		{"a record, then entries of two senders",
			[]entry{{edu, 1, fact.IntakeStream + "=3 " + edu + "=1 " + fact.SenderIntakeStream("police") + "=7"},
				{edu, 2, ""}, {"", 0, ""}, {fact.SenderIntakeStream("police"), 9, ""}},
			positions{fact.IntakeStream: 3, edu: 2, fact.SenderIntakeStream("police"): 9}},
		{"a record counts what no entry names (judged duplicates)",
			[]entry{{edu, 4, edu + "=6"}}, positions{edu: 6}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e, err := StartEmbedded(EmbeddedConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Shutdown)
			nc, err := nats.Connect(e.ClientURL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			js, _ := jetstream.New(nc)
			logs, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: fact.LogStream, Subjects: fact.LogSubjects()})
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range tc.entries {
				m := nats.NewMsg(fact.RejectedSubject("edu"))
				m.Header.Set(fact.HeaderIntakeSeq, strconv.FormatUint(en.seq, 10))
				if en.stream != "" {
					m.Header.Set(fact.HeaderIntakeStream, en.stream)
				}
				if en.positions != "" {
					m.Header.Set(fact.HeaderIntakePositions, en.positions)
				}
				m.Data = []byte("{}")
				if _, err := js.PublishMsg(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			last, got, err := resumePoint(ctx, logs)
			if err != nil {
				t.Fatal(err)
			}
			if last != uint64(len(tc.entries)) || got.String() != tc.want.String() {
				t.Errorf("resume at log %d with %q; want %d with %q", last, got, len(tc.entries), tc.want)
			}
		})
	}
	if _, err := parsePositions("ANZHI_INTAKE=x"); err == nil {
		t.Error("a malformed position record was read")
	}
}
