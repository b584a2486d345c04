package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/idcard"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

// ID-number redaction end to end: a message carrying a raw ID-card number
// is refused (id_number), its rejection shows the number masked, and once
// the hub has erased and purged its intake, the clear number is nowhere in
// JetStream — neither in any stream's messages nor in the store's files.

const (
	idNumber = "11010519491231002X"
	// idFullWidth is idNumber in full-width characters.
	idFullWidth = "１１０１０５１９４９１２３１００２Ｘ"
	idMasked    = "110105********002X"
)

// idEscaped is idNumber with every character JSON-escaped: \u0031\u0031….
var idEscaped = func() string {
	var b strings.Builder
	for _, c := range idNumber {
		fmt.Fprintf(&b, `\u%04x`, c)
	}
	return b.String()
}()

// idScanStreams reads every message of every stream and returns where an
// ID-card number is visible: subject, header names and values, data.
func idScanStreams(ctx context.Context, t testing.TB, js jetstream.JetStream) []string {
	t.Helper()
	var found []string
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 {
			continue
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("%s #%d: %v", name, seq, err)
			}
			where := fmt.Sprintf("%s #%d on %s", name, seq, m.Subject)
			if ids := hubtest.IDNumbersIn([]byte(m.Subject), 0); len(ids) > 0 {
				found = append(found, fmt.Sprintf("%s: subject holds %q", where, ids))
			}
			for k, vs := range m.Header {
				if ids := hubtest.IDNumbersIn([]byte(k), 0); len(ids) > 0 {
					found = append(found, fmt.Sprintf("%s: header name %q holds %q", where, k, ids))
				}
				for _, v := range vs {
					if ids := hubtest.IDNumbersIn([]byte(v), 1); len(ids) > 0 {
						found = append(found, fmt.Sprintf("%s: header %s holds %q", where, k, ids))
					}
				}
			}
			if ids := hubtest.IDNumbersIn(m.Data, 3); len(ids) > 0 {
				found = append(found, fmt.Sprintf("%s: data holds %q: %s", where, ids, m.Data))
			}
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

// idScanFiles looks for the given byte strings in every file under dir and
// returns where they are (file, offset, context).
func idScanFiles(t testing.TB, dir string, needles ...string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking (a purged block)
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for _, n := range needles {
			for off := 0; ; {
				i := bytes.Index(b[off:], []byte(n))
				if i < 0 {
					break
				}
				at := off + i
				lo, hi := max(0, at-48), min(len(b), at+len(n)+48)
				found = append(found, fmt.Sprintf("%s (%d bytes) at offset %d: %q", rel, len(b), at, b[lo:hi]))
				off = at + len(n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// idPoll retries check until it finds nothing or the deadline passes, and
// returns the last findings.
func idPoll(ctx context.Context, d time.Duration, check func() []string) []string {
	deadline := time.Now().Add(d)
	for {
		found := check()
		if len(found) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return found
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type idCase struct {
	name string
	// msg is the message to publish.
	msg func(t testing.TB) *nats.Msg
	// needles are the byte strings that must not survive in the store
	// files (the number as it was published).
	needles []string
}

func idWithNote(t testing.TB, note string) []byte {
	t.Helper()
	b := ioStructured(t, "id-case", "/xianyang/edu")
	// The note is inserted as raw JSON text, so escapes stay escapes.
	out := bytes.Replace(b, []byte(`"level":`), []byte(`"note":"`+note+`","level":`), 1)
	if bytes.Equal(out, b) {
		t.Fatal("could not insert the note")
	}
	return out
}

var idCases = []idCase{
	{
		name: "structured, in data",
		msg: func(t testing.TB) *nats.Msg {
			return &nats.Msg{Subject: ioSubject, Data: idWithNote(t, "身份证号"+idNumber)}
		},
		needles: []string{idNumber},
	},
	{
		name: "binary, in a ce- extension header",
		msg: func(t testing.TB) *nats.Msg {
			m := ioBinary(t, "id-case", "/xianyang/edu", nil)
			m.Header.Set("ce-holder", idNumber)
			return m
		},
		needles: []string{idNumber},
	},
	{
		// Typed by a Chinese input method in full-width mode.
		name: "structured, full-width digits in data",
		msg: func(t testing.TB) *nats.Msg {
			return &nats.Msg{Subject: ioSubject, Data: idWithNote(t, "身份证"+idFullWidth)}
		},
		needles: []string{idFullWidth, idNumber},
	},
	{
		name: "structured, JSON-escaped in data",
		msg: func(t testing.TB) *nats.Msg {
			return &nats.Msg{Subject: ioSubject, Data: idWithNote(t, idEscaped)}
		},
		needles: []string{idNumber, idEscaped},
	},
	{
		// As Python's json.dumps (ensure_ascii) writes "身份证号" + number:
		// the number follows the hex digit of \u53f7.
		name: "structured, after a \\u-escaped CJK character",
		msg: func(t testing.TB) *nats.Msg {
			return &nats.Msg{Subject: ioSubject, Data: idWithNote(t, `\u8eab\u4efd\u8bc1\u53f7`+idNumber)}
		},
		needles: []string{idNumber},
	},
	{
		name: "structured, after an escaped newline",
		msg: func(t testing.TB) *nats.Msg {
			return &nats.Msg{Subject: ioSubject, Data: idWithNote(t, `核实\n`+idNumber)}
		},
		needles: []string{idNumber},
	},
	{
		name: "binary, in a header name",
		msg: func(t testing.TB) *nats.Msg {
			m := ioBinary(t, "id-case", "/xianyang/edu", nil)
			m.Header.Set("X-"+idNumber, "checked")
			return m
		},
		needles: []string{idNumber},
	},
	{
		name: "structured, in the NATS subject",
		msg: func(t testing.TB) *nats.Msg {
			return &nats.Msg{Subject: "edu.enrolment." + idNumber, Data: ioStructured(t, "id-case", "/xianyang/edu")}
		},
		needles: []string{idNumber},
	},
}

func TestIDNumberRedactedEverywhere(t *testing.T) {
	if !idcard.Valid(idNumber) || idcard.Mask(idNumber) != idMasked {
		t.Fatalf("%s is not a valid number masked as %s", idNumber, idMasked)
	}
	for _, tc := range idCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ctx, h, _, js := ioHub(t, hub.Config{DataDir: dir, PurgeEvery: 50 * time.Millisecond})
			if _, err := js.PublishMsg(ctx, tc.msg(t)); err != nil {
				t.Fatal(err)
			}
			ioWait(ctx, t, h, js, 1)

			// Refused as id_number, with the number masked.
			if facts := logged(t, js, fact.FactSubjectPrefix+">"); len(facts) != 0 {
				t.Errorf("the message was accepted into the log: %d fact(s), headers %v", len(facts), facts[0].Header)
			}
			rs := ioRejections(ctx, t, js)
			if len(rs) != 1 {
				t.Errorf("%d rejections, want 1", len(rs))
			} else {
				idCheckRejection(t, rs[0])
			}

			// No stream keeps a clear copy once the hub has erased and
			// purged its intake.
			left := idPoll(ctx, 5*time.Second, func() []string { return idScanStreams(ctx, t, js) })
			for _, f := range left {
				t.Errorf("clear number in JetStream: %s", f)
			}
			info, err := js.Stream(ctx, fact.IntakeStream)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := info.Info(ctx); err != nil || st.State.Msgs != 0 {
				t.Errorf("the intake was not purged: %+v, %v", st.State, err)
			}

			// Nor does any file of the JetStream store (the number as
			// published, and JSON-escaped once more as a rejection's body
			// would hold it).
			store := filepath.Join(dir, "jetstream")
			var needles []string
			for _, n := range tc.needles {
				needles = append(needles, n)
				if esc := strings.ReplaceAll(n, `\`, `\\`); esc != n {
					needles = append(needles, esc)
				}
			}
			files := idPoll(ctx, 5*time.Second, func() []string { return idScanFiles(t, store, needles...) })
			for _, f := range files {
				t.Errorf("clear number in the JetStream store: %s", f)
			}
			// Nor after a shutdown, which writes the streams' index files.
			if len(files) == 0 {
				_ = h.Close()
				files = idScanFiles(t, store, needles...)
				for _, f := range files {
					t.Errorf("clear number in the JetStream store after shutdown: %s", f)
				}
			}
			if len(files) > 0 {
				var names []string
				_ = filepath.WalkDir(store, func(path string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						fi, _ := d.Info()
						rel, _ := filepath.Rel(store, path)
						names = append(names, fmt.Sprintf("%s (%d)", rel, fi.Size()))
					}
					return nil
				})
				t.Logf("store files: %s", strings.Join(names, ", "))
			}
		})
	}
}

// idCheckRejection checks that a rejection says id_number and shows the
// number masked, never in the clear.
func idCheckRejection(t *testing.T, r subscribers.LoggedRejection) {
	t.Helper()
	rb, _ := json.Marshal(r)
	t.Logf("rejection: %s", rb)
	hasID := false
	for _, v := range r.Violations {
		hasID = hasID || v.Reason == schemas.ReasonIDNumber
	}
	if !hasID || r.IDNumbers == 0 || !r.Redacted || r.SHA256 != "" {
		t.Errorf("rejection: id_number violation %v, id_numbers %d, redacted %v, sha256 %q; want true, >0, true, none",
			hasID, r.IDNumbers, r.Redacted, r.SHA256)
	}
	if !bytes.Contains(rb, []byte(idMasked)) {
		t.Errorf("the rejection does not show the masked number %s", idMasked)
	}
	if ids := hubtest.IDNumbersIn(rb, 3); len(ids) > 0 {
		t.Errorf("the rejection keeps the number %q", ids)
	}
}

// TestIDNumberErasedBeforePurge isolates the erasure from the purge: with a
// purge interval longer than the test, the intake block that held the clear
// number still holds the facts around it, so only the hub's secure erase
// (overwriting the message in the block) can remove the number's bytes.
func TestIDNumberErasedBeforePurge(t *testing.T) {
	dir := t.TempDir()
	ctx, h, _, js := ioHub(t, hub.Config{DataDir: dir, PurgeEvery: time.Hour})
	publish := func(m *nats.Msg) {
		t.Helper()
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	publish(&nats.Msg{Subject: ioSubject, Data: ioStructured(t, "before", "/xianyang/edu")})
	bad := ioBinary(t, "with-id", "/xianyang/edu", nil)
	bad.Header.Set("ce-holder", idNumber)
	bad.Data = idWithNote(t, "身份证号"+idNumber) // data of a structured event: schema-invalid too
	publish(bad)
	publish(&nats.Msg{Subject: ioSubject, Data: ioStructured(t, "after", "/xianyang/edu")})
	ioWait(ctx, t, h, js, 3)

	if facts := logged(t, js, fact.FactSubjectPrefix+">"); len(facts) != 2 {
		t.Errorf("%d facts, want 2", len(facts))
	}
	if rs := ioRejections(ctx, t, js); len(rs) != 1 {
		t.Errorf("%d rejections, want 1", len(rs))
	} else {
		idCheckRejection(t, rs[0])
	}
	left := idPoll(ctx, 5*time.Second, func() []string { return idScanStreams(ctx, t, js) })
	for _, f := range left {
		t.Errorf("clear number in JetStream: %s", f)
	}
	s, err := js.Stream(ctx, fact.IntakeStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 || info.State.NumDeleted != 1 {
		t.Errorf("intake state %+v: want the two facts kept (no purge yet) and the third message erased", info.State)
	}
	store := filepath.Join(dir, "jetstream")
	files := idPoll(ctx, 5*time.Second, func() []string { return idScanFiles(t, store, idNumber) })
	for _, f := range files {
		t.Errorf("clear number in the JetStream store: %s", f)
	}
	_ = h.Close() // writes the streams' index files
	for _, f := range idScanFiles(t, store, idNumber) {
		t.Errorf("clear number in the JetStream store after shutdown: %s", f)
	}
	var names []string
	_ = filepath.WalkDir(store, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			rel, _ := filepath.Rel(store, path)
			names = append(names, fmt.Sprintf("%s (%d)", rel, fi.Size()))
		}
		return nil
	})
	t.Logf("store files: %s", strings.Join(names, ", "))
}
