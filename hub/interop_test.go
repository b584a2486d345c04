package hub_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cenats "github.com/cloudevents/sdk-go/protocol/nats/v2"
	cejsm "github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/client"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

// Interop tests: CloudEvents sent by other clients — sdk-go's NATS and
// JetStream bindings, and plain nats.go in both modes — go through a real
// embedded hub and come out in the canonical log with their bytes intact.

const (
	ioSubject   = "edu.enrolment.610424"
	ioFactSubj  = "anzhi.fact.edu.enrolment.610424"
	ioType      = "anzhi.edu.enrolment.v1"
	ioSchemaURI = "https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json"
	ioPersonKey = "d5e3e0747a8fa38981c49ec12c252ed0bff420e203115b7e1fae871f43feed34" // of enrolled_primary.json
)

var ioTime = time.Date(2020, 9, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

// ioData is the fixture enrolled_primary.json as it is on disk.
func ioData(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "schemas", "testdata", "valid", "edu.enrolment", "enrolled_primary.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ioHub starts a hub on a random port in a temporary directory and returns
// it with a client connection.
func ioHub(t *testing.T, cfg hub.Config) (context.Context, *hub.Hub, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	t.Cleanup(cancel)
	if cfg.TickEvery == 0 {
		cfg.TickEvery = -1 // only the facts under test go to the log
	}
	h, nc, js := hubtest.Start(t, cfg)
	return ctx, h, nc, js
}

// ioWait waits until the intake has received n messages in all (core NATS
// publishes are not acknowledged) and the hub has judged them.
func ioWait(ctx context.Context, t testing.TB, h *hub.Hub, js jetstream.JetStream, n uint64) {
	t.Helper()
	s, err := js.Stream(ctx, fact.IntakeStream)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.LastSeq >= n {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the intake holds %d messages, want %d", info.State.LastSeq, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func ioRejections(ctx context.Context, t testing.TB, js jetstream.JetStream) []subscribers.LoggedRejection {
	t.Helper()
	rs, _, err := subscribers.Rejections(ctx, js, subscribers.RejectionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// ioCapture subscribes (core NATS, on its own connection) to what clients
// publish, to see the exact message on the wire.
func ioCapture(t *testing.T, h *hub.Hub) *nats.Subscription {
	t.Helper()
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync("edu.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return sub
}

// ioSDKEvent builds the edu.enrolment event with sdk-go.
func ioSDKEvent(t testing.TB, id, source string) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetSource(source)
	e.SetType(ioType)
	e.SetSubject(ioPersonKey)
	e.SetTime(ioTime)
	e.SetDataSchema(ioSchemaURI)
	e.SetExtension("batch", "2020q3")
	// A map, not []byte: sdk-go sends []byte data as data_base64 in
	// structured mode (see TestInteropSDKBytesData).
	var data map[string]any
	if err := json.Unmarshal(ioData(t), &data); err != nil {
		t.Fatal(err)
	}
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	return e
}

// ioStructured is the edu.enrolment event in structured mode, written by hand.
func ioStructured(t testing.TB, id, source string) []byte {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(ioData(t), &data); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": source, "type": ioType, "subject": ioPersonKey,
		"time": ioTime.Format(time.RFC3339), "datacontenttype": "application/json", "dataschema": ioSchemaURI, "batch": "2020q3", "data": data,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ioBinary is the edu.enrolment event in binary mode; names maps each
// attribute to the header carrying it (its case, and content-type or
// ce-datacontenttype).
func ioBinary(t testing.TB, id, source string, names map[string]string) *nats.Msg {
	t.Helper()
	m := nats.NewMsg(ioSubject)
	for attr, val := range map[string]string{
		"specversion": "1.0", "id": id, "source": source, "type": ioType, "subject": ioPersonKey,
		"time": ioTime.Format(time.RFC3339), "datacontenttype": "application/json", "dataschema": ioSchemaURI, "batch": "2020q3",
	} {
		name, ok := names[attr]
		if !ok {
			name = "ce-" + attr
		}
		if name == "" {
			continue
		}
		m.Header[name] = []string{val}
	}
	m.Data = ioData(t)
	return m
}

func ioSDKSend(ctx context.Context, t testing.TB, sender any, e cloudevents.Event) {
	t.Helper()
	c, err := client.New(sender)
	if err != nil {
		t.Fatal(err)
	}
	if res := c.Send(ctx, e); !cloudevents.IsACK(res) {
		t.Fatalf("sdk-go send: %v", res)
	}
}

type ioCase struct {
	name string
	mode fact.Mode
	// send publishes one message on ioSubject; it returns how to read the
	// stored message back as an sdk-go event (nil: do not try).
	send func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) (sdkRead func(hubtest.Msg) (*cloudevents.Event, error))
}

func ioSDKStructured(m hubtest.Msg) (*cloudevents.Event, error) {
	e := cloudevents.NewEvent()
	if err := json.Unmarshal(m.Data, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

func ioSDKBinary(m hubtest.Msg) (*cloudevents.Event, error) {
	return binding.ToEvent(context.Background(), cejsm.NewMessage(&nats.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data}))
}

var ioCases = []ioCase{
	{
		name: "sdk-go nats binding (structured, core publish)", mode: fact.Structured,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			s, err := cenats.NewSenderFromConn(nc, ioSubject)
			if err != nil {
				t.Fatal(err)
			}
			ioSDKSend(ctx, t, s, ioSDKEvent(t, id, source))
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			return ioSDKStructured
		},
	},
	{
		name: "sdk-go jetstream binding, binary (default)", mode: fact.Binary,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			s, err := cejsm.NewSenderFromConn(nc, fact.IntakeStream, ioSubject, nil)
			if err != nil {
				t.Fatal(err)
			}
			ioSDKSend(ctx, t, s, ioSDKEvent(t, id, source))
			return ioSDKBinary
		},
	},
	{
		name: "sdk-go jetstream binding, forced binary", mode: fact.Binary,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			s, err := cejsm.NewSenderFromConn(nc, fact.IntakeStream, ioSubject, nil)
			if err != nil {
				t.Fatal(err)
			}
			ioSDKSend(binding.WithForceBinary(ctx), t, s, ioSDKEvent(t, id, source))
			return ioSDKBinary
		},
	},
	{
		name: "sdk-go jetstream binding, forced structured", mode: fact.Structured,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			s, err := cejsm.NewSenderFromConn(nc, fact.IntakeStream, ioSubject, nil)
			if err != nil {
				t.Fatal(err)
			}
			ioSDKSend(binding.WithForceStructured(ctx), t, s, ioSDKEvent(t, id, source))
			return ioSDKStructured
		},
	},
	{
		name: "nats.go jetstream, structured without headers", mode: fact.Structured,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			if _, err := js.Publish(ctx, ioSubject, ioStructured(t, id, source)); err != nil {
				t.Fatal(err)
			}
			return ioSDKStructured
		},
	},
	{
		name: "nats.go jetstream, structured with content type and msg id", mode: fact.Structured,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			m := nats.NewMsg(ioSubject)
			m.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
			m.Data = ioStructured(t, id, source)
			if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id)); err != nil {
				t.Fatal(err)
			}
			return ioSDKStructured
		},
	},
	{
		name: "nats.go binary, ce-datacontenttype (sdk-go sender convention)", mode: fact.Binary,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			if _, err := js.PublishMsg(ctx, ioBinary(t, id, source, nil)); err != nil {
				t.Fatal(err)
			}
			return ioSDKBinary
		},
	},
	{
		name: "nats.go binary, content-type (sdk-go receiver convention, issue 1334)", mode: fact.Binary,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			if _, err := js.PublishMsg(ctx, ioBinary(t, id, source, map[string]string{"datacontenttype": "content-type"})); err != nil {
				t.Fatal(err)
			}
			return ioSDKBinary
		},
	},
	{
		name: "nats.go binary, mixed-case header names", mode: fact.Binary,
		send: func(ctx context.Context, t *testing.T, nc *nats.Conn, js jetstream.JetStream, id, source string) func(hubtest.Msg) (*cloudevents.Event, error) {
			m := ioBinary(t, id, source, map[string]string{
				"specversion": "Ce-Specversion", "id": "Ce-Id", "source": "CE-SOURCE", "type": "Ce-Type",
				"subject": "ce-Subject", "time": "Ce-Time", "datacontenttype": "Content-Type", "dataschema": "Ce-DataSchema",
				"batch": "Ce-Batch",
			})
			m.Header["Content-Type"] = []string{"application/json; charset=utf-8"}
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
			return nil // sdk-go reads ce- headers case-sensitively
		},
	},
}

func TestInterop(t *testing.T) {
	for i, tc := range ioCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, h, nc, js := ioHub(t, hub.Config{})
			capture := ioCapture(t, h)
			id := "interop-" + strconv.Itoa(i)
			sdkRead := tc.send(ctx, t, nc, js, id, "/xianyang/edu")
			wire, err := capture.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("nothing published on %s: %v", ioSubject, err)
			}
			t.Logf("on the wire: headers %v\nbody %s", wire.Header, wire.Data)
			ioWait(ctx, t, h, js, 1)

			if rs := ioRejections(ctx, t, js); len(rs) != 0 {
				b, _ := json.MarshalIndent(rs, "", "  ")
				t.Fatalf("%d rejection(s), want none:\n%s", len(rs), b)
			}
			facts := logged(t, js, fact.FactSubjectPrefix+">")
			if len(facts) != 1 {
				t.Fatalf("%d facts in the log, want 1", len(facts))
			}
			got := facts[0]
			if got.Subject != ioFactSubj {
				t.Errorf("fact on %q, want %q", got.Subject, ioFactSubj)
			}
			if string(got.Data) != string(wire.Data) {
				t.Errorf("body changed:\nsent   %s\nstored %s", wire.Data, got.Data)
			}
			for k, vs := range wire.Header {
				if strings.HasPrefix(strings.ToLower(k), "nats-") {
					if _, kept := got.Header[k]; kept {
						t.Errorf("JetStream header %s was copied into the log", k)
					}
					continue
				}
				if !slices.Equal(got.Header[k], vs) {
					t.Errorf("header %s: stored %q, sent %q", k, got.Header[k], vs)
				}
			}
			for k := range got.Header {
				if _, sent := wire.Header[k]; !sent && !strings.HasPrefix(k, "Anzhi-") {
					t.Logf("the log entry has an extra header %s: %q", k, got.Header[k])
					if !strings.HasPrefix(k, "Nats-") {
						t.Errorf("unexpected header %s in the log entry", k)
					}
				}
			}
			if s := got.Header.Get(fact.HeaderIntakeSeq); s != "1" {
				t.Errorf("%s = %q, want 1", fact.HeaderIntakeSeq, s)
			}
			if _, err := time.Parse(time.RFC3339Nano, got.Header.Get(fact.HeaderReceived)); err != nil {
				t.Errorf("%s: %v", fact.HeaderReceived, err)
			}
			if k := got.Header.Get(fact.HeaderKey); k != strconv.FormatUint(fact.Key("/xianyang/edu", id), 16) {
				t.Errorf("%s = %q, want the key of /xianyang/edu %s", fact.HeaderKey, k, id)
			}
			// The stored fact reads back as the same event, with the
			// contract's decoder and with sdk-go's.
			vd := fact.NewValidator(schemas.MustLoad(), 0).Check(fact.Message{
				Subject: strings.TrimPrefix(got.Subject, fact.FactSubjectPrefix), Header: got.Header, Data: got.Data})
			if !vd.OK() || vd.Event.Mode != tc.mode || vd.Event.ID != id || vd.Event.Extensions["batch"] != "2020q3" {
				t.Errorf("stored fact reads as mode %v id %q extensions %v, violations %v; want %v %q", vd.Event.Mode, vd.Event.ID, vd.Event.Extensions, vd.Violations, tc.mode, id)
			}
			if sdkRead != nil {
				e, err := sdkRead(got)
				if err != nil {
					t.Fatalf("sdk-go cannot read the stored fact: %v", err)
				}
				if e.ID() != id || e.Source() != "/xianyang/edu" || e.Type() != ioType || e.Subject() != ioPersonKey || !e.Time().Equal(ioTime) {
					t.Errorf("sdk-go reads the stored fact as %s", e)
				}
				var a, b any
				if err := json.Unmarshal(e.Data(), &a); err != nil {
					t.Errorf("sdk-go reads data %q: %v", e.Data(), err)
				}
				_ = json.Unmarshal(ioData(t), &b)
				if !jsonEqual(a, b) {
					t.Errorf("sdk-go reads data %s", e.Data())
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestInteropNotAllowed sends, with every binding, an event whose source
// (the DRC) may not publish edu.enrolment: it is refused as not_allowed,
// and the rejection keeps the message.
func TestInteropNotAllowed(t *testing.T) {
	for i, tc := range ioCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, h, nc, js := ioHub(t, hub.Config{})
			capture := ioCapture(t, h)
			id := "not-allowed-" + strconv.Itoa(i)
			tc.send(ctx, t, nc, js, id, "/xianyang/drc")
			wire, err := capture.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatalf("nothing published on %s: %v", ioSubject, err)
			}
			ioWait(ctx, t, h, js, 1)
			if facts := logged(t, js, fact.FactSubjectPrefix+">"); len(facts) != 0 {
				t.Errorf("%d facts in the log, want none", len(facts))
			}
			rs := ioRejections(ctx, t, js)
			if len(rs) != 1 {
				t.Fatalf("%d rejections, want 1", len(rs))
			}
			r := rs[0]
			b, _ := json.MarshalIndent(r, "", "  ")
			t.Logf("rejection:\n%s", b)
			reasons := make([]schemas.Reason, len(r.Violations))
			for i, v := range r.Violations {
				reasons[i] = v.Reason
			}
			if !slices.Equal(reasons, []schemas.Reason{schemas.ReasonNotAllowed}) {
				t.Errorf("reasons %v, want [%s]", reasons, schemas.ReasonNotAllowed)
			}
			if r.Department != "drc" || r.Subject != ioSubject || r.ID != id || r.Source != "/xianyang/drc" ||
				r.Type != ioType || r.Mode != tc.mode.String() || r.IntakeSeq != 1 || r.Redacted || r.IDNumbers != 0 {
				t.Errorf("rejection %+v", r.Rejection)
			}
			if r.Body != string(wire.Data) {
				t.Errorf("rejection body %q, sent %q", r.Body, wire.Data)
			}
			if sum := sha256.Sum256(wire.Data); r.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("rejection sha256 %s is not the body's", r.SHA256)
			}
			for k, vs := range wire.Header {
				if !slices.Equal(r.Header[k], vs) {
					t.Errorf("rejection header %s = %q, sent %q", k, r.Header[k], vs)
				}
			}
			// The ledger entry is on the department's notice subject.
			entries := logged(t, js, fact.RejectedSubjectPrefix+">")
			if len(entries) != 1 || entries[0].Subject != fact.RejectedSubject("drc") {
				subjects := make([]string, len(entries))
				for i, e := range entries {
					subjects[i] = e.Subject
				}
				t.Errorf("ledger entries on %q, want one on %s", subjects, fact.RejectedSubject("drc"))
			}
		})
	}
}

// TestInteropSDKBytesData pins down a pitfall for departments using sdk-go:
// SetData("application/json", []byte) makes sdk-go send data_base64 in
// structured mode, which the contract refuses (clearly), while the same
// event in binary mode carries the bytes as the body and is accepted.
func TestInteropSDKBytesData(t *testing.T) {
	ctx, h, nc, js := ioHub(t, hub.Config{})
	s, err := cejsm.NewSenderFromConn(nc, fact.IntakeStream, ioSubject, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []fact.Mode{fact.Structured, fact.Binary} {
		e := ioSDKEvent(t, "bytes-"+mode.String(), "/xianyang/edu")
		if err := e.SetData(cloudevents.ApplicationJSON, ioData(t)); err != nil {
			t.Fatal(err)
		}
		sctx := binding.WithForceStructured(ctx)
		if mode == fact.Binary {
			sctx = binding.WithForceBinary(ctx)
		}
		ioSDKSend(sctx, t, s, e)
	}
	ioWait(ctx, t, h, js, 2)
	rs := ioRejections(ctx, t, js)
	if len(rs) != 1 || rs[0].ID != "bytes-structured" || len(rs[0].Violations) == 0 ||
		rs[0].Violations[0].Reason != schemas.ReasonMalformed || rs[0].Violations[0].Pointer != "/data_base64" {
		b, _ := json.MarshalIndent(rs, "", "  ")
		t.Errorf("want one rejection of bytes-structured, malformed at /data_base64; got\n%s", b)
	}
	facts := logged(t, js, fact.FactSubjectPrefix+">")
	if len(facts) != 1 || string(facts[0].Data) != string(ioData(t)) {
		t.Errorf("want the binary-mode event accepted with the fixture's bytes as body, got %d facts", len(facts))
	}
}

// TestInteropHubHeadersNotSpoofed: a publisher cannot put its own values of
// the hub's headers (Anzhi-Intake-Seq, Anzhi-Received, Anzhi-Key) into the
// log, in any letter case.
func TestInteropHubHeadersNotSpoofed(t *testing.T) {
	ctx, h, _, js := ioHub(t, hub.Config{})
	m := ioBinary(t, "spoof", "/xianyang/edu", nil)
	m.Header["Anzhi-Intake-Seq"] = []string{"999"}
	m.Header["anzhi-received"] = []string{"1999-01-01T00:00:00Z"}
	m.Header["ANZHI-KEY"] = []string{"deadbeef"}
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	ioWait(ctx, t, h, js, 1)
	facts := logged(t, js, fact.FactSubjectPrefix+">")
	rs := ioRejections(ctx, t, js)
	if len(facts) == 0 {
		if len(rs) != 1 {
			t.Fatalf("%d facts and %d rejections", len(facts), len(rs))
		}
		return // refusing such a message is fine too
	}
	for k, vs := range facts[0].Header {
		for _, hk := range []string{fact.HeaderIntakeSeq, fact.HeaderReceived, fact.HeaderKey} {
			if strings.EqualFold(k, hk) && (k != hk || len(vs) != 1) {
				t.Errorf("the log entry carries %s: %q besides the hub's %s: %q", k, vs, hk, facts[0].Header[hk])
			}
		}
	}
	if got := facts[0].Header.Values(fact.HeaderIntakeSeq); !slices.Equal(got, []string{"1"}) {
		t.Errorf("%s = %q, want [1]", fact.HeaderIntakeSeq, got)
	}
}
