package hub_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
)

// TestHTTPAccess: with identities on, every endpoint but /healthz and
// /readyz wants a token (401 in the API's error shape); a county sees only
// its own county (403 elsewhere), a department aggregates and its own, the
// lead office everything.
func TestHTTPAccess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ids")
	if _, err := identities.Init(dir, schemas.MustLoad()); err != nil {
		t.Fatal(err)
	}
	ids, err := identities.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _, js := hubtest.Start(t, hub.Config{Identities: ids, HTTPAddr: "127.0.0.1:0", TickEvery: -1})
	// Facts arrive as the departments send them: each with its identity.
	if err := scenario.PublishAs(t.Context(), h.ClientURL(), dir, scenario.Village(2021)); err != nil {
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
	lead, county, other, edu := token("lead-office"), token("county-610424"), token("county-610425"), token("edu")
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
	// A county's warnings are its own, whatever it asks.
	if _, body := get(county, "/api/v1/warnings"); strings.Contains(body, `"area": "610425"`) {
		t.Errorf("county 610424's warnings hold another county's: %s", body)
	}

	// Every read of a household by someone other than the lead office is in
	// the log for the auditors: the county's one read; not the lead
	// office's; not the refused ones.
	waitIdle(t, h)
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
	if len(reads) != 1 || reads[0]["identity"] != "county-610424" || reads[0]["entity_id"] != hh || reads[0]["role"] != "county" {
		t.Errorf("reads recorded: %v, want county 610424's one read of %s", reads, hh)
	}
}
