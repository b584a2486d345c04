package hub_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
)

type timelineJSON struct {
	Kind  string `json:"kind"`
	ID    string `json:"id"`
	Items []struct {
		Seq        uint64          `json:"log_seq"`
		Recorded   time.Time       `json:"recorded"`
		Stored     time.Time       `json:"stored"`
		Time       time.Time       `json:"time"`
		Department string          `json:"department"`
		Family     string          `json:"family"`
		Changed    json.RawMessage `json:"changed"`
		Warnings   []struct {
			WarningID string `json:"warning_id"`
			Rule      string `json:"rule"`
			Change    string `json:"change"`
		} `json:"warnings"`
	} `json:"items"`
	Next string `json:"next"`
}

// aboutInLog lists the log sequences of the entries about the ids, by the
// events API's entity filter (a scan of the log): what a timeline must hold.
func aboutInLog(t *testing.T, base string, ids ...string) []uint64 {
	t.Helper()
	var out []uint64
	for _, id := range ids {
		r := do(t, http.MethodGet, base+"/api/v1/events?include_hub=true&limit=1000&entity="+url.QueryEscape(id))
		for dec := json.NewDecoder(bytes.NewReader(r.body)); dec.More(); {
			var e struct {
				Seq     uint64 `json:"log_seq"`
				Subject string `json:"subject"`
			}
			if err := dec.Decode(&e); err != nil {
				t.Fatal(err)
			}
			if e.Subject != fact.FactSubjectPrefix+"hub.access.610400" && !slices.Contains(out, e.Seq) {
				out = append(out, e.Seq)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestTimeline: a household's timeline holds every entry about it and its
// persons, in order, with both times and the warnings raised or resolved;
// a person's, a site's and a warning's likewise.
func TestTimeline(t *testing.T) {
	base, _, _, _ := lateWorld(t)
	members := []string{scenario.Person(0), scenario.Person(1), scenario.Person(2)}
	var hh timelineJSON
	getJSON(t, base+"/api/v1/timeline/household/"+scenario.VillageHousehold, http.StatusOK, &hh)
	var got []uint64
	var r6 string
	var raised, resolved bool
	for i, it := range hh.Items {
		got = append(got, it.Seq)
		if i > 0 && it.Seq <= hh.Items[i-1].Seq {
			t.Errorf("item %d at log seq %d after %d: not in log order", i, it.Seq, hh.Items[i-1].Seq)
		}
		if it.Department == "" || it.Family == "" || it.Recorded.IsZero() || it.Stored.IsZero() || it.Time.IsZero() || len(it.Changed) == 0 {
			t.Errorf("item %d incomplete: %+v", i, it)
		}
		for _, w := range it.Warnings {
			if w.Rule == "R6" {
				r6 = w.WarningID
				raised = raised || w.Change == "raised"
				resolved = resolved || w.Change == "resolved"
			}
		}
	}
	if want := aboutInLog(t, base, append([]string{scenario.VillageHousehold}, members...)...); !slices.Equal(got, want) {
		t.Errorf("the household's timeline has log entries %v, want %v", got, want)
	}
	if !raised || !resolved {
		t.Errorf("the child's R6 warning raised %v, resolved %v in the household's timeline", raised, resolved)
	}
	household := slices.Clone(got)
	for _, c := range []struct{ kind, id string }{{"person", members[2]}, {"site", scenario.VillageSite}} {
		var tl timelineJSON
		getJSON(t, base+"/api/v1/timeline/"+c.kind+"/"+c.id, http.StatusOK, &tl)
		got = got[:0]
		for _, it := range tl.Items {
			got = append(got, it.Seq)
		}
		want := aboutInLog(t, base, c.id)
		if c.kind == "site" {
			// A site's own facts: its households' (which name it) are in
			// the households' timelines.
			want = slices.DeleteFunc(want, func(s uint64) bool { return slices.Contains(household, s) })
		}
		if !slices.Equal(got, want) {
			t.Errorf("the %s's timeline has log entries %v, want %v", c.kind, got, want)
		}
	}
	var w timelineJSON
	getJSON(t, base+"/api/v1/timeline/warning/"+r6, http.StatusOK, &w)
	// Raised in October, escalated once overdue, resolved in November.
	var families []string
	for _, it := range w.Items {
		families = append(families, it.Family)
	}
	if want := []string{"warning.raised", "warning.raised", "warning.resolved"}; !slices.Equal(families, want) {
		t.Errorf("the warning's timeline: %v, want %v", families, want)
	}
	// Pages.
	var p1, p2 timelineJSON
	getJSON(t, base+"/api/v1/timeline/household/"+scenario.VillageHousehold+"?limit=2", http.StatusOK, &p1)
	getJSON(t, base+"/api/v1/timeline/household/"+scenario.VillageHousehold+"?limit=1000&after="+p1.Next, http.StatusOK, &p2)
	if len(p1.Items) != 2 || p1.Next == "" || len(p1.Items)+len(p2.Items) != len(hh.Items) || p2.Next != "" {
		t.Errorf("pages of 2 and the rest: %d (next %q) + %d, want %d", len(p1.Items), p1.Next, len(p2.Items), len(hh.Items))
	}
	for _, path := range []string{"/api/v1/timeline/village/x", "/api/v1/timeline/household/H610424-999999", "/api/v1/timeline/person/nobody"} {
		if r := do(t, http.MethodGet, base+path); r.code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404: %s", path, r.code, r.body)
		}
	}
}

// TestTimelineAccess: a household's or a person's timeline is read as the
// household (its county, the lead office, the auditors; the read recorded),
// a site's as the site.
func TestTimelineAccess(t *testing.T) {
	dir, ids := hubtest.Identities(t)
	h, _, js := hubtest.Start(t, hub.Config{Identities: ids, HTTPAddr: "127.0.0.1:0", TickEvery: -1})
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
	get := func(tok, path string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+h.HTTPAddr()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		_, _ = io.Copy(io.Discard, r.Body)
		return r.StatusCode
	}
	hhPath, personPath := "/api/v1/timeline/household/"+scenario.VillageHousehold, "/api/v1/timeline/person/"+scenario.Person(2)
	sitePath := "/api/v1/timeline/site/" + scenario.VillageSite
	for _, c := range []struct {
		who, path string
		code      int
	}{
		{"lead-office", hhPath, 200},
		{"county-610424", hhPath, 200},
		{"county-610424", personPath, 200},
		{"auditor", personPath, 200},
		{"county-610425", hhPath, 403},
		{"county-610425", personPath, 403},
		{"edu", hhPath, 403},
		{"edu", personPath, 403},
		{"edu", sitePath, 200},
		{"county-610425", sitePath, 403},
		{"county-610424", "/api/v1/timeline/task/T1", 403},
	} {
		if got := get(token(c.who), c.path); got != c.code {
			t.Errorf("%s GET %s: %d, want %d", c.who, c.path, got, c.code)
		}
	}
	waitIdle(t, h)
	var readers []string
	for _, m := range hubtest.Read(t, js, fact.LogStream, fact.FactSubjectPrefix+"hub.access.>") {
		var ev struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Data["entity_id"] != scenario.VillageHousehold {
			t.Errorf("a read recorded of %v", ev.Data["entity_id"])
		}
		readers = append(readers, ev.Data["identity"].(string)+" "+ev.Data["path"].(string))
	}
	if want := []string{"county-610424 " + hhPath, "county-610424 " + personPath, "auditor " + personPath}; !slices.Equal(readers, want) {
		t.Errorf("reads recorded %v, want %v", readers, want)
	}
}
