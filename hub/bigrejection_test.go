package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
)

// TestHugeRejectionDoesNotStallIngest: a message whose full rejection
// record would not fit in a NATS message (tens of kilobytes of reserved
// headers, each a violation of its own) once stopped the gate for good,
// retrying the same append forever. Its record is now cut to fit.
func TestHugeRejectionDoesNotStallIngest(t *testing.T) {
	ctx, h, _, js := ioHub(t, hub.Config{})
	bad := &nats.Msg{Subject: ioSubject, Header: nats.Header{}, Data: ioStructured(t, "big", "/xianyang/edu")}
	for i := 0; i < 550; i++ { // ≈ 60 KiB of headers, under the server's 64 KiB header limit
		bad.Header.Set(fmt.Sprintf("Anzhi-%s%03d", strings.Repeat("&", 100), i), "x")
	}
	if _, err := js.PublishMsg(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: ioSubject, Data: ioStructured(t, "after", "/xianyang/edu")}); err != nil {
		t.Fatal(err)
	}
	waitNotStuck(ctx, t, h)
	rs := logged(t, js, "anzhi.rejected.>")
	if len(rs) != 1 || !strings.Contains(string(rs[0].Data), `"omitted_violations"`) {
		t.Fatalf("want one cut-down rejection record, got %d", len(rs))
	}
	if got := logged(t, js, "anzhi.fact.>"); len(got) != 1 {
		t.Errorf("%d facts logged after the huge message, want 1", len(got))
	}
}

// waitNotStuck fails the test unless the hub judges everything (within
// hubtest.Patience: a stalled gate never does).
func waitNotStuck(ctx context.Context, t *testing.T, h *hub.Hub) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, hubtest.Patience)
	defer cancel()
	if err := h.WaitIdle(wctx); err != nil {
		t.Fatalf("gate stuck: %v", err)
	}
}

// TestHugeAttributesDoNotStallIngest: the same with attributes instead of
// headers: an id, type and subject of 120,000 characters each (JSON-escaped
// six times over in the record) are cut too.
func TestHugeAttributesDoNotStallIngest(t *testing.T) {
	ctx, h, _, js := ioHub(t, hub.Config{})
	long := strings.Repeat("<", 120_000)
	var ev map[string]any
	if err := json.Unmarshal(ioStructured(t, "x", "/xianyang/edu"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["id"], ev["type"], ev["subject"] = long, long, long
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: ioSubject, Data: buf.Bytes()}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: ioSubject, Data: ioStructured(t, "after", "/xianyang/edu")}); err != nil {
		t.Fatal(err)
	}
	waitNotStuck(ctx, t, h)
	if got := logged(t, js, "anzhi.fact.>"); len(got) != 1 {
		t.Errorf("%d facts logged after the huge message, want 1", len(got))
	}
}
