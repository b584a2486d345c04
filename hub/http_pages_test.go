package hub_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestDashboardPages: the hub serves every page of the dashboard on a small
// world — 200 for what the view holds, a 404 page for what it does not, a
// 400 page for a query it cannot answer, never a panic on odd input — and
// answers unknown paths outside the API with a page, inside it with JSON.
func TestDashboardPages(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	t0 := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	hh, site := scenario.VillageHousehold, scenario.VillageSite
	world := append(scenario.Village(2021), scenario.Alive(registryDepts(), t0)...)
	world = append(world, scenario.Employed(scenario.Person(0), hh, "unemployed", scenario.Day("2021-05-01")))
	if err := scenario.Publish(ctx, nc, world); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	for _, tc := range []struct {
		path    string
		code    int
		mention string // the page shows this
	}{
		{"/", 200, "610424"},
		{"/?lang=x", 400, "lang"},
		{"/county/610424", 200, site},
		{"/county/999999", 404, "999999"},
		{"/county/%00", 404, ""},
		{"/site/" + site, 200, hh},
		{"/site/" + site + "?after=" + hh, 200, ""},
		{"/site/S610424-9999", 404, "S610424-9999"},
		{"/household/" + hh, 200, scenario.Person(0)[:12]},
		{"/household/H610424-999999", 404, "H610424-999999"},
		{"/household/" + strings.Repeat("x", 5000), 404, ""},
		{"/warnings", 200, "R4"},
		{"/warnings?rule=R4&county=610424", 200, hh},
		{"/warnings?rule=R99", 400, "R99"},
		{"/warnings?state=closed", 400, "closed"},
		{"/warnings?rule=%zz", 400, "query"},
		{"/warnings?rule=R4&rule=R7", 400, "rule"},
		{"/warnings?after=%21%21", 400, "after"},
		{"/departments", 200, "edu"},
		{"/department/edu", 200, ""},
		{"/department/county/610424", 200, ""},
		{"/department/bank", 404, "bank"},
		{"/catalog", 200, "registry.household"},
		{"/login", 200, ""},
		{"/nothing/here", 404, "/nothing/here"},
		{"/static/app.css", 200, ""},
		{"/static/../hub.go", 404, ""},
	} {
		r := do(t, "GET", base+tc.path)
		if r.code != tc.code {
			t.Errorf("GET %s: %d, want %d: %s", tc.path, r.code, tc.code, r.body[max(0, len(r.body)-1500):])
			continue
		}
		ct := r.header.Get("Content-Type")
		if !strings.HasPrefix(tc.path, "/static/") && !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q, want a page", tc.path, ct)
		}
		if !strings.Contains(string(r.body), tc.mention) {
			t.Errorf("GET %s: the page does not show %q", tc.path, tc.mention)
		}
		if strings.Contains(string(r.body), "‹") {
			t.Errorf("GET %s: a label is missing from the message catalog", tc.path)
		}
	}
	// A method the page does not take, and the API's own errors, stay what
	// they were.
	if r := do(t, "POST", base+"/county/610424"); r.code != 405 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("POST /county/610424: %d %s", r.code, r.header.Get("Content-Type"))
	}
	if r := do(t, "GET", base+"/api/v1/nope"); r.code != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/nope: %d %s", r.code, r.header.Get("Content-Type"))
	}
	// Signing in means nothing in open trial mode: the form goes on.
	res, err := noRedirect.PostForm(base+"/login", url.Values{"token": {"x"}, "next": {"/warnings"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/warnings" {
		t.Errorf("POST /login in open trial mode: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestDashboardLive: /live sends an event after a publish changes the view,
// and a page that goes away is no longer counted.
func TestDashboardLive(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	liveCtx, stop := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(liveCtx, "GET", base+"/live", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("/live: %d %s", res.StatusCode, ct)
	}
	if n := hub.LiveClients(h); n != 1 {
		t.Errorf("%d live clients, want 1", n)
	}
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
		close(events)
	}()
	published := time.Now()
	if err := scenario.Publish(ctx, nc, []scenario.Item{scenario.Employed(scenario.Person(0), scenario.VillageHousehold, "employed", scenario.Day("2021-05-01"))}); err != nil {
		t.Fatal(err)
	}
	select {
	case data := <-events:
		if !strings.Contains(data, `"log_seq"`) {
			t.Errorf("event data %s", data)
		}
		t.Logf("a view event %v after the publish: %s", time.Since(published).Round(time.Millisecond), data)
	case <-time.After(hubtest.Patience):
		t.Fatal("no view event after a publish")
	}
	stop()
	res.Body.Close()
	deadline := time.Now().Add(hubtest.Patience)
	for hub.LiveClients(h) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d live clients after the page went away", hub.LiveClients(h))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDashboardSignIn: with identities on, a page wants a sign-in (a page
// opened goes to /login, a live refresh gets 401); the token posted to
// /login becomes an HttpOnly, SameSite=Strict cookie, and the pages then
// keep to what the API lets that identity read, with household reads by a
// county recorded in the log.
func TestDashboardSignIn(t *testing.T) {
	dir, ids := hubtest.Identities(t)
	h, _, js := hubtest.Start(t, hub.Config{Identities: ids, HTTPAddr: "127.0.0.1:0", TickEvery: -1})
	if err := scenario.PublishAs(t.Context(), h.ClientURL(), dir, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	base := "http://" + h.HTTPAddr()
	get := func(cookie, path string, header ...string) *http.Response {
		req, _ := http.NewRequest("GET", base+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get("", "/county/610424"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fcounty%2F610424" {
		t.Errorf("anonymous /county/610424: %d to %q, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get("", "/", "X-Dashboard-Refresh", "1"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous live refresh: %d, want 401", res.StatusCode)
	}
	if res := get("", "/live"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous /live: %d, want 401", res.StatusCode)
	}
	for _, path := range []string{"/login", "/static/app.js", "/lang/en"} {
		if res := get("", path); res.StatusCode >= 400 {
			t.Errorf("anonymous %s: %d", path, res.StatusCode)
		}
	}
	signIn := func(name string) string {
		tok, err := identities.IssueToken(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := noRedirect.PostForm(base+"/login", url.Values{"token": {tok}, "next": {"/departments"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/departments" {
			t.Fatalf("sign in as %s: %d to %q", name, res.StatusCode, res.Header.Get("Location"))
		}
		for _, c := range res.Cookies() {
			if c.Name == "anzhi_session" {
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Value == "" || strings.Contains(c.Value, tok) {
					t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, a session id and not the token", c)
				}
				return c.Name + "=" + c.Value
			}
		}
		t.Fatalf("sign in as %s: no session cookie", name)
		return ""
	}
	// A wrong token goes back to the form, which says so.
	res, err := noRedirect.PostForm(base+"/login", url.Values{"token": {"anzhi_nope"}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?failed=1") {
		t.Errorf("a wrong token: %d to %q", res.StatusCode, loc)
	}
	// A form posted from another site is refused.
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://elsewhere.example")
	if res, err := noRedirect.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site sign-in: %v %v, want 403", res, err)
	} else {
		res.Body.Close()
	}

	lead, county, edu := signIn("lead-office"), signIn("county-610424"), signIn("edu")
	quarter := view.QuarterOf(time.Now().In(view.ChinaTime()))
	hh, site := scenario.VillageHousehold, scenario.VillageSite
	for _, tc := range []struct {
		who, cookie, path string
		code              int
	}{
		{"lead office", lead, "/", 200},
		{"lead office", lead, "/household/" + hh, 200},
		{"lead office", lead, "/warnings?county=610425", 200},
		{"county 610424", county, "/county/610424", 200},
		{"county 610424", county, "/site/" + site, 200},
		{"county 610424", county, "/household/" + hh, 200},
		{"county 610424", county, "/warnings", 200},
		{"county 610424", county, "/", 403},
		{"county 610424", county, "/county/610425", 403},
		{"county 610424", county, "/warnings?county=610425", 403},
		{"county 610424", county, "/department/edu", 403},
		{"county 610424", county, "/department/county/610424", 200},
		{"edu", edu, "/", 200},
		{"edu", edu, "/site/" + site, 200},
		{"edu", edu, "/household/" + hh, 403},
		{"edu", edu, "/department/edu", 200},
		{"edu", edu, "/department/police", 403},
		{"edu", edu, "/catalog", 200},
		{"lead office", lead, "/tasks", 200},
		{"lead office", lead, "/assessment", 200},
		{"lead office", lead, "/report/" + quarter + ".html", 200},
		{"county 610424", county, "/report/" + quarter + ".md", 200},
		{"county 610424", county, "/report/" + quarter + ".md?county=610425", 403},
		{"county 610424", county, "/tasks?county=610425", 403},
		{"county 610424", county, "/task/RL25-1", 200},
		{"county 610424", county, "/task/RL25-1?unit=county/610425", 403},
		{"county 610424", county, "/meetings", 200},
		{"county 610424", county, "/assessment?county=610425", 403},
		{"edu", edu, "/report/" + quarter + ".html", 403},
		{"edu", edu, "/tasks?dept=edu", 200},
		{"edu", edu, "/tasks?dept=hrss", 403},
		{"a stale cookie", "anzhi_session=anzhi_old", "/catalog", http.StatusSeeOther},
	} {
		res := get(tc.cookie, tc.path)
		if res.StatusCode != tc.code {
			t.Errorf("%s GET %s: %d, want %d", tc.who, tc.path, res.StatusCode, tc.code)
		}
		if res.StatusCode == 403 && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s GET %s: 403 as %s, want a page", tc.who, tc.path, res.Header.Get("Content-Type"))
		}
	}
	// The quarterly report is linked for those who may read it: a county
	// government its own county's, a department not at all.
	for who, c := range map[string]struct {
		cookie, want string
	}{"lead office": {lead, `/report/` + quarter + `.html"`}, "county 610424": {county, `/report/` + quarter + `.html?county=610424"`}, "edu": {edu, ""}} {
		req, _ := http.NewRequest("GET", base+"/tasks", nil)
		req.Header.Set("Cookie", c.cookie)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s GET /tasks: %d", who, res.StatusCode)
		}
		if links := strings.Contains(string(b), "/report/"); links != (c.want != "") || (c.want != "" && !strings.Contains(string(b), c.want)) {
			t.Errorf("%s: the board links the report %v, want %q", who, links, c.want)
		}
	}
	// A department sees the site, not the list of its households.
	for who, cookie := range map[string]string{"edu": edu, "county 610424": county} {
		req, _ := http.NewRequest("GET", base+"/site/"+site, nil)
		req.Header.Set("Cookie", cookie)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if shows := strings.Contains(string(b), hh); shows != (who != "edu") {
			t.Errorf("%s: the site page shows household %s: %v", who, hh, shows)
		}
	}
	// The county's read of the household page is in the log, with the
	// page's path.
	var found bool
	for _, m := range hubtest.Read(t, js, fact.LogStream, fact.FactSubjectPrefix+"hub.access.>") {
		if strings.Contains(string(m.Data), `"/household/`+hh+`"`) && strings.Contains(string(m.Data), "county-610424") {
			found = true
		}
	}
	if !found {
		t.Error("the county's read of a household page is not recorded in the log")
	}
	// The open page refreshing itself (as app.js does when the view
	// changes) is the read already recorded; a fresh open with the header
	// by an identity that never opened it is recorded.
	pageReads := func(who string) int {
		waitIdle(t, h)
		n := 0
		for _, m := range hubtest.Read(t, js, fact.LogStream, fact.FactSubjectPrefix+"hub.access.>") {
			if strings.Contains(string(m.Data), `"/household/`+hh+`"`) && strings.Contains(string(m.Data), `"`+who+`"`) {
				n++
			}
		}
		return n
	}
	before := pageReads("county-610424")
	for range 3 {
		get(county, "/household/"+hh, "X-Dashboard-Refresh", "1")
	}
	if got := pageReads("county-610424"); got != before {
		t.Errorf("three refreshes of an open household page made %d more access records, want none", got-before)
	}
	auditor := signIn("auditor")
	if get(auditor, "/household/"+hh, "X-Dashboard-Refresh", "1"); pageReads("auditor") != 1 {
		t.Error("a read with the refresh header by an identity that had not opened the page is not recorded")
	}
	// A one-time sign-in link (anzhi demo prints one) signs in once; the
	// second click finds the form.
	tok, err := identities.IssueToken(dir, "lead-office")
	if err != nil {
		t.Fatal(err)
	}
	link, err := h.SignInLink(tok, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(link, tok) {
		t.Errorf("the link %s shows the token", link)
	}
	for i, want := range []string{"/", "/login?failed=1&next=%2F"} {
		res, err := noRedirect.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != want {
			t.Errorf("sign-in link, click %d: %d to %q, want %q", i+1, res.StatusCode, loc, want)
		}
		if got := len(res.Cookies()) > 0; got != (i == 0) {
			t.Errorf("sign-in link, click %d: cookie set %v", i+1, got)
		}
	}
	if _, err := h.SignInLink("anzhi_nope", time.Minute); err == nil {
		t.Error("a sign-in link for a token that is no identity's")
	}
	// Signing out forgets the cookie.
	req, _ = http.NewRequest("POST", base+"/logout", nil)
	req.Header.Set("Cookie", county)
	res, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if c := res.Cookies(); res.StatusCode != http.StatusSeeOther || len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("sign out: %d, cookies %v", res.StatusCode, c)
	}
	// The session ended on the hub: the old cookie, kept, opens nothing.
	if res := get(county, "/county/610424"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out session's cookie still opens the county page: %d", res.StatusCode)
	}
}
