// Package hubtest runs real hubs for the tests of other packages: an embedded
// server on a random loopback port with its data in the test's temporary
// directory, a client connection, and readers that look at what the hub
// stored — including the scan that proves no raw ID-card number is left in
// clear. Only tests import it.
package hubtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/schemas"
)

// Patience is how long tests wait for a condition (a hub started, a fact
// judged, an update seen) before they fail. It is generous on purpose: on a
// loaded two-core machine under the race detector, work that takes a
// millisecond alone can take many seconds, and a test must not fail for
// that; only something truly stuck waits this long.
const Patience = 5 * time.Minute

// Start starts a hub with cfg and connects a client to it; both are closed
// when the test ends. An empty DataDir becomes a temporary directory and an
// empty NATSListen a random loopback port; the rest of cfg is used as given.
// With cfg.Identities the client is the hub's own identity.
func Start(t testing.TB, cfg hub.Config) (*hub.Hub, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.NATSListen == "" && cfg.NATSURL == "" {
		cfg.NATSListen = "127.0.0.1:0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	h, err := hub.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("hub.Start: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	// With identities on, the tests look at what the hub stored as the hub.
	var opts []nats.Option
	if cfg.Identities != nil {
		opts = append(opts, nats.UserCredentials(cfg.Identities.CredsFile(identities.HubName)))
	}
	if cfg.TLSCert != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCert)) // the server's own certificate, trusted as it is
	}
	nc, err := nats.Connect(h.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return h, nc, js
}

// Msg is a stored message.
type Msg struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
}

// Read returns every message of a stream on a subject filter, in order.
func Read(t testing.TB, js jetstream.JetStream, stream, filter string) []Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	want := count(ctx, t, s, filter)
	if want == 0 {
		return nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	var out []Msg
	for uint64(len(out)) < want {
		batch, err := cons.Fetch(int(want)-len(out), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, Msg{Seq: md.Sequence.Stream, Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			t.Fatal(err)
		}
		if n == 0 && ctx.Err() != nil {
			t.Fatalf("read %d of %d messages of %s on %s", len(out), want, stream, filter)
		}
	}
	return out
}

// count returns how many messages of s match filter.
func count(ctx context.Context, t testing.TB, s jetstream.Stream, filter string) uint64 {
	t.Helper()
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// LogCounts counts the facts departments published into the canonical log
// and the rejections; the hub's own entries (clock ticks, warnings) are not
// counted.
func LogCounts(t testing.TB, nc *nats.Conn) (facts, rejected int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	for subj, n := range info.State.Subjects {
		switch {
		case strings.HasPrefix(subj, fact.RejectedSubjectPrefix):
			rejected += int(n)
		case strings.HasPrefix(subj, fact.FactSubjectPrefix+"warning."), strings.HasPrefix(subj, fact.FactSubjectPrefix+"hub."):
		case strings.HasPrefix(subj, fact.FactSubjectPrefix):
			facts += int(n)
		}
	}
	return facts, rejected
}

var jsonEscape = regexp.MustCompile(`\\(u[0-9a-fA-F]{4}|["\\/bfnrt])`)

// IDNumbersIn returns the distinct ID-card numbers visible in b: in its
// bytes and, when depth > 0, with JSON escapes read (so an escaped number,
// \u0031…, or one right after "\n" is found even in text that does not
// parse), in every decoded key and string of JSON, inside JSON nested in
// strings, and inside the base64 body a rejection keeps (body_base64).
func IDNumbersIn(b []byte, depth int) (out []string) {
	defer func() {
		slices.Sort(out)
		out = slices.Compact(out)
	}()
	for _, m := range idcard.Find(b) {
		out = append(out, string(b[m.Start:m.End]))
	}
	if depth <= 0 {
		return out
	}
	// With every JSON escape read as what it stands for next to a number:
	// an escaped digit as the digit, anything else (\n, \u4e2d) as a
	// separator — in text that does not parse too.
	unescaped := jsonEscape.ReplaceAllFunc(b, func(e []byte) []byte {
		if len(e) == 6 && (string(e[2:5]) == "003" || string(e[2:]) == "0058" || string(e[2:]) == "0078") {
			r, _ := strconv.ParseUint(string(e[2:]), 16, 8)
			return []byte{byte(r)}
		}
		return []byte(" ")
	})
	// And full-width digits (an input method's full-width mode) as ASCII.
	unescaped = []byte(strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + r - '０'
		case r == 'Ｘ':
			return 'X'
		case r == 'ｘ':
			return 'x'
		}
		return r
	}, string(unescaped)))
	for _, m := range idcard.Find(unescaped) {
		out = append(out, string(unescaped[m.Start:m.End]))
	}
	v, err := schemas.Decode(b)
	if err != nil {
		return out
	}
	var walk func(v any, key string)
	str := func(s, key string) {
		for _, m := range idcard.Find([]byte(s)) {
			out = append(out, s[m.Start:m.End])
		}
		if key == "body_base64" {
			if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
				out = append(out, IDNumbersIn(raw, depth-1)...)
			}
		} else if strings.ContainsAny(s, "{[\"") {
			out = append(out, IDNumbersIn([]byte(s), depth-1)...)
		}
	}
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				str(k, "")
				walk(e, k)
			}
		case []any:
			for _, e := range x {
				walk(e, key)
			}
		case string:
			str(x, key)
		case json.Number:
			str(x.String(), key)
		}
	}
	walk(v, "")
	return out
}

// Identities makes a fresh identities directory for the catalog's
// departments in the test's temporary directory (anzhi identities init)
// and loads it: what a test of a hub with identities on starts from.
func Identities(t testing.TB) (dir string, ids *identities.Set) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "ids")
	if _, err := identities.Init(dir, schemas.MustLoad()); err != nil {
		t.Fatal(err)
	}
	ids, err := identities.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, ids
}
