package hub_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/subscribers"
)

// TestHTTPNoticeDigest: a unit's digest shows the warnings raised to it on
// the day, those escalated that day and those coming due within 7 days; a
// bad unit or date is refused with its reason.
func TestHTTPNoticeDigest(t *testing.T) {
	h, nc, _, base := httpHub(t)
	t0 := scenario.RuleClock(2021)
	w := r4World(t, h, nc, t0)
	digest := func(query string) subscribers.NoticeDigest {
		t.Helper()
		r := do(t, http.MethodGet, base+"/api/v1/notices/digest?"+query)
		if r.code != http.StatusOK {
			t.Fatalf("digest %s: %d %s", query, r.code, r.body)
		}
		conforms(t, "digest", "NoticeDigest", r.body)
		var d subscribers.NoticeDigest
		if err := json.Unmarshal(r.body, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	has := func(ws []subscribers.NoticeWarning, id string) bool {
		return slices.ContainsFunc(ws, func(x subscribers.NoticeWarning) bool { return x.ID == id })
	}
	// (The village's household breaks R23 as well, 乾县's and poverty's.)
	d := digest("dept=hrss")
	if d.Date != "2021-06-01" || len(d.New) != 1 || d.New[0].ID != w.ID || len(d.Escalated) != 0 || len(d.Due) != 0 ||
		d.Counts["new"] != 1 {
		t.Errorf("hrss's digest on the day R4 broke: %+v", d)
	}
	if d := digest("dept=county/610424"); !has(d.New, w.ID) || d.Counts["new"] != len(d.New) {
		t.Errorf("乾县's digest: %+v", d)
	}
	if d := digest("dept=edu"); len(d.New)+len(d.Escalated)+len(d.Due) != 0 {
		t.Errorf("edu's digest shows another's warning: %+v", d)
	}
	tick(t, h, t0.AddDate(0, 0, 8))
	if d := digest("dept=drc&date=2021-06-09"); !has(d.Escalated, w.ID) || d.Escalated[0].Level != "escalated" || len(d.New) != 0 {
		t.Errorf("drc's digest on the day R4 escalated: %+v", d)
	}
	if d := digest("dept=hrss&date=2021-06-01"); len(d.New) != 1 {
		t.Errorf("hrss's digest of an earlier day: %+v", d)
	}
	soon := w.Due.AddDate(0, 0, -7)
	tick(t, h, soon)
	d = digest("dept=hrss")
	if len(d.Due) != 1 || d.Due[0].ID != w.ID || d.Due[0].Clause == "" || len(d.Due[0].Evidence) == 0 || d.Due[0].Evidence[0].Seq == 0 {
		t.Errorf("hrss's digest a week before the due date: %+v", d)
	}
	for _, tc := range []struct{ query, want string }{
		{"", "dept"},
		{"dept=nobody", "not a responsible unit"},
		{"dept=hrss&date=June", "not a date"},
		{"dept=hrss&date=2020-01-01", "last 31 days"},
		{"dept=hrss&day=1", "unknown parameter"},
	} {
		r := do(t, http.MethodGet, base+"/api/v1/notices/digest?"+tc.query)
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("digest?%s: %d %s, want 400 saying %q", tc.query, r.code, r.body, tc.want)
		}
	}
	r := do(t, http.MethodGet, base+"/api/v1/notices/deliveries?dept=hrss")
	if r.code != http.StatusOK {
		t.Fatalf("deliveries: %d %s", r.code, r.body)
	}
	conforms(t, "deliveries", "DeliveryLog", r.body)
	if r := do(t, http.MethodGet, base+"/api/v1/notices/deliveries?dept=hrss&limit=0"); r.code != http.StatusBadRequest {
		t.Errorf("deliveries limit=0: %d", r.code)
	}
}

// TestHTTPDeliveries: the delivery records of a unit with a webhook, as the
// API shows them.
func TestHTTPDeliveries(t *testing.T) {
	_, srv := newReceiver(t, "s", 0, 503, 200)
	h, nc, _ := ingestHub(t, t.TempDir(), func(c *hub.Config) {
		c.HTTPAddr = "127.0.0.1:0"
		c.Notices = hub.NoticeConfig{Backoff: 10 * time.Millisecond, Webhooks: []hub.Webhook{{Dept: "hrss", URL: srv.URL, Secret: []byte("s")}}}
	})
	r4World(t, h, nc, scenario.RuleClock(2021))
	deliveries(t, h, "hrss", func(l subscribers.DeliveryLog) bool { return l.Delivered == 1 })
	r := do(t, http.MethodGet, "http://"+h.HTTPAddr()+"/api/v1/notices/deliveries?dept=hrss&limit=1")
	if r.code != http.StatusOK {
		t.Fatalf("deliveries: %d %s", r.code, r.body)
	}
	conforms(t, "deliveries", "DeliveryLog", r.body)
	var l subscribers.DeliveryLog
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	if l.Webhook != srv.URL || l.Delivered != 1 || len(l.Items) != 1 || l.Items[0].Outcome != "delivered" {
		t.Errorf("deliveries: %+v", l)
	}
	// And on the unit's page of the dashboard.
	page := do(t, http.MethodGet, "http://"+h.HTTPAddr()+"/department/hrss")
	if page.code != http.StatusOK || !strings.Contains(string(page.body), "department-deliveries") ||
		!strings.Contains(string(page.body), srv.URL) || strings.Count(string(page.body), "data-outcome=") != 2 {
		t.Errorf("hrss's page: %d, without its deliveries:\n%.2000s", page.code, page.body)
	}
}
