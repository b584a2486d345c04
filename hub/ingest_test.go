package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

// ingestHub starts a hub on a random port in dir and a client connection.
func ingestHub(t *testing.T, dir string, edit func(*hub.Config)) (*hub.Hub, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	cfg := hub.Config{DataDir: dir, PurgeEvery: 50 * time.Millisecond, TickEvery: -1}
	if edit != nil {
		edit(&cfg)
	}
	return hubtest.Start(t, cfg)
}

func waitIdle(t testing.TB, h *hub.Hub) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// logged reads every entry of the canonical log matching filter.
func logged(t *testing.T, js jetstream.JetStream, filter string) []hubtest.Msg {
	t.Helper()
	return hubtest.Read(t, js, fact.LogStream, filter)
}

const testPersonKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func enrolmentData(person string) map[string]any {
	return map[string]any{
		"person_key": person, "household_id": "H610424-000123", "action": "enrolled",
		"school_id": "SC610424-001", "level": "primary", "effective_on": "2020-09-01",
	}
}

func enrolmentEvent(id string) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "/xianyang/edu", "type": "anzhi.edu.enrolment.v1",
		"subject": testPersonKey, "time": "2020-09-01T00:00:00Z", "data": enrolmentData(testPersonKey),
	}
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRejectionReasons publishes one bad message per reason through a real
// embedded server and checks the ledger entry and the department's notice.
func TestRejectionReasons(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), func(c *hub.Config) { c.MaxEventBytes = 8 << 10 })
	notices, err := nc.SubscribeSync(fact.RejectedSubjectPrefix + ">")
	if err != nil {
		t.Fatal(err)
	}
	ev := func(edit func(map[string]any)) []byte {
		e := enrolmentEvent("x")
		edit(e)
		return jsonOf(t, e)
	}
	cases := []struct {
		name    string
		subject string
		body    []byte
		dept    string // department the notice goes to
		reason  schemas.Reason
		pointer string
	}{
		{"malformed JSON", "edu.enrolment.610424", []byte(`{"specversion":"1.0",`), "unknown", schemas.ReasonMalformed, ""},
		{"wrong type of attribute", "edu.enrolment.610424", ev(func(e map[string]any) { e["time"] = 20200901 }), "edu", schemas.ReasonAttribute, "/time"},
		{"unknown type", "edu.enrolment.610424", ev(func(e map[string]any) { e["type"] = "anzhi.edu.exam.v1" }), "edu", schemas.ReasonUnknownType, "/type"},
		{"unknown subject", "edu.exam.610424", ev(func(map[string]any) {}), "edu", schemas.ReasonUnknownType, "subject:edu.exam.610424"},
		{"bad county token", "edu.enrolment.999999", ev(func(map[string]any) {}), "edu", schemas.ReasonCounty, "subject:edu.enrolment.999999"},
		{"schema violation", "edu.enrolment.610424", ev(func(e map[string]any) { e["data"].(map[string]any)["level"] = "university" }), "edu", schemas.ReasonSchema, "/data/level"},
		{"posing as another department", "edu.enrolment.610424", ev(func(e map[string]any) { e["source"] = "/xianyang/civil" }), "civil", schemas.ReasonNotAllowed, "/source"},
		{"county government outside its county", "registry.person.610402", jsonOf(t, map[string]any{
			"specversion": "1.0", "id": "p", "source": "/xianyang/county/610424", "type": "anzhi.registry.person.v1",
			"subject": testPersonKey, "time": "2020-01-01T00:00:00Z", "data": map[string]any{
				"person_key": testPersonKey, "household_id": "H610402-000001", "birth_year": 1980, "sex": "female", "labour_capacity": "full"},
		}), "county/610424", schemas.ReasonNotAllowed, "/source"},
		{"unknown source", "edu.enrolment.610424", ev(func(e map[string]any) { e["source"] = "/xianyang/bank" }), "unknown", schemas.ReasonSource, "/source"},
		{"raw ID number", "edu.enrolment.610424", ev(func(e map[string]any) { e["data"].(map[string]any)["note"] = "身份证610424198503151234" }), "edu", schemas.ReasonIDNumber, "/data/note"},
		{"oversized", "edu.enrolment.610424", ev(func(e map[string]any) { e["data"].(map[string]any)["note"] = strings.Repeat("x", 9000) }), "edu", schemas.ReasonTooLarge, ""},
	}
	ctx := context.Background()
	for _, c := range cases {
		if _, err := js.Publish(ctx, c.subject, c.body); err != nil {
			t.Fatalf("%s: publish: %v", c.name, err)
		}
	}
	// A valid fact after all of them: bad input never blocks the stream.
	if _, err := js.Publish(ctx, "edu.enrolment.610424", jsonOf(t, enrolmentEvent("good-1"))); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)

	rs, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rs), len(cases); got != want {
		t.Fatalf("%d rejections, want %d", got, want)
	}
	for i, c := range cases {
		r := rs[i]
		if got, want := r.IntakeSeq, uint64(i+1); got != want {
			t.Errorf("%s: intake seq %d, want %d", c.name, got, want)
		}
		if got, want := r.Department, c.dept; got != want {
			t.Errorf("%s: department %q, want %q", c.name, got, want)
		}
		found := false
		for _, v := range r.Violations {
			if v.Reason == c.reason && v.Pointer == c.pointer {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: violations %v lack %s at %q", c.name, r.Violations, c.reason, c.pointer)
		}
		msg, err := notices.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("%s: no notice: %v", c.name, err)
		}
		if got, want := msg.Subject, fact.RejectedSubject(c.dept); got != want {
			t.Errorf("%s: notice on %s, want %s", c.name, got, want)
		}
	}
	if got := logged(t, js, fact.FactSubjectPrefix+">"); len(got) != 1 {
		t.Errorf("%d facts accepted, want 1", len(got))
	}
	// The department's own ledger is filterable.
	mine, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{Department: "county/610424"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 1 || mine[0].Subject != "registry.person.610402" {
		t.Errorf("county/610424 ledger = %+v", mine)
	}
}

// TestAcceptedFactKeepsBytes checks the log entry of an accepted fact.
func TestAcceptedFactKeepsBytes(t *testing.T) {
	h, _, js := ingestHub(t, t.TempDir(), nil)
	body := jsonOf(t, enrolmentEvent("keep-1"))
	msg := nats.NewMsg("edu.enrolment.610424")
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Header.Set("Nats-Msg-Id", "keep-1")
	msg.Data = body
	ack, err := js.PublishMsg(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	got := logged(t, js, fact.FactSubjectPrefix+">")
	if len(got) != 1 {
		t.Fatalf("%d facts, want 1", len(got))
	}
	m := got[0]
	if got, want := m.Subject, "anzhi.fact.edu.enrolment.610424"; got != want {
		t.Errorf("subject %s, want %s", got, want)
	}
	if string(m.Data) != string(body) {
		t.Errorf("body changed:\n%s\n%s", m.Data, body)
	}
	if got, want := m.Header.Get(fact.HeaderIntakeSeq), fmt.Sprint(ack.Sequence); got != want {
		t.Errorf("%s = %q, want %q", fact.HeaderIntakeSeq, got, want)
	}
	if m.Header.Get("Nats-Msg-Id") != "" {
		t.Error("JetStream control headers copied into the log")
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Header.Get(fact.HeaderReceived)); err != nil {
		t.Errorf("%s: %v", fact.HeaderReceived, err)
	}
}

func enrolmentFact(person string) publishers.Fact {
	return publishers.Fact{Family: "edu.enrolment", Time: time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC), Data: enrolmentData(person)}
}

func personKey(i int) string { return fmt.Sprintf("%064x", i+1) }

// TestRepublishIsNoOp republishes the same id inside and outside the
// JetStream duplicate window, and the same id with other content.
func TestRepublishIsNoOp(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), func(c *hub.Config) { c.DuplicateWindow = time.Second })
	ctx := context.Background()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	f := enrolmentFact(testPersonKey)
	first, err := p.Publish(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Publish(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Seq != first.Seq {
		t.Errorf("inside the window: %+v, want a duplicate of %+v", again, first)
	}
	time.Sleep(1500 * time.Millisecond) // past the duplicate window
	late, err := p.Publish(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if late.Duplicate {
		t.Fatalf("outside the window JetStream still saw a duplicate: %+v", late)
	}
	// Binary mode, same fact: still the same fact.
	pb, err := publishers.New(nc, "edu", publishers.WithBinaryMode())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := pb.Publish(ctx, f); err != nil {
		t.Fatal(err)
	}
	// Same id, different content: refused as a conflict.
	changed := f
	changed.ID = first.ID
	d := enrolmentData(testPersonKey)
	d["level"] = "junior"
	changed.Data = d
	time.Sleep(1100 * time.Millisecond)
	if _, err := p.Publish(ctx, changed); err != nil {
		t.Fatal(err)
	}
	wantOneFactOneConflict(t, h, js, "")
}

// wantOneFactOneConflict waits for the hub, then checks the log holds one
// fact and the ledger one id_conflict whose message contains naming.
func wantOneFactOneConflict(t *testing.T, h *hub.Hub, js jetstream.JetStream, naming string) {
	t.Helper()
	waitIdle(t, h)
	if got := logged(t, js, fact.FactSubjectPrefix+">"); len(got) != 1 {
		t.Errorf("%d facts in the log, want 1", len(got))
	}
	rs, _, err := subscribers.Rejections(context.Background(), js, subscribers.RejectionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Violations[0].Reason != schemas.ReasonConflict || !strings.Contains(rs[0].Violations[0].Message, naming) {
		t.Errorf("rejections = %+v, want one id_conflict naming %q", rs, naming)
	}
}

// TestRestartKeepsAcceptedFacts restarts the hub on the same directory.
func TestRestartKeepsAcceptedFacts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const n = 500
	var ids []string
	func() {
		h, nc, _ := ingestHub(t, dir, nil)
		p, err := publishers.New(nc, "edu")
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.NewBatch(ctx, publishers.BatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if _, err := b.Add(enrolmentFact(personKey(i))); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := b.Wait()
		if err != nil || sum.Published != n {
			t.Fatalf("batch: %+v, %v", sum, err)
		}
		waitIdle(t, h)
		h.Close()
	}()
	h, nc, js := ingestHub(t, dir, func(c *hub.Config) { c.DuplicateWindow = time.Second })
	waitIdle(t, h)
	got := logged(t, js, fact.FactSubjectPrefix+">")
	if len(got) != n {
		t.Fatalf("%d facts after restart, want %d", len(got), n)
	}
	for _, m := range got {
		ids = append(ids, m.Header.Get(fact.HeaderKey))
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != n {
		t.Error("duplicate keys in the log")
	}
	// The restarted hub still knows every accepted id.
	time.Sleep(1100 * time.Millisecond)
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := p.Publish(ctx, enrolmentFact(personKey(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, h)
	if got := logged(t, js, fact.FactSubjectPrefix+">"); len(got) != n {
		t.Errorf("%d facts after republishing, want %d", len(got), n)
	}
}

// TestPublisherRefusesLocally checks that an invalid fact is never sent.
func TestPublisherRefusesLocally(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), nil)
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	d := enrolmentData(testPersonKey)
	d["level"] = "university"
	delete(d, "school_id")
	_, err = p.Publish(context.Background(), publishers.Fact{Family: "edu.enrolment", Time: time.Now(), Data: d})
	var ve *fact.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 2 {
		t.Fatalf("err = %v, want a ValidationError with 2 violations", err)
	}
	waitIdle(t, h)
	st, err := h.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.IntakeLast != 0 {
		t.Errorf("intake holds %d messages, want none", st.IntakeLast)
	}
	_ = js
}

// TestSameFactWrittenDifferently: the same fact sent again with its values
// written another way — a time extension in UTC instead of with its offset
// (as the CloudEvents SDK writes it in binary mode), 3.0 for 3 — is the
// same fact, not an id_conflict; a real difference is refused, naming it.
func TestSameFactWrittenDifferently(t *testing.T) {
	h, nc, js := ingestHub(t, t.TempDir(), nil)
	ctx := context.Background()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := publishers.New(nc, "edu", publishers.WithBinaryMode())
	if err != nil {
		t.Fatal(err)
	}
	f := enrolmentFact(testPersonKey)
	f.ID = "enrol-written-twice"
	d := enrolmentData(testPersonKey)
	d["grade"] = 3
	f.Data = d
	f.Extensions = map[string]string{"recordedat": "2024-05-01T09:30:00.000000005+08:00"}
	if _, err := p.Publish(ctx, f); err != nil {
		t.Fatal(err)
	}
	again := f
	d2 := enrolmentData(testPersonKey)
	d2["grade"] = json.Number("3.0")
	again.Data = d2
	again.Extensions = map[string]string{"recordedat": "2024-05-01T01:30:00.000000005Z"}
	if _, err := pb.Publish(ctx, again); err != nil {
		t.Fatal(err)
	}
	changed := f
	d3 := enrolmentData(testPersonKey)
	d3["level"] = "junior"
	d3["grade"] = 8
	changed.Data = d3
	if _, err := p.Publish(ctx, changed); err != nil {
		t.Fatal(err)
	}
	wantOneFactOneConflict(t, h, js, "/data/grade differs")
}
