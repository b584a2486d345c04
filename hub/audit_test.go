package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/note"

	"github.com/xianyang/anzhi/audit"
	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/subscribers"
)

// auditHub starts a hub in dir that signs checkpoints only when asked, with
// its HTTP API on a free port.
func auditHub(t testing.TB, dir string) (*hub.Hub, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	return hubtest.Start(t, hub.Config{DataDir: dir, PurgeEvery: 50 * time.Millisecond, TickEvery: -1, AuditEvery: -1, HTTPAddr: "127.0.0.1:0"})
}

// fillLog publishes n facts (every tenth in binary mode, every 25th refused
// so the ledger is in the tree too), waits for the hub, and signs a
// checkpoint every `every` facts (0: once at the end).
func fillLog(t testing.TB, h *hub.Hub, nc *nats.Conn, from, n, every int) {
	t.Helper()
	ctx := context.Background()
	p, err := publishers.New(nc, "edu")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := publishers.New(nc, "edu", publishers.WithBinaryMode())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		f := enrolmentFact(personKey(i))
		switch {
		case i%25 == 24:
			d := enrolmentData(personKey(i))
			d["level"] = "university"
			f.Data = d
			msg, err := p.BuildUnchecked(f)
			if err != nil {
				t.Fatal(err)
			}
			// Published through JetStream: stored in the intake when it
			// returns, so the checkpoint after it counts its rejection (a
			// core publish could still be on its way, and the checkpoint
			// one entry short).
			if _, err := js.PublishMsg(ctx, msg); err != nil {
				t.Fatal(err)
			}
		case i%10 == 9:
			if _, err := pb.Publish(ctx, f); err != nil {
				t.Fatal(err)
			}
		default:
			if _, err := p.Publish(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		if every > 0 && (i-from)%every == every-1 {
			waitIdle(t, h)
			signCheckpoint(t, h)
		}
	}
	waitIdle(t, h)
	signCheckpoint(t, h)
}

func signCheckpoint(t testing.TB, h *hub.Hub) (uint64, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	size, signed, err := h.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return size, signed
}

func verifierOf(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func verifyLog(t *testing.T, js jetstream.JetStream, v note.Verifier, from uint64) *audit.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	r, err := subscribers.VerifyLog(ctx, js, v, from)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAuditVerifyUntouched fills a log, restarts the hub (which rebuilds
// its tree from the log), adds more and verifies the whole history: every
// entry, every checkpoint; and again from a later sequence.
func TestAuditVerifyUntouched(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 600
	}
	dir := t.TempDir()
	h, nc, _ := auditHub(t, dir)
	fillLog(t, h, nc, 0, n/2, n/4)
	h.Close()
	h, nc, js := auditHub(t, dir)
	fillLog(t, h, nc, n/2, n/2, n/4)
	last := h.Status
	st, err := last(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v := verifierOf(t, h.AuditVerifierKey())
	r := verifyLog(t, js, v, 0)
	if !r.OK() {
		t.Fatalf("untouched log: %v", r.Problems)
	}
	if r.Entries != st.LogLast || r.Checkpoints < 4 || r.Latest == nil || r.Latest.Size != st.LogLast {
		t.Errorf("verified %d entries, %d checkpoints (latest %+v); the log has %d", r.Entries, r.Checkpoints, r.Latest, st.LogLast)
	}
	from := verifyLog(t, js, v, st.LogLast-10)
	if !from.OK() || from.From <= 1 || from.Entries >= st.LogLast {
		t.Errorf("--from %d: read %d entries from %d, problems %v", st.LogLast-10, from.Entries, from.From, from.Problems)
	}
}

// tamper stops the hub of dir, opens its store with a bare server (as
// someone with the data directory could) and lets change alter it; it
// returns a client of that server.
func tamper(t *testing.T, dir string, change func(ctx context.Context, js jetstream.JetStream)) jetstream.JetStream {
	t.Helper()
	emb, err := hub.StartEmbedded(hub.EmbeddedConfig{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := nats.Connect(emb.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	change(ctx, js)
	return js
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// allowRewrite lifts a stream's deny-delete and deny-purge through the
// JetStream API. The server refuses to lift them by a config update
// ("can not cancel deny message deletes"), so it does what someone would
// have to: copy the stream out, delete it, create it again without the
// flags and put every message back, at the same sequences.
func allowRewrite(t *testing.T, ctx context.Context, js jetstream.JetStream, name string, edit func(hubtest.Msg) []byte) jetstream.Stream {
	t.Helper()
	s, err := js.Stream(ctx, name)
	must(t, err)
	cfg := s.CachedInfo().Config
	cfg.DenyDelete, cfg.DenyPurge = false, false
	entries := hubtest.Read(t, js, name, ">")
	must(t, js.DeleteStream(ctx, name))
	s, err = js.CreateStream(ctx, cfg)
	must(t, err)
	for _, e := range entries {
		m := nats.NewMsg(e.Subject)
		for k, vs := range e.Header {
			if !strings.HasPrefix(k, "Nats-") {
				m.Header[k] = vs
			}
		}
		m.Data = e.Data
		if edit != nil {
			m.Data = edit(e)
		}
		ack, err := js.PublishMsg(ctx, m)
		must(t, err)
		if ack.Sequence != e.Seq {
			t.Fatalf("copied entry %d to %d", e.Seq, ack.Sequence)
		}
	}
	return s
}

// TestAuditVerifyDetects alters a signed log in each way the issue names
// and checks that verification fails and names where history diverges.
func TestAuditVerifyDetects(t *testing.T) {
	const n, every = 200, 50
	for _, tc := range []struct {
		name string
		// change alters the store; seq and upto bound the divergence
		// expected (0: none, only problems).
		change    func(t *testing.T, ctx context.Context, js jetstream.JetStream, other string)
		seq, upto uint64
		problem   string
	}{
		{name: "entry deleted after lifting deny-delete", seq: 120, upto: 120, problem: "missing",
			change: func(t *testing.T, ctx context.Context, js jetstream.JetStream, _ string) {
				s := allowRewrite(t, ctx, js, fact.LogStream, nil)
				must(t, s.DeleteMsg(ctx, 120))
			}},
		{name: "log purged", seq: 1, problem: "missing",
			change: func(t *testing.T, ctx context.Context, js jetstream.JetStream, _ string) {
				s := allowRewrite(t, ctx, js, fact.LogStream, nil)
				must(t, s.Purge(ctx))
			}},
		{name: "log rebuilt with one entry changed", seq: 101, upto: 150, problem: "is not the one the checkpoint",
			change: func(t *testing.T, ctx context.Context, js jetstream.JetStream, _ string) {
				allowRewrite(t, ctx, js, fact.LogStream, func(e hubtest.Msg) []byte {
					if e.Seq != 123 {
						return e.Data
					}
					changed := []byte(strings.Replace(string(e.Data), "primary", "junior", 1))
					if string(changed) == string(e.Data) {
						t.Fatalf("entry 123 was not changed: %s", e.Data)
					}
					return changed
				})
			}},
		{name: "forged checkpoint", problem: "signature does not verify",
			change: func(t *testing.T, ctx context.Context, js jetstream.JetStream, _ string) {
				s, err := js.Stream(ctx, fact.AuditStream)
				must(t, err)
				last, err := s.GetLastMsgForSubject(ctx, fact.AuditCheckpointSubject)
				must(t, err)
				size, _, _ := strings.Cut(strings.SplitN(string(last.Data), "\n", 3)[1], "\n")
				forged := strings.Replace(string(last.Data), "\n"+size+"\n", fmt.Sprintf("\n%d\n", n*10), 1)
				_, err = js.Publish(ctx, fact.AuditCheckpointSubject, []byte(forged))
				must(t, err)
			}},
		{name: "checkpoint signed by another key", problem: "signed by a key other than",
			change: func(t *testing.T, ctx context.Context, js jetstream.JetStream, other string) {
				s, err := js.Stream(ctx, fact.AuditStream)
				must(t, err)
				last, err := s.GetLastMsgForSubject(ctx, fact.AuditCheckpointSubject)
				must(t, err)
				cp, err := audit.ParseCheckpoint(strings.SplitN(string(last.Data), "\n\n", 2)[0] + "\n")
				must(t, err)
				skey, vkey, _ := strings.Cut(other, "\n")
				signer, err := audit.NewSigner(skey, vkey)
				must(t, err)
				signed, err := signer.Sign(cp.Size+1, cp.Root)
				must(t, err)
				_, err = js.Publish(ctx, fact.AuditCheckpointSubject, signed)
				must(t, err)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h, nc, _ := auditHub(t, dir)
			fillLog(t, h, nc, 0, n, every)
			vkey := h.AuditVerifierKey()
			h.Close()
			skey, otherV, err := audit.GenerateKey(audit.DefaultOrigin)
			must(t, err)
			js := tamper(t, dir, func(ctx context.Context, js jetstream.JetStream) {
				tc.change(t, ctx, js, skey+"\n"+otherV)
			})
			r := verifyLog(t, js, verifierOf(t, vkey), 0)
			if r.OK() {
				t.Fatalf("verification passed on an altered log: %+v", r)
			}
			if !strings.Contains(strings.Join(r.Problems, "\n"), tc.problem) {
				t.Errorf("problems %q, want one saying %q", r.Problems, tc.problem)
			}
			if tc.seq == 0 {
				return
			}
			if r.Divergence == nil || r.Divergence.Seq != tc.seq || (tc.upto != 0 && r.Divergence.Upto != tc.upto) {
				t.Errorf("divergence %+v, want at %d (up to %d)", r.Divergence, tc.seq, tc.upto)
			}
		})
	}
}

// getProof reads one of the audit API's answers.
func getProof(t *testing.T, h *hub.Hub, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + h.HTTPAddr() + path)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	must(t, json.NewDecoder(resp.Body).Decode(v))
}

// TestAuditProofs gets inclusion and consistency proofs from the API and
// checks them; each tampered copy fails.
func TestAuditProofs(t *testing.T) {
	h, nc, _ := auditHub(t, t.TempDir())
	fillLog(t, h, nc, 0, 40, 0)
	oldSize, oldNote := signCheckpoint(t, h)
	v := verifierOf(t, h.AuditVerifierKey())
	oldCP, err := audit.OpenCheckpoint(oldNote, v)
	must(t, err)
	fillLog(t, h, nc, 40, 30, 0)

	var key struct {
		VerifierKey string `json:"verifier_key"`
	}
	getProof(t, h, "/api/v1/audit/key", &key)
	if key.VerifierKey != h.AuditVerifierKey() {
		t.Errorf("key %q, want %q", key.VerifierKey, h.AuditVerifierKey())
	}
	for _, seq := range []uint64{1, 7, oldSize, oldSize + 3} {
		var p audit.InclusionProof
		getProof(t, h, fmt.Sprintf("/api/v1/audit/proof/%d", seq), &p)
		if _, err := p.Check(v); err != nil {
			t.Errorf("proof of %d: %v", seq, err)
		}
		bad := p
		bad.Hashes = append([][]byte(nil), p.Hashes...)
		bad.Hashes[0] = append([]byte{p.Hashes[0][0] ^ 1}, p.Hashes[0][1:]...)
		if _, err := bad.Check(v); !errors.Is(err, audit.ErrBadProof) {
			t.Errorf("proof of %d with a hash changed: %v, want %v", seq, err, audit.ErrBadProof)
		}
		bad = p
		bad.LeafData = []byte(strings.Replace(string(p.LeafData), "primary", "junior", 1))
		if _, err := bad.Check(v); !errors.Is(err, audit.ErrBadProof) {
			t.Errorf("proof of %d with the entry changed: %v", seq, err)
		}
		bad = p
		bad.Seq, bad.LeafIndex = p.Seq+1, p.LeafIndex+1
		if _, err := bad.Check(v); !errors.Is(err, audit.ErrBadProof) {
			t.Errorf("proof of %d claimed for %d: %v", seq, bad.Seq, err)
		}
	}
	var c audit.ConsistencyProof
	getProof(t, h, fmt.Sprintf("/api/v1/audit/consistency?old=%d", oldSize), &c)
	if _, err := c.Check(oldCP, v); err != nil {
		t.Errorf("consistency from %d: %v", oldSize, err)
	}
	forked := oldCP
	forked.Root = append([]byte{oldCP.Root[0] ^ 1}, oldCP.Root[1:]...)
	if _, err := c.Check(forked, v); !errors.Is(err, audit.ErrBadProof) {
		t.Errorf("consistency with another old root: %v", err)
	}
	resp, err := http.Get("http://" + h.HTTPAddr() + "/api/v1/audit/proof/100000")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("proof beyond the log: %s", resp.Status)
	}
}

// TestAuditProofsOnDemandCoalesce: proofs asked at once for entries no
// checkpoint holds yet are served by one checkpoint signed for all of
// them, not one appended to the audit stream per request.
func TestAuditProofsOnDemandCoalesce(t *testing.T) {
	h, nc, js := auditHub(t, t.TempDir())
	fillLog(t, h, nc, 0, 20, 0)
	p, err := publishers.New(nc, "edu")
	must(t, err)
	ctx := context.Background()
	for i := 20; i < 25; i++ {
		_, err := p.Publish(ctx, enrolmentFact(personKey(i)))
		must(t, err)
	}
	waitIdle(t, h)
	st, err := h.Status(ctx)
	must(t, err)
	audits, err := js.Stream(ctx, fact.AuditStream)
	must(t, err)
	before := audits.CachedInfo().State.Msgs
	var wg sync.WaitGroup
	for i := range 8 {
		seq := st.LogLast - uint64(i%3)
		wg.Go(func() {
			var proof struct {
				TreeSize uint64 `json:"tree_size"`
			}
			resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/audit/proof/%d", h.HTTPAddr(), seq))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&proof); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("proof of %d: %s %v", seq, resp.Status, err)
				return
			}
			if proof.TreeSize < seq {
				t.Errorf("proof of %d against a tree of %d", seq, proof.TreeSize)
			}
		})
	}
	wg.Wait()
	info, err := audits.Info(ctx)
	must(t, err)
	if got := info.State.Msgs - before; got != 1 {
		t.Errorf("8 proofs at once appended %d checkpoints, want 1", got)
	}
	// A script proving each newest entry as the log grows gets its
	// checkpoints signed at most every 250 ms: five in a row take a second.
	start := time.Now()
	for i := 25; i < 30; i++ {
		_, err := p.Publish(ctx, enrolmentFact(personKey(i)))
		must(t, err)
		waitIdle(t, h)
		st, err := h.Status(ctx)
		must(t, err)
		var proof struct {
			TreeSize uint64 `json:"tree_size"`
		}
		getProof(t, h, fmt.Sprintf("/api/v1/audit/proof/%d", st.LogLast), &proof)
	}
	if took := time.Since(start); took < 4*250*time.Millisecond {
		t.Errorf("five on-demand checkpoints in %v: signing on demand is not spaced", took)
	}
}
