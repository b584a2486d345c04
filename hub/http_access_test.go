package hub_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

// TestHTTPAccess: with identities on, every endpoint but /healthz and
// /readyz wants a token (401 in the API's error shape); a county sees only
// its own county (403 elsewhere), a department aggregates and its own, the
// lead office everything.
func TestHTTPAccess(t *testing.T) {
	dir, ids := hubtest.Identities(t)
	h, _, js := hubtest.Start(t, hub.Config{Identities: ids, HTTPAddr: "127.0.0.1:0", TickEvery: -1})
	// Facts arrive as the departments send them: each with its identity. A
	// person of each county lets the insurance lapse, so that each county
	// has a warning (R7) of its own.
	const otherHH, otherSite = "H610425-000001", "S610425-0001"
	items := append(scenario.Village(2021), scenario.Site(otherSite, "610425", 1, 1))
	items = append(items, scenario.Household(otherHH, otherSite, 2021, []scenario.Member{{Key: scenario.Person(9), Born: 1970, Labour: "full"}})...)
	for _, it := range append(scenario.Covered(scenario.Person(0), scenario.VillageHousehold, 2021, "lapsed"),
		scenario.Covered(scenario.Person(9), otherHH, 2021, "lapsed")...) {
		it.Fact.Time = scenario.Day("2021-03-01")
		items = append(items, it)
	}
	if err := scenario.PublishAs(t.Context(), h.ClientURL(), dir, items); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(t.Context(), time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	token := func(name string) string {
		tok, err := identities.IssueToken(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	lead, county, other, edu, auditor := token("lead-office"), token("county-610424"), token("county-610425"), token("edu"), token("auditor")
	get := func(tok, path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+h.HTTPAddr()+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	hh, site := scenario.VillageHousehold, scenario.VillageSite
	for _, tt := range []struct {
		who, tok, path string
		code           int
	}{
		{"anonymous", "", "/healthz", 200},
		{"anonymous", "", "/readyz", 200},
		{"anonymous", "", "/api/v1/city", 401},
		{"anonymous", "", "/api/v1/households/" + hh, 401},
		{"anonymous", "", "/api/v1/openapi.json", 401},
		{"a wrong token", "anzhi_not-a-token", "/api/v1/city", 401},
		{"lead office", lead, "/api/v1/city", 200},
		{"lead office", lead, "/api/v1/households/" + hh, 200},
		{"lead office", lead, "/metrics", 200},
		{"county 610424", county, "/api/v1/counties/610424", 200},
		{"county 610424", county, "/api/v1/households/" + hh, 200},
		{"county 610424", county, "/api/v1/sites/" + site, 200},
		{"county 610424", county, "/api/v1/warnings", 200},
		{"county 610424", county, "/api/v1/departments/county/610424", 200},
		{"county 610424", county, "/api/v1/counties/610425", 403},
		{"county 610424", county, "/api/v1/city", 403},
		{"county 610424", county, "/api/v1/counties", 403},
		{"county 610424", county, "/api/v1/warnings?county=610425", 403},
		{"county 610424", county, "/api/v1/rejections?dept=edu", 403},
		{"county 610424", county, "/metrics", 403},
		{"county 610424", county, "/api/v1/warnings?county=610424&county=610425", 400},
		{"county 610424", county, "/api/v1/warnings?County=610425", 400},
		{"county 610424", county, "/api/v1/rejections?dept=county/610425", 403},
		{"auditor", auditor, "/api/v1/households/" + hh, 200},
		{"auditor", auditor, "/api/v1/rejections?dept=edu", 200},
		{"auditor", auditor, "/metrics", 200},
		{"auditor", auditor, "/api/v1/events?limit=5", 200},
		{"county 610424", county, "/api/v1/events", 403},
		{"edu", edu, "/api/v1/events?dept=edu", 403},
		{"county 610425", other, "/api/v1/households/" + hh, 403},
		{"county 610425", other, "/api/v1/sites/" + site, 403},
		{"edu", edu, "/api/v1/city", 200},
		{"edu", edu, "/api/v1/sites/" + site, 200},
		{"edu", edu, "/api/v1/departments/edu", 200},
		{"edu", edu, "/api/v1/rejections", 200},
		{"edu", edu, "/api/v1/households/" + hh, 403},
		{"edu", edu, "/api/v1/departments/police", 403},
		{"edu", edu, "/api/v1/rejections?dept=police", 403},
		{"edu", edu, "/api/v1/digest", 403},
		{"lead office", lead, "/api/v1/tasks/RL25-1", 200},
		{"county 610424", county, "/api/v1/tasks?county=610424", 200},
		{"county 610424", county, "/api/v1/tasks?county=610425", 403},
		{"county 610424", county, "/api/v1/tasks/RL25-1", 200},
		{"county 610424", county, "/api/v1/tasks/RL25-1?unit=county/610425", 403},
		{"county 610424", county, "/api/v1/meetings?unit=county/610425", 403},
		{"county 610424", county, "/api/v1/assessment?county=610425", 403},
		{"county 610424", county, "/api/v1/reports/2026Q4.md?county=610425", 403},
		{"edu", edu, "/api/v1/tasks?dept=hrss", 403},
		{"edu", edu, "/api/v1/tasks/RL09-1?unit=hrss", 403},
		{"edu", edu, "/api/v1/reports/2026Q4.md", 403},
		{"county 610424", county, "/api/v1/findings", 200},
		{"county 610424", county, "/api/v1/findings?county=610425", 403},
		{"edu", edu, "/api/v1/findings", 200},
		{"edu", edu, "/api/v1/findings?dept=hrss", 403},
	} {
		code, body := get(tt.tok, tt.path)
		if code != tt.code {
			t.Errorf("%s GET %s: %d, want %d: %s", tt.who, tt.path, code, tt.code, body)
			continue
		}
		if code == 401 || code == 403 {
			var e struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Status != code || e.Error == "" {
				t.Errorf("%s GET %s: body %s, want the API's error shape", tt.who, tt.path, body)
			}
		}
	}
	// A county government reads its own row of a task shared by all
	// counties, not another's (which carries that county's rates).
	if code, body := get(county, "/api/v1/tasks/RL25-1"); code == 200 {
		var d struct {
			Units []struct {
				Owner string `json:"owner"`
			} `json:"units"`
		}
		if err := json.Unmarshal([]byte(body), &d); err != nil || len(d.Units) != 1 || d.Units[0].Owner != "county/610424" {
			t.Errorf("county 610424 reads RL25-1's rows %s, want its own only", body)
		}
	}
	// A county's warnings are its own, whatever it asks: the same page the
	// lead office gets for that county, every item in it.
	page := func(tok, path string) []map[string]any {
		code, body := get(tok, path)
		var p struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil || code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return p.Items
	}
	own, all := page(county, "/api/v1/warnings"), page(lead, "/api/v1/warnings")
	if want := page(lead, "/api/v1/warnings?county=610424"); len(own) != len(want) || len(want) == 0 || len(all) <= len(want) {
		t.Errorf("county 610424 sees %d warnings, the lead office %d for its county (%d in all)", len(own), len(want), len(all))
	}
	for _, w := range own {
		if w["area"] != "610424" {
			t.Errorf("county 610424 sees a warning of %v", w["area"])
		}
	}

	// Every read of a household by someone other than the lead office is in
	// the log for the auditors: the county's and the auditor's reads; not
	// the lead office's; not the refused ones. Reading changes nothing in
	// the view.
	version := h.View().Version()
	if code, _ := get(county, "/api/v1/households/"+strings.ToLower(hh)); code != 404 {
		t.Errorf("a household id the view does not know: %d", code)
	}
	if code, _ := get(county, "/api/v1/households/"+hh); code != 200 {
		t.Errorf("county's second read: %d", code)
	}
	waitIdle(t, h)
	if got := h.View().Version(); got != version {
		t.Errorf("reading a household changed the view (version %d → %d)", version, got)
	}
	var reads []map[string]any
	for _, m := range hubtest.Read(t, js, fact.LogStream, fact.FactSubjectPrefix+"hub.access.>") {
		var ev struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		reads = append(reads, ev.Data)
	}
	want := []string{"county-610424", "auditor", "county-610424"}
	if len(reads) != len(want) {
		t.Fatalf("reads recorded: %v, want %v's reads of %s", reads, want, hh)
	}
	for i, r := range reads {
		if r["identity"] != want[i] || r["entity_id"] != hh || r["path"] != "/api/v1/households/"+hh {
			t.Errorf("read %d recorded as %v, want %s reading %s", i, r, want[i], hh)
		}
	}
}
