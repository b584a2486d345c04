package hub_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// TestHTTPReport: the quarterly report in its three formats over HTTP,
// with its media type, file name and the cut it was read from; a county's
// holds only that county; bad input is a 400 naming what is wrong.
func TestHTTPReport(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	items := append(scenario.Village(2021), scenario.Plan("2021Q1", 2021)...)
	items = append(items, scenario.Funds("drc", "P610424-XM01", "610424", scenario.VillageSite, "allocated", 1234.5, "2021-03-01"),
		scenario.Problem("FK-1", "county/610424", "610424", "2021-04-01", "道路破损"))
	if err := scenario.Publish(ctx, nc, items); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, time.Date(2021, 7, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	quarter := view.QuarterOf(time.Now().In(view.ChinaTime()))
	for _, c := range []struct{ ext, mediaType, disposition string }{
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "attachment"},
		{"html", "text/html; charset=utf-8", "inline"},
		{"md", "text/markdown; charset=utf-8", "inline"},
	} {
		r := do(t, http.MethodGet, base+"/api/v1/reports/"+quarter+"."+c.ext)
		if r.code != http.StatusOK || r.header.Get("Content-Type") != c.mediaType {
			t.Fatalf("%s: %d %s: %.300s", c.ext, r.code, r.header.Get("Content-Type"), r.body)
		}
		if want := c.disposition + `; filename="anzhi-report-` + quarter + "." + c.ext + `"`; r.header.Get("Content-Disposition") != want {
			t.Errorf("%s: Content-Disposition %q, want %q", c.ext, r.header.Get("Content-Disposition"), want)
		}
		if r.header.Get(fact.HeaderCutSeq) == "" {
			t.Errorf("%s: no %s", c.ext, fact.HeaderCutSeq)
		}
		switch c.ext {
		case "xlsx":
			book, err := excelize.OpenReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatalf("the workbook: %v", err)
			}
			if v, _ := book.GetCellValue("资金-区县", "C8"); v != "1,234.50" {
				t.Errorf("资金-区县 C8 (乾县's funds allocated): %q, want 1,234.50", v)
			}
			book.Close()
		case "html":
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("the page's CSP %q lets it load things", csp)
			}
			if !bytes.Contains(r.body, []byte("<svg")) || !bytes.Contains(r.body, []byte("FK-1")) {
				t.Errorf("the page lacks its charts or the problem fed back")
			}
		case "md":
			if !bytes.Contains(r.body, []byte("| 610424 | 乾县 | 1,234.50 |")) || !bytes.Contains(r.body, []byte("本季度尚未结束")) {
				t.Errorf("the Markdown:\n%s", r.body)
			}
		}
	}
	r := do(t, http.MethodGet, base+"/api/v1/reports/"+quarter+".md?county=610425")
	if r.code != http.StatusOK || !bytes.HasPrefix(r.body, []byte("# 礼泉县")) || bytes.Contains(r.body, []byte("乾县")) {
		t.Errorf("610425's report: %d\n%.500s", r.code, r.body)
	}
	if d := r.header.Get("Content-Disposition"); !strings.Contains(d, "anzhi-report-"+quarter+"-610425.md") {
		t.Errorf("610425's report is named %q", d)
	}
	// A quarter that has ended is read from its cut, here before the log
	// began: nothing of the scenario.
	r = do(t, http.MethodGet, base+"/api/v1/reports/2021Q2.md")
	if r.code != http.StatusOK || !bytes.Contains(r.body, []byte("季度已结束")) || bytes.Contains(r.body, []byte("FK-1")) {
		t.Errorf("2021Q2 (ended before the log began): %d\n%.400s", r.code, r.body)
	}
	for _, c := range []struct{ path, want string }{
		{"/api/v1/reports/2025Q5.md", "quarter"},
		{"/api/v1/reports/2025Q4.pdf", "format"},
		{"/api/v1/reports/2025Q4", "file"},
		{"/api/v1/reports/2099Q1.html", "has not begun"},
		{"/api/v1/reports/2025Q4.md?county=610400", "county"},
		{"/api/v1/reports/2025Q4.md?county=999999", "county"},
		{"/api/v1/reports/2025Q4.md?dept=edu", "dept"},
	} {
		r := do(t, http.MethodGet, base+c.path)
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("GET %s: %d %s, want 400 naming %s", c.path, r.code, r.body, c.want)
		}
	}
}

// TestHTTPReportAccess: with identities on, the lead office and the
// auditors read every report, a county government its own county's (the
// report narrowed to it, another county refused), a department none.
func TestHTTPReportAccess(t *testing.T) {
	dir, ids := hubtest.Identities(t)
	h, _, _ := hubtest.Start(t, hub.Config{Identities: ids, HTTPAddr: "127.0.0.1:0", TickEvery: -1})
	if err := scenario.PublishAs(t.Context(), h.ClientURL(), dir, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	quarter := view.QuarterOf(time.Now().In(view.ChinaTime()))
	get := func(name, query string) response {
		tok, err := identities.IssueToken(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return do(t, http.MethodGet, "http://"+h.HTTPAddr()+"/api/v1/reports/"+quarter+".md"+query, "Authorization", "Bearer "+tok)
	}
	for _, c := range []struct {
		name, query string
		code        int
		title       string
	}{
		{"lead-office", "", http.StatusOK, "# 咸阳市"},
		{"auditor", "?county=610425", http.StatusOK, "# 礼泉县"},
		{"county-610424", "", http.StatusOK, "# 乾县"},
		{"county-610424", "?county=610424", http.StatusOK, "# 乾县"},
		{"county-610424", "?county=610425", http.StatusForbidden, ""},
		{"edu", "", http.StatusForbidden, ""},
	} {
		r := get(c.name, c.query)
		if r.code != c.code || !bytes.HasPrefix(r.body, []byte(c.title)) {
			t.Errorf("%s %s: %d %.120s, want %d %s", c.name, c.query, r.code, r.body, c.code, c.title)
		}
	}
	if r := do(t, http.MethodGet, "http://"+h.HTTPAddr()+"/api/v1/reports/"+quarter+".md"); r.code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r.code)
	}
}
