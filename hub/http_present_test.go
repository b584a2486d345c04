package hub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/scenario"
)

// TestHTTPPartlyKnown is the README tour without the registry: one
// enrolment dated 2020-09-01 (China time) for a household nobody has
// registered yet. Nothing reads as lost: the date is the department's, the
// household says it is not registered, the city and counties count it as
// known, and as_of is absent (with a note) until the hub records its clock.
func TestHTTPPartlyKnown(t *testing.T) {
	h, nc, js, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cst := time.FixedZone("CST", 8*3600)
	const hh = "H610424-000123"
	child := scenario.Person(7)
	if err := scenario.Publish(ctx, nc, []scenario.Item{
		scenario.Enrolment(child, hh, "enrolled", time.Date(2020, 9, 1, 0, 0, 0, 0, cst))}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)

	t.Run("household", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/api/v1/households/"+hh)
		if r.code != http.StatusOK {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
		conforms(t, "household", "Household", r.body)
		var got struct {
			Registered  bool            `json:"registered"`
			Size        json.RawMessage `json:"size"`
			LabourCount json.RawMessage `json:"labour_count"`
			Notes       []string        `json:"notes"`
			Members     []struct {
				Registered  bool                      `json:"registered"`
				Obligations map[string]obligationJSON `json:"obligations"`
			} `json:"members"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Registered || string(got.Size) != "null" || string(got.LabourCount) != "null" {
			t.Errorf("registered %v size %s labour_count %s, want false, null, null", got.Registered, got.Size, got.LabourCount)
		}
		if len(got.Notes) == 0 || !strings.Contains(got.Notes[0], "not yet registered: known only through facts about its members") {
			t.Errorf("notes %q", got.Notes)
		}
		if len(got.Members) != 1 || got.Members[0].Registered {
			t.Fatalf("members %+v, want the child, not registered", got.Members)
		}
		fact := got.Members[0].Obligations["compulsory_edu"].Fact
		if fact == nil {
			t.Fatal("the enrolment obligation names no fact")
		}
		checkFact(t, js, "enrolment", *fact)
		var raw struct {
			Members []struct {
				Obligations map[string]struct {
					Fact map[string]any `json:"fact"`
				} `json:"obligations"`
			} `json:"members"`
		}
		_ = json.Unmarshal(r.body, &raw)
		f := raw.Members[0].Obligations["compulsory_edu"].Fact
		if f["effective_on"] != "2020-09-01" || f["time"] != "2020-09-01T00:00:00+08:00" {
			t.Errorf("enrolment effective_on %v time %v, want 2020-09-01 and 2020-09-01T00:00:00+08:00", f["effective_on"], f["time"])
		}
	})

	type areaBody struct {
		AsOf       *string  `json:"as_of"`
		Notes      []string `json:"notes"`
		Population struct {
			Households struct {
				Known            int64 `json:"known"`
				Registered       int64 `json:"registered"`
				NotYetRegistered int64 `json:"not_yet_registered"`
			} `json:"households"`
		} `json:"population"`
	}
	decodeArea := func(t *testing.T, path, schema string) areaBody {
		t.Helper()
		r := do(t, http.MethodGet, base+path)
		if r.code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", path, r.code, r.body)
		}
		conforms(t, path, schema, r.body)
		var a areaBody
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}

	t.Run("before the first tick", func(t *testing.T) {
		for _, p := range []struct{ path, schema string }{
			{"/api/v1/city", "Area"}, {"/api/v1/counties/610424", "Area"}, {"/api/v1/counties", "CountyList"},
		} {
			a := decodeArea(t, p.path, p.schema)
			if a.AsOf != nil {
				t.Errorf("%s: as_of %q before the first tick, want it absent", p.path, *a.AsOf)
			}
			if len(a.Notes) == 0 || !strings.Contains(strings.Join(a.Notes, "\n"), "no hub.tick folded") {
				t.Errorf("%s: notes %q do not say why as_of is absent", p.path, a.Notes)
			}
			if !strings.Contains(strings.Join(a.Notes, "\n"), "1 household(s) and 1 person(s) known only") {
				t.Errorf("%s: notes %q do not count the household known only through the enrolment", p.path, a.Notes)
			}
		}
		for _, p := range []string{"/api/v1/city", "/api/v1/counties/610424"} {
			if hc := decodeArea(t, p, "Area").Population.Households; hc.Known != 1 || hc.Registered != 0 || hc.NotYetRegistered != 1 {
				t.Errorf("%s: households %+v, want 1 known, not yet registered", p, hc)
			}
		}
	})

	t.Run("counties", func(t *testing.T) {
		var l struct {
			City     string `json:"city"`
			Counties []struct {
				Code       string `json:"code"`
				Name       string `json:"name"`
				Persons    int64  `json:"persons"`
				Population struct {
					Persons struct {
						Known int64 `json:"known"`
					} `json:"persons"`
				} `json:"population"`
			} `json:"counties"`
		}
		r := getJSON(t, base+"/api/v1/counties", http.StatusOK, &l)
		if l.City != "610400" || len(l.Counties) != 14 {
			t.Fatalf("city %s with %d counties, want 610400 with 14", l.City, len(l.Counties))
		}
		for _, k := range l.Counties {
			want := map[bool]int64{true: 1, false: 0}[k.Code == "610424"]
			if k.Population.Persons.Known != want || k.Persons != 0 {
				t.Errorf("%s %s: %d persons known, %d registered; want %d and 0", k.Code, k.Name, k.Population.Persons.Known, k.Persons, want)
			}
		}
		if etag := r.header.Get("ETag"); etag == "" {
			t.Error("no ETag")
		} else if r := do(t, http.MethodGet, base+"/api/v1/counties", "If-None-Match", etag); r.code != http.StatusNotModified {
			t.Errorf("If-None-Match: status %d, want 304", r.code)
		}
		if r := do(t, http.MethodGet, base+"/api/v1/counties?county=610424"); r.code != http.StatusBadRequest {
			t.Errorf("unknown parameter: status %d, want 400", r.code)
		}
	})

	t.Run("after ticks", func(t *testing.T) {
		if err := h.Tick(ctx, time.Date(2020, 9, 2, 1, 30, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		a := decodeArea(t, "/api/v1/city", "Area")
		if a.AsOf == nil || *a.AsOf != "2020-09-02T09:30:00+08:00" {
			t.Errorf("as_of %v, want 2020-09-02T09:30:00+08:00", a.AsOf)
		}
		if strings.Contains(strings.Join(a.Notes, "\n"), "no hub.tick") {
			t.Errorf("notes %q still say there is no clock", a.Notes)
		}
		// Forty days on, every department is silent: R18 warnings, in China time.
		if err := h.Tick(ctx, time.Date(2020, 10, 12, 1, 30, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items []struct {
				Rule     string `json:"rule"`
				RaisedAt string `json:"raised_at"`
				Due      string `json:"due_on"`
			} `json:"items"`
		}
		r := getJSON(t, base+"/api/v1/warnings?rule=R18", http.StatusOK, &page)
		conforms(t, "warnings", "WarningPage", r.body)
		if len(page.Items) == 0 {
			t.Fatal("no R18 warning after forty silent days")
		}
		for _, w := range page.Items {
			if w.RaisedAt != "2020-10-12T09:30:00+08:00" || !strings.HasSuffix(w.Due, "+08:00") {
				t.Errorf("%s raised_at %s due_on %s, want China time", w.Rule, w.RaisedAt, w.Due)
			}
		}
	})
}
