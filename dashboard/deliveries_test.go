package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// deliverySource is a source whose hub posts hrss's notices to a webhook.
type deliverySource struct{ fakeSource }

func (deliverySource) Deliveries(_ context.Context, dept string, limit int) (subscribers.DeliveryLog, error) {
	l := subscribers.DeliveryLog{Dept: dept, Items: []subscribers.Delivery{}}
	if dept != "hrss" {
		return l, nil
	}
	at := time.Date(2021, 6, 1, 0, 0, 1, 0, time.UTC)
	l.Webhook, l.Delivered, l.Failed = "https://hrss.example/anzhi", 1, 1
	l.Items = []subscribers.Delivery{
		{NoticeID: "W-R4-1.warning_escalated.hrss", Kind: subscribers.NoticeWarningEscalated, Dept: dept, Attempt: 1,
			Outcome: subscribers.DeliveryFailed, Status: 400, Error: "answered 400 Bad Request: refused for good", At: at.Add(time.Hour)},
		{NoticeID: "W-R4-1.warning_raised.hrss", Kind: subscribers.NoticeWarningRaised, Dept: dept, Attempt: 2,
			Outcome: subscribers.DeliveryDelivered, Status: 200, At: at.Add(time.Second)},
		{NoticeID: "W-R4-1.warning_raised.hrss", Kind: subscribers.NoticeWarningRaised, Dept: dept, Attempt: 1,
			Outcome: subscribers.DeliveryRetrying, Status: 503, Error: "answered 503", At: at},
	}
	return l, nil
}

// TestDepartmentPageDeliveries: a unit with a webhook sees on its page the
// webhook and its latest deliveries, labelled in both languages; a unit
// without one sees no such section.
func TestDepartmentPageDeliveries(t *testing.T) {
	cat := schemas.MustLoad()
	v, err := view.New(cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(deliverySource{fakeSource{v, cat}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range s.Pages() {
		mux.Handle(p.Pattern, p.Handler)
	}
	get := func(path, lang string) string {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		body := rec.Body.String()
		if i := strings.Index(body, "‹"); i >= 0 {
			t.Errorf("%s %s: a label is missing from messages.json: %s", lang, path, body[i:min(len(body), i+60)])
		}
		return body
	}
	for lang, want := range map[string][]string{
		"zh-CN": {"通知推送记录", "https://hrss.example/anzhi", "已送达", "重试中", "失败", "预警升级", "refused for good"},
		"en":    {"Webhook deliveries", "Delivered", "Retrying", "Failed", "Warning escalated", "Warning raised", "503"},
	} {
		body := get("/department/hrss", lang)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: hrss's page lacks %q", lang, w)
			}
		}
		if n := strings.Count(body, "data-outcome="); n != 3 {
			t.Errorf("%s: %d delivery rows, want 3", lang, n)
		}
	}
	if body := get("/department/edu", "en"); strings.Contains(body, "department-deliveries") {
		t.Error("edu, without a webhook, has a deliveries section")
	}
	// Every kind and outcome has its label.
	msgs, err := loadMessages()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range subscribers.NoticeKinds() {
		if _, ok := msgs["notice."+string(k)]; !ok {
			t.Errorf("notice kind %s has no label notice.%s", k, k)
		}
	}
	for _, o := range []string{subscribers.DeliveryDelivered, subscribers.DeliveryRetrying, subscribers.DeliveryFailed} {
		if _, ok := msgs["delivery."+o]; !ok {
			t.Errorf("outcome %s has no label delivery.%s", o, o)
		}
	}
}
