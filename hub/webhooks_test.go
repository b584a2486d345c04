package hub_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
)

// receiver is a unit's webhook endpoint: it checks every POST's signature
// and answers with the next of its statuses (the last one from then on).
type receiver struct {
	t        *testing.T
	secret   []byte
	statuses []int
	delay    time.Duration

	mu     sync.Mutex
	posts  []subscribers.NoticeEvent
	badSig []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	err := subscribers.VerifyWebhook(rc.secret, r.Header.Get(fact.HeaderWebhookTimestamp), r.Header.Get(fact.HeaderWebhookSignature),
		body, time.Now(), 5*time.Minute)
	ev, derr := subscribers.DecodeNotice(body)
	if r.Header.Get("Content-Type") != fact.ContentType {
		err = errors.Join(err, errors.New("content type "+r.Header.Get("Content-Type")))
	}
	rc.mu.Lock()
	if err != nil || derr != nil {
		rc.badSig = append(rc.badSig, errors.Join(err, derr))
	}
	rc.posts = append(rc.posts, ev)
	status := rc.statuses[min(len(rc.posts), len(rc.statuses))-1]
	rc.mu.Unlock()
	if rc.delay > 0 {
		select {
		case <-time.After(rc.delay):
		case <-r.Context().Done():
		}
	}
	w.WriteHeader(status)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.posts)
}

func newReceiver(t *testing.T, secret string, delay time.Duration, statuses ...int) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, secret: []byte(secret), statuses: statuses, delay: delay}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

// deliveries waits until a unit's delivery records satisfy ok.
func deliveries(t *testing.T, h *hub.Hub, dept string, ok func(subscribers.DeliveryLog) bool) subscribers.DeliveryLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	for {
		l, err := h.Deliveries(ctx, dept, 100)
		if err != nil {
			t.Fatal(err)
		}
		if ok(l) {
			return l
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deliveries of %s: %+v", dept, l)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestWebhooks: each notice of a unit with a webhook is POSTed, signed, as
// the CloudEvent's JSON; a 500 is tried again and then delivered, a 400 is
// given up at once, and every attempt is recorded.
func TestWebhooks(t *testing.T) {
	hrss, hrssSrv := newReceiver(t, "hrss-secret", 0, 500, 200)
	county, countySrv := newReceiver(t, "county-secret", 0, 400)
	h, nc, _ := ingestHub(t, t.TempDir(), func(c *hub.Config) {
		c.Notices = hub.NoticeConfig{Attempts: 3, Backoff: 10 * time.Millisecond, Webhooks: []hub.Webhook{
			{Dept: "hrss", URL: hrssSrv.URL + "/anzhi", Secret: []byte("hrss-secret")},
			{Dept: "county/610424", URL: countySrv.URL, Secret: []byte("county-secret")},
		}}
	})
	w := r4World(t, h, nc, scenario.RuleClock(2021))

	l := deliveries(t, h, "hrss", func(l subscribers.DeliveryLog) bool { return l.Delivered == 1 })
	if len(l.Items) != 2 || l.Items[1].Outcome != subscribers.DeliveryRetrying || l.Items[1].Status != 500 ||
		l.Items[0].Outcome != subscribers.DeliveryDelivered || l.Items[0].Attempt != 2 || l.Items[0].Status != 200 {
		t.Errorf("hrss deliveries (newest first): %+v", l.Items)
	}
	if got, want := l.Items[0].NoticeID, w.ID+".warning_raised.hrss"; got != want {
		t.Errorf("delivered %s, want %s", got, want)
	}
	if l.Webhook != hrssSrv.URL+"/anzhi" || l.Failed != 0 {
		t.Errorf("hrss log: webhook %q, failed %d", l.Webhook, l.Failed)
	}
	if n := hrss.count(); n != 2 {
		t.Errorf("hrss's webhook got %d POSTs, want 2", n)
	}
	if len(hrss.badSig) > 0 || hrss.posts[1].Data.Warning == nil || hrss.posts[1].Data.Warning.ID != w.ID {
		t.Errorf("hrss's webhook: signature errors %v, notice %+v", hrss.badSig, hrss.posts[1].Data)
	}

	// 乾县 is told of R4 and of R23 (the household's 两不愁三保障): each
	// POSTed once, refused for good.
	l = deliveries(t, h, "county/610424", func(l subscribers.DeliveryLog) bool {
		return slices.ContainsFunc(l.Items, func(d subscribers.Delivery) bool { return d.NoticeID == w.ID+".warning_raised.county-610424" })
	})
	for _, d := range l.Items {
		if d.Outcome != subscribers.DeliveryFailed || d.Status != 400 || d.Attempt != 1 || !strings.Contains(d.Error, "for good") {
			t.Errorf("county delivery: %+v", d)
		}
	}
	if n := county.count(); n != l.Failed || len(county.badSig) > 0 {
		t.Errorf("county's webhook got %d POSTs (signature errors %v), want %d: one a notice", n, county.badSig, l.Failed)
	}
	if l, err := h.Deliveries(context.Background(), "edu", 10); err != nil || l.Webhook != "" || len(l.Items) != 0 {
		t.Errorf("edu (no webhook): %+v, %v", l, err)
	}
}

// TestWebhookSlowEndpoint: a unit whose endpoint takes long does not hold
// up another unit's deliveries.
func TestWebhookSlowEndpoint(t *testing.T) {
	slow, slowSrv := newReceiver(t, "s", 20*time.Second, 200)
	_, fastSrv := newReceiver(t, "f", 0, 200)
	h, nc, _ := ingestHub(t, t.TempDir(), func(c *hub.Config) {
		c.Notices = hub.NoticeConfig{Attempts: 2, Backoff: 10 * time.Millisecond, Timeout: time.Minute, Webhooks: []hub.Webhook{
			{Dept: "hrss", URL: slowSrv.URL, Secret: []byte("s")},
			{Dept: "county/610424", URL: fastSrv.URL, Secret: []byte("f")},
		}}
	})
	start := time.Now()
	r4World(t, h, nc, scenario.RuleClock(2021))
	deliveries(t, h, "county/610424", func(l subscribers.DeliveryLog) bool { return l.Delivered >= 1 })
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the fast unit's notice took %v: held up by the slow one", took)
	}
	// The slow endpoint has its POST (it may have come after the fast
	// one's) and is still answering.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for slow.count() == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if slow.count() != 1 {
		t.Errorf("the slow endpoint got %d POSTs, want 1 (still answering)", slow.count())
	}
	if l, _ := h.Deliveries(context.Background(), "hrss", 10); len(l.Items) != 0 {
		t.Errorf("the slow unit has records before its endpoint answered: %+v", l.Items)
	}
}

// TestLoadWebhooks: a webhooks file is read with its secrets, and a bad one
// is refused naming every wrong entry and no secret.
func TestLoadWebhooks(t *testing.T) {
	cat := schemas.MustLoad()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("hrss.secret", "s3cr3t-hrss\n")
	write("empty.secret", "\n")
	good := write("good.json", `[{"dept": "hrss", "url": "https://hrss.example/anzhi", "secret_file": "hrss.secret"},
		{"dept": "county/610424", "url": "http://127.0.0.1:9/x", "secret_file": "`+filepath.Join(dir, "hrss.secret")+`"}]`)
	ws, err := hub.LoadWebhooks(good, cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Dept != "hrss" || string(ws[0].Secret) != "s3cr3t-hrss" || ws[1].Dept != "county/610424" {
		t.Fatalf("loaded %v", ws)
	}
	if s := ws[0].String(); strings.Contains(s, "s3cr3t") {
		t.Errorf("a webhook prints its secret: %s", s)
	}
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"not-json.json", `{"dept": "hrss"}`, []string{"JSON array"}},
		{"unknown-field.json", `[{"dept": "hrss", "url": "https://x", "secret": "s3cr3t-hrss"}]`, []string{"unknown field"}},
		{"bad.json", `[{"dept": "nobody", "url": "https://x/y", "secret_file": "hrss.secret"},
			{"dept": "hrss", "url": "ftp://x/y", "secret_file": "missing.secret"},
			{"dept": "hrss", "url": "https://x/y", "secret_file": "empty.secret"},
			{"dept": "edu", "url": "https://u:s3cr3t@x/y"}]`,
			[]string{`entry 1 (dept "nobody"): "nobody": not a responsible unit`, `entry 2 (dept "hrss"): url "ftp://x/y"`,
				"missing.secret", `entry 3 (dept "hrss"): a second webhook`, "empty.secret is empty", `entry 4 (dept "edu"): no secret_file`}},
	} {
		_, err := hub.LoadWebhooks(write(tc.name, tc.body), cat)
		if !errors.Is(err, hub.ErrBadWebhooks) {
			t.Errorf("%s: %v, want ErrBadWebhooks", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nlacks %q", tc.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error shows a secret: %v", tc.name, err)
		}
	}
	if _, err := hub.LoadWebhooks(filepath.Join(dir, "none.json"), cat); !errors.Is(err, hub.ErrBadWebhooks) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
