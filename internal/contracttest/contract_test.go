package contracttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
)

// fixturesDir is schemas/testdata: valid/<family>/<name>.json holds the data
// of a CloudEvent, invalid/<family>/<name>.json wraps it as
// {"why", "pointers", "data"} (see schemas/schemas_test.go).
const fixturesDir = "../../schemas/testdata"

// knownMismatches are fixtures (valid/<family>/<name> or
// invalid/<family>/<name>) on which the local check and the hub are known to
// disagree, each with why. A fixture listed here is still run and its two
// verdicts logged; it only does not fail the suite. Keep it empty: an entry
// is a bug of the contract to fix, not a permanent exception.
var knownMismatches = map[string]string{}

// effective is the time every fixture's fact takes effect: the schemas judge
// data, not the time, and one time for all keeps the suite deterministic.
var effective = time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)

// fixture is one fixture file, read.
type fixture struct {
	name     string // valid/edu.enrolment/primary
	family   *schemas.Family
	valid    bool
	data     json.RawMessage
	pointers []string // invalid fixtures: the data pointers the schema test expects
}

// mode is a CloudEvents mode of the NATS binding.
type mode int

const (
	structured mode = iota // the event as a JSON body
	binary                 // attributes as ce- headers, the data as the body
)

func (m mode) String() string {
	if m == binary {
		return "binary"
	}
	return "structured"
}

// binaryOf is a structured event in binary mode, as a department's own NATS
// code might send it: every attribute as a ce- header, datacontenttype as
// content-type, the data as the body, and the Nats-Msg-Id the library would
// set.
func binaryOf(m *nats.Msg) (*nats.Msg, error) {
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(m.Data, &attrs); err != nil {
		return nil, fmt.Errorf("not a structured event: %w", err)
	}
	out := nats.NewMsg(m.Subject)
	out.Header.Set("content-type", fact.DataContentType)
	for k, raw := range attrs {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			s = string(raw) // a number or boolean extension, as written
		}
		switch k {
		case "data":
			out.Data = raw
		case "datacontenttype":
			out.Header.Set("content-type", s)
		default:
			out.Header.Set("ce-"+k, s)
		}
	}
	publishers.SetMsgID(out, out.Header.Get("ce-source"), out.Header.Get("ce-id"))
	return out, nil
}

// verdict is one side's judgement: the violations as reason and pointer,
// sorted; none means accepted.
type verdict []string

func (v verdict) String() string {
	if len(v) == 0 {
		return "accepted"
	}
	return "refused " + strings.Join(v, " ")
}

func verdictOf(vs []schemas.Violation) verdict {
	out := verdict{}
	for _, x := range vs {
		out = append(out, string(x.Reason)+"@"+x.Pointer)
	}
	slices.Sort(out)
	return out
}

// readFixtures reads every fixture file under fixturesDir, so that a new one
// is covered without touching this test.
func readFixtures(t *testing.T, cat *schemas.Catalog) []fixture {
	t.Helper()
	var out []fixture
	for _, kind := range []string{"valid", "invalid"} {
		dirs, err := os.ReadDir(filepath.Join(fixturesDir, kind))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			fam, ok := cat.Family(d.Name())
			if !ok {
				t.Errorf("%s/%s names no family of the catalog", kind, d.Name())
				continue
			}
			files, err := os.ReadDir(filepath.Join(fixturesDir, kind, d.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				name, ok := strings.CutSuffix(file.Name(), ".json")
				if !ok {
					continue // schemas_test reports stray files
				}
				b, err := os.ReadFile(filepath.Join(fixturesDir, kind, d.Name(), file.Name()))
				if err != nil {
					t.Fatal(err)
				}
				fx := fixture{name: kind + "/" + d.Name() + "/" + name, family: fam, valid: kind == "valid", data: b}
				if !fx.valid {
					var inv struct {
						Pointers []string        `json:"pointers"`
						Data     json.RawMessage `json:"data"`
					}
					if err := json.Unmarshal(b, &inv); err != nil {
						t.Fatalf("%s: %v", fx.name, err)
					}
					fx.data, fx.pointers = inv.Data, inv.Pointers
				}
				out = append(out, fx)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixtures found")
	}
	return out
}

// departmentFor picks who publishes a fixture's fact: the department a
// family's publisher field names (a department speaks only for itself),
// else the family's first city department, else the county government of
// the fact's county. Hub families (warnings, the clock) cannot come from a
// department: they go out as the lead office, and both sides must refuse
// them as not allowed.
func departmentFor(cat *schemas.Catalog, drc *publishers.Publisher, fx fixture) string {
	var obj map[string]any
	_ = json.Unmarshal(fx.data, &obj)
	if f := fx.family.PublisherField; f != "" {
		if s, ok := obj[f].(string); ok {
			if p, err := cat.ParsePublisher(s); err == nil && p.Dept != "hub" {
				return s
			}
		}
	}
	for _, o := range fx.family.Owners {
		if o != "county" && o != "*" && o != "hub" {
			return o
		}
	}
	if slices.Contains(fx.family.Owners, "county") {
		// The county the library routes the fact to (the token of its
		// NATS subject), as the lead office would build it.
		if msg, err := drc.BuildUnchecked(publishers.Fact{Family: fx.family.Name, Time: effective, Data: fx.data}); err == nil {
			if _, area, ok := schemas.FamilyOf(msg.Subject); ok && area != cat.City.Code {
				return "county/" + area
			}
		}
	}
	return "drc"
}

// TestFixturesSameVerdict: every fixture gets the same verdict — accepted,
// or refused with the same reasons at the same JSON pointers — from the
// publishers library's check before sending (Publisher.Build) and from a
// hub judging it sent unchecked (Publisher.BuildUnchecked, as anzhi publish
// --no-check does), in structured mode and in binary mode (the library's
// WithBinaryMode locally; the unchecked event moved into ce- headers for the
// hub). It also checks the verdict is the fixture's: a valid
// fixture of a family a department may publish is accepted, an invalid one
// refused at (at least) the pointers its schema test names.
func TestFixturesSameVerdict(t *testing.T) {
	cat := schemas.MustLoad()
	fixtures := readFixtures(t, cat)
	h, nc, js := hubtest.Start(t, hub.Config{TickEvery: -1, SnapshotEvery: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	pubs := map[string]*publishers.Publisher{}
	publisher := func(dept string, m mode) *publishers.Publisher {
		key := dept + " " + m.String()
		if p, ok := pubs[key]; ok {
			return p
		}
		opts := []publishers.Option{publishers.WithCatalog(cat)}
		if m == binary {
			opts = append(opts, publishers.WithBinaryMode())
		}
		p, err := publishers.New(nc, dept, opts...)
		if err != nil {
			t.Fatalf("publisher %s: %v", dept, err)
		}
		pubs[key] = p
		return p
	}

	// The local verdicts, and the same facts built unchecked, sent in one
	// asynchronous batch: each fixture once in each CloudEvents mode.
	type run struct {
		fx    fixture
		mode  mode
		local verdict
		fut   jetstream.PubAckFuture
		seq   uint64
	}
	var runs []*run
	ajs, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(512))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range fixtures {
		dept := departmentFor(cat, publisher("drc", structured), fx)
		for _, m := range []mode{structured, binary} {
			r := &run{fx: fx, mode: m, local: verdict{}}
			runs = append(runs, r)
			p := publisher(dept, m)
			f := publishers.Fact{Family: fx.family.Name, Time: effective, Data: fx.data}
			if m == binary {
				// Its own id: the same id saying the same thing in the
				// other mode would be a duplicate to the hub.
				f.ID = "contract-binary-" + strings.ReplaceAll(fx.name, "/", "-")
			}
			if _, err := p.BuildUnchecked(f); err != nil {
				// The library cannot route it: an invalid fixture of a
				// county-level family without its county field (a
				// citywide family's fact goes on the city's token by
				// itself). Publish it on the city's token, as anzhi
				// publish --county 610400 does, for the hub to judge.
				f.County = cat.City.Code
			}
			if _, err := p.Build(f); err != nil {
				var ve *fact.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("%s %s: Build: %v", fx.name, m, err)
				}
				r.local = verdictOf(ve.Violations)
			}
			msg, err := p.BuildUnchecked(f) // always structured
			if err != nil {
				t.Fatalf("%s %s: BuildUnchecked: %v", fx.name, m, err)
			}
			if m == binary {
				if msg, err = binaryOf(msg); err != nil {
					t.Fatalf("%s: %v", fx.name, err)
				}
			}
			if r.fut, err = ajs.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute)); err != nil {
				t.Fatalf("%s %s: publish: %v", fx.name, m, err)
			}
		}
	}
	select {
	case <-ajs.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("publishes not acknowledged")
	}
	for _, r := range runs {
		select {
		case ack := <-r.fut.Ok():
			if ack.Duplicate {
				t.Fatalf("%s %s: the intake took it for a duplicate of intake %d: two fixtures say the same", r.fx.name, r.mode, ack.Sequence)
			}
			r.seq = ack.Sequence
		case err := <-r.fut.Err():
			t.Fatalf("%s %s: publish: %v", r.fx.name, r.mode, err)
		}
	}
	if err := h.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}

	// The hub's verdicts, by intake sequence: a fact in the log, or a
	// rejection in the ledger.
	hubVerdict := map[uint64]verdict{}
	hubMode := map[uint64]string{} // the mode the hub read each message in
	for _, m := range hubtest.Read(t, js, fact.LogStream, ">") {
		seq, err := strconv.ParseUint(m.Header.Get(fact.HeaderIntakeSeq), 10, 64)
		if err != nil {
			continue // the hub's own entries (none with ticks off)
		}
		switch {
		case strings.HasPrefix(m.Subject, fact.RejectedSubjectPrefix):
			var r fact.Rejection
			if err := json.Unmarshal(m.Data, &r); err != nil {
				t.Fatalf("rejection at log %d: %v", m.Seq, err)
			}
			if r.OmittedViolations > 0 {
				t.Errorf("rejection of intake %d omits %d violations", seq, r.OmittedViolations)
			}
			hubVerdict[seq], hubMode[seq] = verdictOf(r.Violations), r.Mode
		case strings.HasPrefix(m.Subject, fact.FactSubjectPrefix):
			hubVerdict[seq], hubMode[seq] = verdict{}, structured.String()
			if m.Header.Get("ce-specversion") != "" {
				hubMode[seq] = binary.String()
			}
		}
	}

	accepted := 0
	for _, v := range hubVerdict {
		if len(v) == 0 {
			accepted++
		}
	}
	t.Logf("%d fixtures in two modes: the hub accepted %d and refused %d", len(fixtures), accepted, len(hubVerdict)-accepted)
	if accepted == 0 || accepted == len(hubVerdict) {
		t.Errorf("the hub accepted %d of %d fixtures: the suite is not judging both kinds", accepted, len(hubVerdict))
	}
	for _, r := range runs {
		t.Run(r.fx.name+"/"+r.mode.String(), func(t *testing.T) {
			local := r.local
			remote, ok := hubVerdict[r.seq]
			why, known := knownMismatches[r.fx.name]
			switch {
			case !ok:
				t.Errorf("the hub recorded no verdict for intake %d", r.seq)
			case hubMode[r.seq] != r.mode.String():
				t.Errorf("sent in %s mode, the hub read it in %q mode", r.mode, hubMode[r.seq])
			case local.String() != remote.String() && known:
				t.Logf("known mismatch (%s): local %s, hub %s", why, local, remote)
			case local.String() != remote.String():
				t.Errorf("verdicts differ:\n local check: %s\n hub:         %s", local, remote)
			case known:
				t.Errorf("listed as a known mismatch (%s) but both sides now say %s: remove it from knownMismatches", why, local)
			}
			checkExpected(t, r.fx, local)
		})
	}
}

// checkExpected checks that the local verdict is the fixture's.
func checkExpected(t *testing.T, fx fixture, got verdict) {
	t.Helper()
	hubOnly := slices.Equal(fx.family.Owners, []string{"hub"})
	notAllowed := string(schemas.ReasonNotAllowed) + "@/source"
	switch {
	case fx.valid && hubOnly:
		if got.String() != (verdict{notAllowed}).String() {
			t.Errorf("a department publishing a hub event: got %s, want refused %s only", got, notAllowed)
		}
	case fx.valid:
		if len(got) != 0 {
			t.Errorf("valid fixture: got %s", got)
		}
	default:
		if len(got) == 0 {
			t.Errorf("invalid fixture accepted")
		}
		for _, p := range fx.pointers {
			if !slices.ContainsFunc(got, func(v string) bool { return strings.HasSuffix(v, "@/data"+p) }) {
				t.Errorf("invalid fixture: no violation at /data%s; got %s", p, got)
			}
		}
	}
}
