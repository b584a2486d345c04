package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// TestHTTPWarningsPagination pages through many warnings of several rules
// two at a time: every warning comes once, in rule-then-entity order, and
// the same pages come out twice.
func TestHTTPWarningsPagination(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	const year = 2021
	t0 := time.Date(year, 6, 1, 0, 0, 0, 0, time.UTC)
	world := append(scenario.Village(year), scenario.Alive(registryDepts(), t0)...)
	for i := 3; i <= 5; i++ { // households without a title deed (R9)
		rest, _ := without(scenario.Household(fmt.Sprintf("H610424-%06d", i), scenario.VillageSite, year,
			[]scenario.Member{{Key: scenario.Person(100 + i), Born: 1985, Labour: "full"}}), "resources.deeds")
		world = append(world, rest...)
	}
	if err := scenario.Publish(ctx, nc, world); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := scenario.Publish(ctx, nc, []scenario.Item{
		scenario.Employed(scenario.Person(0), scenario.VillageHousehold, "unemployed", scenario.Day("2021-05-01"))}); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A month later every department is silent (R18) and the older
	// warnings are past acknowledgement (escalated).
	if err := h.Tick(ctx, t0.AddDate(0, 0, 31)); err != nil {
		t.Fatal(err)
	}
	want := h.View().Warnings(view.WarningQuery{})
	conforms(t, "warnings", "WarningPage", do(t, http.MethodGet, base+"/api/v1/warnings?limit=1000").body)
	rules := map[string]bool{}
	for _, w := range want {
		rules[w.Rule] = true
	}
	if len(want) < 5 || !rules["R4"] || !rules["R9"] || !rules["R18"] {
		t.Fatalf("%d warnings of rules %v; the test wants R4, R9 and R18", len(want), rules)
	}

	pages := func(query string) (ids []string, n int) {
		t.Helper()
		next := ""
		for {
			u := base + "/api/v1/warnings?limit=2" + query
			if next != "" {
				u += "&after=" + url.QueryEscape(next)
			}
			var p warningPage
			getJSON(t, u, http.StatusOK, &p)
			n++
			if len(p.Items) > 2 || (p.Next != "" && len(p.Items) != 2) {
				t.Fatalf("page %d: %d items, next %q", n, len(p.Items), p.Next)
			}
			for _, w := range p.Items {
				ids = append(ids, w.Rule+" "+w.EntityID)
			}
			if next = p.Next; next == "" {
				return ids, n
			}
			if n > len(want) {
				t.Fatal("paging does not end")
			}
		}
	}
	var wantIDs []string
	for _, w := range want {
		wantIDs = append(wantIDs, w.Rule+" "+w.EntityID)
	}
	got, n := pages("")
	if !slices.Equal(got, wantIDs) {
		t.Errorf("paged\n%v\nwant\n%v", got, wantIDs)
	}
	if want := (len(wantIDs) + 1) / 2; n != want {
		t.Errorf("%d pages, want %d", n, want)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s twice", id)
		}
		seen[id] = true
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool {
		ri, ei, _ := strings.Cut(got[i], " ")
		rj, ej, _ := strings.Cut(got[j], " ")
		ni, _ := strconv.Atoi(ri[1:])
		nj, _ := strconv.Atoi(rj[1:])
		return ni < nj || ni == nj && ei < ej
	}) {
		t.Errorf("not in rule-then-entity order: %v", got)
	}
	if again, _ := pages(""); !slices.Equal(again, got) {
		t.Errorf("second paging differs:\n%v\n%v", again, got)
	}
	// Paging a filtered list, and the states partition the list.
	r18, _ := pages("&rule=R18")
	if len(r18) != len(h.View().Warnings(view.WarningQuery{Rule: "R18"})) {
		t.Errorf("R18: %d paged", len(r18))
	}
	total := 0
	for _, state := range []string{"open", "acknowledged", "escalated"} {
		var p warningPage
		getJSON(t, base+"/api/v1/warnings?limit=1000&state="+state, http.StatusOK, &p)
		for _, w := range p.Items {
			if w.Supervision != state {
				t.Errorf("state=%s lists %s on %s in state %s", state, w.Rule, w.EntityID, w.Supervision)
			}
		}
		total += len(p.Items)
	}
	if total != len(want) {
		t.Errorf("the states list %d warnings, want %d", total, len(want))
	}
}

// TestHTTPErrors checks the status and JSON body of every kind of error.
func TestHTTPErrors(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	cursor := func(s string) string { return url.QueryEscape(s) }
	cases := []struct {
		method, path string
		code         int
		mention      string // the message names this
	}{
		// Unknown entities.
		{"GET", "/api/v1/households/H610424-999999", 404, `household "H610424-999999"`},
		{"GET", "/api/v1/households/nonsense", 404, `household "nonsense"`},
		{"GET", "/api/v1/sites/S610424-9999", 404, `site "S610424-9999"`},
		{"GET", "/api/v1/counties/999999", 404, `county "999999"`},
		{"GET", "/api/v1/counties/610400", 404, `county "610400"`},
		{"GET", "/api/v1/departments/bank", 404, `department "bank"`},
		{"GET", "/api/v1/departments/county/999999", 404, `department "county/999999"`},
		// Unknown paths.
		{"GET", "/api/v1/nope", 404, "/api/v1/nope"},
		{"GET", "/api/v1/households/", 404, "/api/v1/households/"},
		{"GET", "/api/v2/city", 404, "GET /api/v2/city"},
		{"GET", "/api", 404, "GET /api"},
		// Wrong methods.
		{"POST", "/api/v1/city", 405, "POST /api/v1/city"},
		{"DELETE", "/api/v1/households/" + scenario.VillageHousehold, 405, "DELETE"},
		{"PUT", "/api/v1/warnings", 405, "allowed: GET, HEAD"},
		// Bad query parameters.
		{"GET", "/api/v1/warnings?rule=R99", 400, "rule=\"R99\""},
		{"GET", "/api/v1/warnings?rule=4", 400, "rule=\"4\""},
		{"GET", "/api/v1/warnings?state=closed", 400, "state=\"closed\""},
		{"GET", "/api/v1/warnings?county=999999", 400, "county=\"999999\""},
		{"GET", "/api/v1/warnings?dept=bank", 400, "dept=\"bank\""},
		{"GET", "/api/v1/warnings?limit=abc", 400, "limit=\"abc\""},
		{"GET", "/api/v1/warnings?limit=0", 400, "limit=\"0\""},
		{"GET", "/api/v1/warnings?limit=1001", 400, "limit=\"1001\""},
		{"GET", "/api/v1/warnings?limit=-5", 400, "limit=\"-5\""},
		{"GET", "/api/v1/warnings?after=%21%21%21", 400, "after=\"!!!\""},
		{"GET", "/api/v1/warnings?after=" + cursor("bm90IGEgY3Vyc29y"), 400, "after="},
		{"GET", "/api/v1/warnings?countyy=610424", 400, "countyy"},
		{"GET", "/api/v1/warnings?rule=R4&rule=R7", 400, "rule"},
		{"GET", "/api/v1/city?verbose=1", 400, "verbose"},
		{"GET", "/api/v1/warnings?rule=%zz", 400, "query"},
		{"GET", "/api/v1/rejections?after=x", 400, "after=\"x\""},
		{"GET", "/api/v1/rejections?since=yesterday", 400, "since=\"yesterday\""},
		{"GET", "/api/v1/rejections?limit=100000", 400, "limit=\"100000\""},
		{"GET", "/api/v1/rejections?dept=bank", 400, "dept=\"bank\""},
	}
	for _, c := range cases {
		r := do(t, c.method, base+c.path)
		if r.code != c.code {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.code, c.code, r.body)
			continue
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, ct)
		}
		var e errorJSON
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Errorf("%s %s: body is not JSON: %v: %s", c.method, c.path, err, r.body)
			continue
		}
		if e.Status != c.code || !strings.Contains(e.Error, c.mention) {
			t.Errorf("%s %s: %+v, want status %d and a message naming %s", c.method, c.path, e, c.code, c.mention)
		}
		if c.code == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", c.method, c.path)
		}
	}
}
