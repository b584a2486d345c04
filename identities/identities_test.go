package identities_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// world is a hub with identities on, and a way to connect as any of them.
type world struct {
	t       *testing.T
	h       *hub.Hub
	ids     *identities.Set
	js      jetstream.JetStream // the hub's own identity, to look at what it stored
	dataDir string
}

func newWorld(t *testing.T) *world { return startWorld(t, hub.Config{}) }

// startWorld makes identities and starts a hub with them, configured by cfg
// otherwise (no automatic clock ticks).
func startWorld(t *testing.T, cfg hub.Config) *world {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "identities")
	if _, err := identities.Init(dir, schemas.MustLoad()); err != nil {
		t.Fatal(err)
	}
	ids, err := identities.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ids: ids, dataDir: t.TempDir()}
	w.start(cfg)
	return w
}

// start starts a hub on w's data and identities.
func (w *world) start(cfg hub.Config) {
	w.t.Helper()
	cfg.DataDir, cfg.Identities, cfg.TickEvery = w.dataDir, w.ids, -1
	w.h, _, w.js = hubtest.Start(w.t, cfg)
}

// restart closes w's hub and starts another on the same data, identities
// and port.
func (w *world) restart(cfg hub.Config) {
	w.t.Helper()
	listen := strings.TrimPrefix(w.h.ClientURL(), "nats://")
	_ = w.h.Close()
	cfg.NATSListen = listen
	w.start(cfg)
}

// as connects as the identity name; errs collects the server's
// asynchronous errors (permission violations).
func (w *world) as(name string) (*nats.Conn, jetstream.JetStream, chan error) {
	w.t.Helper()
	opts, err := identities.ClientOptions(w.ids.CredsFile(name))
	if err != nil {
		w.t.Fatal(err)
	}
	errs := make(chan error, 64)
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	nc, err := nats.Connect(w.h.ClientURL(), opts...)
	if err != nil {
		w.t.Fatalf("connect as %s: %v", name, err)
	}
	w.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		w.t.Fatal(err)
	}
	return nc, js, errs
}

func enrolment(id string) publishers.Fact {
	return publishers.Fact{Family: "edu.enrolment", ID: id, Time: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		Data: map[string]any{"person_key": strings.Repeat("ab", 32), "household_id": "H610424-000123", "action": "enrolled",
			"school_id": "SC610424-001", "level": "primary", "effective_on": "2024-09-01"}}
}

// TestDepartmentPublishesOnlyItsOwn: a department's facts reach the log with
// its identity recorded; a family of another department's domain, or a
// county government's fact on another county's token, never reaches the
// hub (the server refuses it: no route exists from that account).
func TestDepartmentPublishesOnlyItsOwn(t *testing.T) {
	w := newWorld(t)
	nc, _, _ := w.as("edu")
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if _, err := p.Publish(ctx, enrolment("enrol-1")); err != nil {
		t.Fatalf("edu publishing its own family: %v", err)
	}
	if err := w.h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	logged := hubtest.Read(t, w.js, fact.LogStream, fact.FactSubjectPrefix+"edu.enrolment.>")
	if len(logged) != 1 || logged[0].Header.Get(fact.HeaderSender) != "edu" {
		t.Fatalf("log holds %d edu.enrolment facts (sender %v), want 1 sent by edu", len(logged), logged)
	}

	for _, tt := range []struct{ who, subject string }{
		{"edu", "police.hukou.610424"},
		{"edu", "registry.household.610424"},
		{"police", "edu.enrolment.610424"},
		{"county-610424", "civil.assistance.610425"},
	} {
		nc, js, errs := w.as(tt.who)
		refused(t, tt.who, "publish on "+tt.subject, errs, func(ctx context.Context) error {
			msg := nats.NewMsg(tt.subject)
			msg.Data = []byte(`{}`)
			_, err := js.PublishMsg(ctx, msg)
			return err
		})
		nc.Close()
	}
	if err := w.h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(hubtest.Read(t, w.js, fact.IntakeStream, ">")); n > 1 {
		t.Errorf("intake holds %d messages, want only edu's one", n)
	}
}

// TestForgedSourceRefused: a department may publish issue.report, as every
// department may, but not as another one: the hub knows who sent it and
// refuses the forged source, filing the rejection under the sender.
func TestForgedSourceRefused(t *testing.T) {
	w := newWorld(t)
	nc, js, _ := w.as("police")
	msg := forgedReport("forged-1")
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatalf("police publishing an issue report: %v", err)
	}
	_ = nc
	if err := w.h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := hubtest.Read(t, w.js, fact.LogStream, fact.FactSubjectPrefix+">"); len(got) != 0 {
		t.Fatalf("a forged fact was accepted: %s", got[0].Data)
	}
	refused := hubtest.Read(t, w.js, fact.LogStream, fact.RejectedSubject("police"))
	if len(refused) != 1 {
		t.Fatalf("police's ledger holds %d rejections, want 1", len(refused))
	}
	var r fact.Rejection
	if err := json.Unmarshal(refused[0].Data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Sender != "police" || len(r.Violations) == 0 || r.Violations[0].Reason != schemas.ReasonSource {
		t.Errorf("rejection: sender %q, violations %+v; want sent by police, refused for its source", r.Sender, r.Violations)
	}
}

// forgedReport is an issue report police may publish, claiming to come
// from edu.
func forgedReport(id string) *nats.Msg {
	data, _ := json.Marshal(map[string]any{"report_id": "r-1", "department": "edu", "kind": "problem",
		"area": "610400", "reported_on": "2024-09-01", "description": "冒名"})
	msg := nats.NewMsg("issue.report.610400")
	msg.Header.Set("Content-Type", fact.ContentType)
	msg.Data = fact.Encode(nil, &fact.Outgoing{ID: id, Source: fact.SourceFor("edu"), Type: fact.TypeFor("issue.report"),
		Subject: "r-1", Time: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		DataSchema: fact.DataSchemaBase + "issue.report.json", Data: data})
	return msg
}

// refused runs op and waits for the server to refuse it: a permissions
// violation, returned by op or reported on errs.
func refused(t *testing.T, who, what string, errs chan error, op func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- op(ctx) }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("%s could %s", who, what)
		} else if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("%s trying to %s: %v, want a permissions violation", who, what, err)
		}
	case e := <-errs:
		if !strings.Contains(e.Error(), "Permissions Violation") {
			t.Errorf("%s trying to %s: %v, want a permissions violation", who, what, e)
		}
	}
	cancel()
	<-done
	for len(errs) > 0 { // the same operation may be refused more than once
		<-errs
	}
}

// TestOnlyTheHubManagesStreams: no identity but the hub may create, update,
// delete or purge a stream or read the intake, and departments may not touch
// JetStream at all; the lead office reads the view, the auditors the log.
func TestOnlyTheHubManagesStreams(t *testing.T) {
	w := newWorld(t)
	for _, who := range []string{"edu", "county-610424", identities.LeadOfficeName, identities.AuditorName} {
		nc, js, errs := w.as(who)
		refused(t, who, "create a stream", errs, func(ctx context.Context) error {
			_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "FORGE", Subjects: []string{"x.>"}})
			return err
		})
		refused(t, who, "add a subject to the log", errs, func(ctx context.Context) error {
			_, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: fact.LogStream, Subjects: []string{"anzhi.fact.>", "x.>"}})
			return err
		})
		refused(t, who, "delete the log", errs, func(ctx context.Context) error { return js.DeleteStream(ctx, fact.LogStream) })
		refused(t, who, "purge the log", errs, func(ctx context.Context) error {
			_, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.PURGE."+fact.LogStream, nil)
			return err
		})
		refused(t, who, "read the intake", errs, func(ctx context.Context) error {
			_, err := js.OrderedConsumer(ctx, fact.IntakeStream, jetstream.OrderedConsumerConfig{})
			return err
		})
		refused(t, who, "read an intake message", errs, func(ctx context.Context) error {
			_, err := nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+fact.IntakeStream, []byte(`{"seq":1}`))
			return err
		})
	}
	for _, who := range []string{"edu", "county-610424"} {
		_, js, errs := w.as(who)
		refused(t, who, "read the view", errs, func(ctx context.Context) error {
			_, err := js.KeyValue(ctx, fact.ViewBucket)
			return err
		})
		refused(t, who, "read the log", errs, func(ctx context.Context) error {
			_, err := js.OrderedConsumer(ctx, fact.LogStream, jetstream.OrderedConsumerConfig{})
			return err
		})
	}
	// The lead office reads the view, not the log; the auditors the log.
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	_, lead, leadErrs := w.as(identities.LeadOfficeName)
	kv, err := lead.KeyValue(ctx, fact.ViewBucket)
	if err != nil {
		t.Fatalf("lead office opening the view: %v", err)
	}
	if _, err := kv.Get(ctx, fact.CityKey); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("lead office reading the city: %v", err)
	}
	refused(t, identities.LeadOfficeName, "read the log", leadErrs, func(ctx context.Context) error {
		_, err := lead.OrderedConsumer(ctx, fact.LogStream, jetstream.OrderedConsumerConfig{})
		return err
	})
	if err := readLog(ctx, lead, fact.RejectedSubjectPrefix+">"); err != nil {
		t.Errorf("lead office reading the rejection ledger: %v", err)
	}
	_, audit, _ := w.as(identities.AuditorName)
	if err := readLog(ctx, audit); err != nil {
		t.Errorf("auditor reading the log: %v", err)
	}
}

// readLog makes a consumer of the log (on filters, when given) and fetches
// from it: any error on the way, the fetch's own included.
func readLog(ctx context.Context, js jetstream.JetStream, filters ...string) error {
	c, err := js.OrderedConsumer(ctx, fact.LogStream, jetstream.OrderedConsumerConfig{FilterSubjects: filters})
	if err != nil {
		return err
	}
	b, err := c.FetchNoWait(1)
	if err != nil {
		return err
	}
	for range b.Messages() {
	}
	return b.Error()
}

// TestAnonymousRefused: with identities on, a client without credentials is
// not let in.
func TestAnonymousRefused(t *testing.T) {
	w := newWorld(t)
	if nc, err := nats.Connect(w.h.ClientURL(), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected")
	}
}

// TestInitFiles: Init writes one .creds per identity, readable by its owner
// only, and refuses to overwrite identities that exist.
func TestInitFiles(t *testing.T) {
	dir := t.TempDir()
	plan, err := identities.Init(dir, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub", "lead-office", "auditor", "edu", "drc", "county-610424"} {
		st, err := os.Stat(filepath.Join(dir, name+".creds"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s.creds mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	if want := 3 + len(schemas.MustLoad().Departments()) + len(schemas.MustLoad().Counties()); len(plan) != want {
		t.Errorf("%d identities, want %d", len(plan), want)
	}
	if _, err := identities.Init(dir, schemas.MustLoad()); !errors.Is(err, identities.ErrExists) {
		t.Errorf("second Init: %v, want ErrExists", err)
	}
}

// TestSecurityTableCurrent: SECURITY.md shows the permission table the
// registry gives today.
func TestSecurityTableCurrent(t *testing.T) {
	b, err := os.ReadFile("../SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- identities table: begin -->\n", "<!-- identities table: end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("SECURITY.md has no %q … %q section", begin, end)
	}
	if got, want := s[i+len(begin):j], identities.Table(schemas.MustLoad()); got != want {
		t.Errorf("SECURITY.md's permission table is stale; regenerate it with anzhi identities table")
	}
}

// TestPublisherSaysNotPermitted: the department library gives up at once
// with ErrNotPermitted when the server refuses its subject, instead of
// retrying a timeout.
func TestPublisherSaysNotPermitted(t *testing.T) {
	w := newWorld(t)
	nc, _, _ := w.as("police")
	p, err := publishers.New(nc, "edu", publishers.WithRetry(6, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	_, err = p.Publish(ctx, enrolment("enrol-1"))
	if !errors.Is(err, publishers.ErrNotPermitted) || !strings.Contains(err.Error(), "edu.enrolment.610424") {
		t.Fatalf("police publishing edu's family: %v, want ErrNotPermitted naming the subject", err)
	}
}

// TestTLS: with the trial CA's certificate the hub speaks TLS only, on NATS
// and HTTP; a client that trusts the CA connects, one that does not fails.
func TestTLS(t *testing.T) {
	dir, files, ids := trialCA(t)
	h, _, _ := hubtest.Start(t, hub.Config{Identities: ids, TickEvery: -1, HTTPAddr: "127.0.0.1:0", TLSCert: files.Cert, TLSKey: files.Key})
	opts, err := identities.ClientOptions(ids.CredsFile("edu"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(h.ClientURL(), append(opts, nats.RootCAs(files.CA))...)
	if err != nil {
		t.Fatalf("a client trusting the CA: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("the connection is not TLS")
	}
	nc.Close()
	if nc, err := nats.Connect(h.ClientURL(), append(opts, nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Error("a client that does not trust the CA connected")
	}
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	r, err := trusting.Get("https://" + h.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the CA: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("HTTPS /healthz: %d", r.StatusCode)
	}
	if r, err := http.Get("https://" + h.HTTPAddr() + "/healthz"); err == nil {
		r.Body.Close()
		t.Error("HTTPS without trusting the CA succeeded")
	}
	if r, err := http.Get("http://" + h.HTTPAddr() + "/healthz"); err == nil && r.StatusCode == http.StatusOK {
		r.Body.Close()
		t.Error("plain HTTP was served")
	}
	if _, err := identities.InitCA(dir, nil); !errors.Is(err, identities.ErrExists) {
		t.Errorf("a second CA: %v, want ErrExists", err)
	}
}

// trialCA makes identities with a trial CA in a temporary directory.
func trialCA(t *testing.T) (string, identities.TLSFiles, *identities.Set) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "identities")
	if _, err := identities.Init(dir, schemas.MustLoad()); err != nil {
		t.Fatal(err)
	}
	files, err := identities.InitCA(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identities.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, files, ids
}

// TestTLSClientCertificates: a hub started with a client CA wants a client
// certificate from every NATS and HTTPS client besides its credentials:
// an identity's own certificate (InitCA makes one each) lets it in, none
// keeps it out.
func TestTLSClientCertificates(t *testing.T) {
	_, files, ids := trialCA(t)
	h, err := hub.Start(context.Background(), hub.Config{DataDir: t.TempDir(), NATSListen: "127.0.0.1:0", Identities: ids, TickEvery: -1,
		HTTPAddr: "127.0.0.1:0", TLSCert: files.Cert, TLSKey: files.Key, TLSClientCA: files.CA})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	opts, err := identities.ClientOptions(ids.CredsFile("edu"))
	if err != nil {
		t.Fatal(err)
	}
	cert, key := files.ClientCert("edu")
	nc, err := nats.Connect(h.ClientURL(), append(opts, nats.RootCAs(files.CA), nats.ClientCert(cert, key))...)
	if err != nil {
		t.Fatalf("edu with its client certificate: %v", err)
	}
	nc.Close()
	if nc, err := nats.Connect(h.ClientURL(), append(opts, nats.RootCAs(files.CA), nats.MaxReconnects(0))...); err == nil {
		nc.Close()
		t.Error("a client without a certificate connected")
	}
	pem, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
		ok    bool
	}{{"with edu's certificate", []tls.Certificate{pair}, true}, {"without a certificate", nil, false}} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: tc.certs}}}
		r, err := c.Get("https://" + h.HTTPAddr() + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		if ok := err == nil && r.StatusCode == http.StatusOK; ok != tc.ok {
			t.Errorf("HTTPS %s: err %v, want served %v", tc.name, err, tc.ok)
		}
	}
}

// TestPreemptedIDCannotHideAFact: a department that sends, first, a message
// carrying the Nats-Msg-Id of another department's coming fact (in a domain
// both publish in) is refused for its source — and the real fact is not lost
// as a "duplicate": each sender's intake has its own duplicate window, so
// the pre-empting message fills only the attacker's (the publisher library's
// resend under a fresh id covers a hub without identities).
func TestPreemptedIDCannotHideAFact(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	eduNC, _, _ := w.as("edu")
	edu, err := publishers.New(eduNC, "edu")
	if err != nil {
		t.Fatal(err)
	}
	report := publishers.Fact{Family: "issue.report", ID: "report-1", Time: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		Data: map[string]any{"report_id": "r-1", "department": "edu", "kind": "problem", "area": "610400",
			"reported_on": "2024-09-01", "description": "校舍不足"}}
	real, err := edu.Build(report)
	if err != nil {
		t.Fatal(err)
	}
	// police learns (or guesses) the id and sends something else with it.
	_, policeJS, _ := w.as("police")
	forged := nats.NewMsg(real.Subject)
	for k, vs := range real.Header {
		forged.Header[k] = append([]string(nil), vs...)
	}
	forged.Data = real.Data
	if _, err := policeJS.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	// And the id a naive retry would use.
	again := nats.NewMsg(real.Subject)
	for k, vs := range forged.Header {
		again.Header[k] = append([]string(nil), vs...)
	}
	again.Header.Set(jetstream.MsgIDHeader, forged.Header.Get(jetstream.MsgIDHeader)+":again")
	again.Data = real.Data
	if _, err := policeJS.PublishMsg(ctx, again); err != nil {
		t.Fatal(err)
	}
	if err := w.h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := edu.Publish(ctx, report)
	if err != nil {
		t.Fatal(err)
	}
	v, err := rec.Verdict(ctx)
	if err != nil || !v.Accepted {
		t.Fatalf("edu's report after the pre-emption: receipt %+v, verdict %+v, %v; want it accepted", rec, v, err)
	}
	if got := hubtest.Read(t, w.js, fact.LogStream, fact.FactSubjectPrefix+"issue.report.>"); len(got) != 1 || got[0].Header.Get(fact.HeaderSender) != "edu" {
		t.Errorf("log holds %d issue reports, want edu's one", len(got))
	}
}

// TestTokens: a token issued is recognised at once, an unknown one is not,
// and deleting tokens.json revokes every token.
func TestTokens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "identities")
	if _, err := identities.Init(dir, schemas.MustLoad()); err != nil {
		t.Fatal(err)
	}
	ids, err := identities.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := identities.IssueToken(dir, "county-610424")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := ids.TokenIdentity(tok); !ok || id.Name != "county-610424" || id.Role != identities.RoleCounty {
		t.Fatalf("token identity %+v, %v", id, ok)
	}
	second, err := identities.IssueToken(dir, "edu")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "anzhi_", tok + "x", strings.TrimPrefix(tok, "anzhi_")} {
		if _, ok := ids.TokenIdentity(bad); ok {
			t.Errorf("token %q recognised", bad)
		}
	}
	if id, ok := ids.TokenIdentity(second); !ok || id.Name != "edu" {
		t.Errorf("second token: %+v, %v", id, ok)
	}
	if _, err := identities.IssueToken(dir, "hub"); err == nil {
		t.Error("the hub got an HTTP token")
	}
	if _, err := identities.IssueToken(dir, "nobody"); !errors.Is(err, identities.ErrUnknownIdentity) {
		t.Errorf("token for nobody: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "tokens.json")); err != nil {
		t.Fatal(err)
	}
	if _, ok := ids.TokenIdentity(tok); ok {
		t.Error("a token still works after tokens.json was deleted")
	}
}

// TestVerdictsOnlyForTheSender: with identities on, a department learns the
// hub's verdicts on its own messages only: the sequences it names are those
// of its own intake stream, so asking with another's gives neither that
// verdict, nor its reasons, nor its log sequence.
func TestVerdictsOnlyForTheSender(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	eduNC, _, _ := w.as("edu")
	edu, err := publishers.New(eduNC, "edu")
	if err != nil {
		t.Fatal(err)
	}
	good, err := edu.Publish(ctx, enrolment("enrol-1"))
	if err != nil {
		t.Fatal(err)
	}
	badFact := enrolment("enrol-2")
	badFact.Data.(map[string]any)["level"] = "university"
	badMsg, err := edu.BuildUnchecked(badFact)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := edu.PublishMsg(ctx, badMsg)
	if err != nil {
		t.Fatal(err)
	}
	goodV, err := good.Verdict(ctx)
	if err != nil || !goodV.Accepted {
		t.Fatalf("edu's own accepted fact: %+v, %v", goodV, err)
	}
	if v, err := bad.Verdict(ctx); err != nil || v.Status != fact.VerdictRefused || len(v.Reasons) == 0 {
		t.Fatalf("edu's own refused fact: %+v, %v", v, err)
	}
	policeNC, _, _ := w.as("police")
	ask := func(seq uint64) fact.IntakeVerdict {
		t.Helper()
		body, _ := json.Marshal(fact.VerdictRequest{Source: "/xianyang/police", IntakeSeqs: []uint64{seq}, WaitMillis: 1000})
		m, err := policeNC.RequestWithContext(ctx, fact.VerdictSubject, body)
		if err != nil {
			t.Fatal(err)
		}
		var r fact.VerdictReply
		if err := json.Unmarshal(m.Data, &r); err != nil || len(r.Verdicts) != 1 {
			t.Fatalf("reply %s: %v", m.Data, err)
		}
		return r.Verdicts[0]
	}
	if v := ask(good.Seq); v.Status != fact.VerdictUnknown || v.LogSeq != 0 {
		t.Errorf("police asking about edu's accepted fact: %+v, want unknown, no log sequence", v)
	}
	if v := ask(bad.Seq); v.Status != fact.VerdictUnknown || len(v.Reasons) != 0 || v.LogSeq != 0 {
		t.Errorf("police asking about edu's refused fact: %+v, want unknown, no reasons", v)
	}
	// Police's own first message has the same sequence as edu's first: its
	// verdict is police's.
	policeJS, err := jetstream.New(policeNC)
	if err != nil {
		t.Fatal(err)
	}
	own, err := policeJS.PublishMsg(ctx, forgedReport("forged-2")) // refused: police may not speak for edu
	if err != nil {
		t.Fatal(err)
	}
	if own.Sequence != good.Seq || own.Stream != fact.SenderIntakeStream("police") {
		t.Fatalf("police's first message stored as %d in %s, edu's as %d: each sender's intake counts from 1",
			own.Sequence, own.Stream, good.Seq)
	}
	if v := ask(own.Sequence); v.Status != fact.VerdictRefused || v.LogSeq == 0 || v.LogSeq == goodV.LogSeq || len(v.Reasons) == 0 {
		t.Errorf("police asking about its own message: %+v", v)
	}
}
