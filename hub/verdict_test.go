package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/schemas"
)

// askVerdicts asks the hub's verdict service about seqs.
func askVerdicts(t *testing.T, nc *nats.Conn, wait time.Duration, seqs ...uint64) []fact.IntakeVerdict {
	t.Helper()
	body, err := json.Marshal(fact.VerdictRequest{Source: "/xianyang/edu", IntakeSeqs: seqs, WaitMillis: wait.Milliseconds()})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := nc.Request(fact.VerdictSubject, body, wait+30*time.Second)
	if err != nil {
		t.Fatalf("verdict request: %v", err)
	}
	var r fact.VerdictReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		t.Fatalf("verdict reply %s: %v", msg.Data, err)
	}
	if r.Error != "" || len(r.Verdicts) != len(seqs) {
		t.Fatalf("verdict reply for %v: %+v", seqs, r)
	}
	return r.Verdicts
}

// publishRaw publishes a structured CloudEvent to the intake without a
// Nats-Msg-Id, so that JetStream never drops it as a duplicate.
func publishRaw(t *testing.T, js jetstream.JetStream, subject string, event any) uint64 {
	t.Helper()
	msg := nats.NewMsg(subject)
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Data = jsonOf(t, event)
	ack, err := js.PublishMsg(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// logSeqOf finds the log entry that judged intake sequence seq: a
// department's fact or a rejection (the hub's own events name the last
// intake sequence judged before them).
func logSeqOf(t *testing.T, js jetstream.JetStream, seq uint64) (uint64, string) {
	t.Helper()
	for _, m := range logged(t, js, ">") {
		own := strings.HasPrefix(m.Subject, fact.FactSubjectPrefix+"warning.") || strings.HasPrefix(m.Subject, fact.FactSubjectPrefix+"hub.")
		if !own && m.Header.Get(fact.HeaderIntakeSeq) == strconv.FormatUint(seq, 10) {
			return m.Seq, m.Subject
		}
	}
	t.Fatalf("no log entry judged intake %d", seq)
	return 0, ""
}

// TestVerdictService asks the hub's verdict on an accepted fact, a refused
// one, an id conflict, a repeat, messages that do not exist, and all of them
// again after a restart.
func TestVerdictService(t *testing.T) {
	dir := t.TempDir()
	h, nc, js := ingestHub(t, dir, nil)
	const subject = "edu.enrolment.610424"

	accepted := publishRaw(t, js, subject, enrolmentEvent("e-1"))
	repeat := publishRaw(t, js, subject, enrolmentEvent("e-1"))
	bad := enrolmentEvent("e-2")
	bad["data"].(map[string]any)["level"] = "university"
	refused := publishRaw(t, js, subject, bad)
	other := enrolmentEvent("e-1")
	other["data"].(map[string]any)["level"] = "junior"
	conflict := publishRaw(t, js, subject, other)
	lastRepeat := publishRaw(t, js, subject, enrolmentEvent("e-1"))
	asked := []uint64{accepted, refused, conflict, repeat, lastRepeat, lastRepeat + 1000, 0}

	vs := askVerdicts(t, nc, 30*time.Second, asked...)
	acceptedAt, factSubject := logSeqOf(t, js, accepted)
	if factSubject != fact.FactSubjectPrefix+subject {
		t.Fatalf("intake %d logged on %s", accepted, factSubject)
	}
	refusedAt, _ := logSeqOf(t, js, refused)
	conflictAt, _ := logSeqOf(t, js, conflict)
	check := func(when string, vs []fact.IntakeVerdict, repeatAt uint64) {
		t.Helper()
		want := []struct {
			status fact.VerdictStatus
			logSeq uint64
			reason schemas.Reason
		}{
			{fact.VerdictAccepted, acceptedAt, ""},
			{fact.VerdictRefused, refusedAt, schemas.ReasonSchema},
			{fact.VerdictRefused, conflictAt, schemas.ReasonConflict},
			{fact.VerdictDuplicate, repeatAt, ""},
			{fact.VerdictDuplicate, acceptedAt, ""},
			{fact.VerdictUnknown, 0, ""},
			{fact.VerdictUnknown, 0, ""},
		}
		for i, w := range want {
			v := vs[i]
			if v.Status != w.status || v.LogSeq != w.logSeq {
				t.Errorf("%s: verdict %d: %+v, want %s at log seq %d", when, i, v, w.status, w.logSeq)
			}
			if w.reason != "" && (len(v.Reasons) == 0 || v.Reasons[0].Reason != w.reason) {
				t.Errorf("%s: verdict %d: reasons %+v, want %s", when, i, v.Reasons, w.reason)
			}
			if w.status == fact.VerdictUnknown && v.Note == "" {
				t.Errorf("%s: unknown verdict %d says not why", when, i)
			}
		}
	}
	check("live", vs, acceptedAt)

	// Judged before a restart, purged from the intake since: still known
	// (the repeat only as a repeat, its original no longer linked). The
	// last repeat has no log entry after it, so the intake keeps it and
	// the hub judges it again.
	waitIdle(t, h)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	_, nc2, _ := ingestHub(t, dir, func(c *hub.Config) { c.SnapshotEvery = -1 })
	check("after a restart", askVerdicts(t, nc2, 30*time.Second, asked...), 0)
}

// TestVerdictBatch asks about many messages at once, before the hub has
// judged them all.
func TestVerdictBatch(t *testing.T) {
	_, nc, js := ingestHub(t, t.TempDir(), nil)
	const n = 500
	seqs := make([]uint64, 0, n)
	for i := range n {
		ev := enrolmentEvent(fmt.Sprintf("b-%d", i))
		if i%10 == 0 {
			ev["data"].(map[string]any)["level"] = "university"
		}
		seqs = append(seqs, publishRaw(t, js, "edu.enrolment.610424", ev))
	}
	vs := askVerdicts(t, nc, 60*time.Second, seqs...)
	seen := map[uint64]bool{}
	for i, v := range vs {
		want := fact.VerdictAccepted
		if i%10 == 0 {
			want = fact.VerdictRefused
		}
		if v.IntakeSeq != seqs[i] || v.Status != want || v.LogSeq == 0 || seen[v.LogSeq] {
			t.Fatalf("verdict %d: %+v, want %s at a log seq of its own", i, v, want)
		}
		seen[v.LogSeq] = true
	}
}

// TestVerdictRequestErrors: a bad request gets an error naming the problem.
func TestVerdictRequestErrors(t *testing.T) {
	_, nc, _ := ingestHub(t, t.TempDir(), nil)
	for _, tc := range []struct{ name, body string }{
		{"not JSON", "seq 1"},
		{"no seqs", `{"intake_seqs": []}`},
		{"negative wait", `{"intake_seqs": [1], "wait_ms": -1}`},
		{"too many", fmt.Sprintf(`{"intake_seqs": [%s1]}`, repeatString("1,", fact.MaxVerdictSeqs))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := nc.Request(fact.VerdictSubject, []byte(tc.body), 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var r fact.VerdictReply
			if err := json.Unmarshal(msg.Data, &r); err != nil || r.Error == "" || r.Verdicts != nil {
				t.Fatalf("reply %s (%v), want an error", msg.Data, err)
			}
		})
	}
}

func repeatString(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// TestVerdictServiceIsTheHubs: a department cannot answer verdict requests
// in the hub's place.
func TestVerdictServiceIsTheHubs(t *testing.T) {
	h, _, _ := ingestHub(t, t.TempDir(), nil)
	errs := make(chan error, 1)
	nc, err := nats.Connect(h.ClientURL(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe(fact.VerdictSubject, func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if err == nil {
			t.Fatal("no error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a department subscribed to the hub's verdict service")
	}
}
