package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/hub"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/view"
)

// httpHub starts a hub with its HTTP API on a free port and returns the
// API's base URL.
func httpHub(t *testing.T) (*hub.Hub, *nats.Conn, jetstream.JetStream, string) {
	t.Helper()
	h, nc, js := ingestHub(t, t.TempDir(), func(c *hub.Config) { c.HTTPAddr = "127.0.0.1:0" })
	return h, nc, js, "http://" + h.HTTPAddr()
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, u string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: res.StatusCode, header: res.Header, body: b}
}

// getJSON GETs u, checks the status and decodes the JSON body into v.
func getJSON(t *testing.T, u string, code int, v any) response {
	t.Helper()
	r := do(t, http.MethodGet, u)
	if r.code != code {
		t.Fatalf("GET %s: status %d, want %d: %s", u, r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", u, err, r.body)
		}
	}
	return r
}

// The JSON shapes the tests read.
type (
	factRefJSON struct {
		Family string    `json:"family"`
		Key    string    `json:"key"`
		Seq    uint64    `json:"seq"`
		Source string    `json:"source"`
		Time   time.Time `json:"time"`
	}
	obligationJSON struct {
		State string       `json:"state"`
		Met   bool         `json:"met"`
		Fact  *factRefJSON `json:"fact"`
	}
	warningJSON struct {
		ID          string        `json:"warning_id"`
		Rule        string        `json:"rule"`
		EntityID    string        `json:"entity_id"`
		Area        string        `json:"area"`
		Supervision string        `json:"supervision"`
		Responsible []string      `json:"responsible"`
		Evidence    []factRefJSON `json:"evidence"`
	}
	householdJSON struct {
		HouseholdID string `json:"household_id"`
		County      string `json:"county"`
		Site        string `json:"site_id"`
		Size        int    `json:"size"`
		Members     []struct {
			PersonKey   string                    `json:"person_key"`
			Obligations map[string]obligationJSON `json:"obligations"`
		} `json:"members"`
		Obligations map[string]obligationJSON `json:"obligations"`
		Warnings    []warningJSON             `json:"warnings"`
	}
	siteJSON struct {
		SiteID         string                    `json:"site_id"`
		County         string                    `json:"county"`
		Infrastructure map[string]obligationJSON `json:"infrastructure"`
		Facilities     map[string][]struct {
			ID   string       `json:"id"`
			Open bool         `json:"open"`
			Fact *factRefJSON `json:"fact"`
		} `json:"facilities"`
		Indicators indicatorsJSON `json:"indicators"`
	}
	indicatorsJSON struct {
		Counts map[string]int64   `json:"counts"`
		Rates  map[string]float64 `json:"rates"`
	}
	areaJSON struct {
		Code       string         `json:"code"`
		Name       string         `json:"name"`
		Sites      int            `json:"sites"`
		Indicators indicatorsJSON `json:"indicators"`
		Warnings   map[string]int `json:"warnings_open_by_rule"`
		Counties   []struct {
			Code    string `json:"code"`
			Persons int64  `json:"persons"`
		} `json:"counties"`
		SiteIDs []string `json:"site_ids"`
		Seq     uint64   `json:"log_seq"`
	}
	departmentJSON struct {
		Code      string           `json:"code"`
		Name      string           `json:"name"`
		Published int64            `json:"published"`
		Rejected  int64            `json:"rejected"`
		ByFamily  map[string]int64 `json:"published_by_family"`
		Warnings  []warningJSON    `json:"warnings"`
	}
	warningPage struct {
		Items []warningJSON `json:"items"`
		Next  string        `json:"next"`
	}
	errorJSON struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
)

// checkFact checks that a reference names a real fact of the log: the
// entry at its sequence is of its family, has its key and its source.
func checkFact(t *testing.T, js jetstream.JetStream, what string, ref factRefJSON) {
	t.Helper()
	if ref.Seq == 0 || ref.Source == "" {
		t.Errorf("%s: fact %+v lacks its log sequence or source", what, ref)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	s, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, ref.Seq)
	if err != nil {
		t.Errorf("%s: log entry %d: %v", what, ref.Seq, err)
		return
	}
	e, err := fact.DecodeEntry(ref.Seq, m.Subject, m.Header, m.Data)
	if err != nil {
		t.Errorf("%s: log entry %d: %v", what, ref.Seq, err)
		return
	}
	if e.Family != ref.Family || strconv.FormatUint(e.Key(), 16) != ref.Key || e.Source != ref.Source {
		t.Errorf("%s: log entry %d is %s %x from %s, the reference says %s %s from %s",
			what, ref.Seq, e.Family, e.Key(), e.Source, ref.Family, ref.Key, ref.Source)
	}
}

func countDept(items []scenario.Item, dept string) (n int64) {
	for _, it := range items {
		if it.Dept == dept {
			n++
		}
	}
	return n
}

// TestHTTPViews reads every view endpoint of a hub holding the village,
// after breaking R4 (zero-employment household), and checks what it says
// against the facts published and the log.
func TestHTTPViews(t *testing.T) {
	h, nc, js, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	const year = 2021
	t0 := time.Date(year, 6, 1, 0, 0, 0, 0, time.UTC)
	hh, site := scenario.VillageHousehold, scenario.VillageSite
	world := append(scenario.Village(year), scenario.Alive(registryDepts(), t0)...)
	if err := scenario.Publish(ctx, nc, world); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	breaks := []scenario.Item{scenario.Employed(scenario.Person(0), hh, "unemployed", scenario.Day("2021-05-01"))}
	if err := scenario.Publish(ctx, nc, breaks); err != nil {
		t.Fatal(err)
	}
	if err := h.Tick(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	world = append(world, breaks...)

	t.Run("city", func(t *testing.T) {
		var c areaJSON
		getJSON(t, base+"/api/v1/city", http.StatusOK, &c)
		if got, want := c.Code, "610400"; got != want {
			t.Errorf("code %s, want %s", got, want)
		}
		if got, want := c.Indicators.Counts["persons"], int64(3); got != want {
			t.Errorf("persons %d, want %d", got, want)
		}
		if got, want := c.Indicators.Counts["households"], int64(1); got != want {
			t.Errorf("households %d, want %d", got, want)
		}
		if got, want := c.Sites, 1; got != want {
			t.Errorf("sites %d, want %d", got, want)
		}
		if got, want := c.Warnings["R4"], 1; got != want {
			t.Errorf("R4 open %d, want %d", got, want)
		}
		if got, want := len(c.Counties), 14; got != want {
			t.Errorf("%d counties, want %d", got, want)
		}
		for _, k := range c.Counties {
			if want := map[bool]int64{true: 3, false: 0}[k.Code == "610424"]; k.Persons != want {
				t.Errorf("county %s: %d persons, want %d", k.Code, k.Persons, want)
			}
		}
		if got, want := c.Seq, h.View().Seq(); got != want {
			t.Errorf("log_seq %d, want %d", got, want)
		}
	})

	t.Run("county", func(t *testing.T) {
		var c areaJSON
		getJSON(t, base+"/api/v1/counties/610424", http.StatusOK, &c)
		if c.Code != "610424" || c.Name != "乾县" {
			t.Errorf("county %s %s, want 610424 乾县", c.Code, c.Name)
		}
		if got, want := c.Indicators.Counts["persons"], int64(3); got != want {
			t.Errorf("persons %d, want %d", got, want)
		}
		// R4 is broken: the one household with labour has no one employed.
		if got, want := c.Indicators.Rates["employment"], 0.0; got != want {
			t.Errorf("employment rate %v, want %v", got, want)
		}
		if got, want := c.Indicators.Counts["zero_employment"], int64(1); got != want {
			t.Errorf("zero-employment households %d, want %d", got, want)
		}
		if !slices.Equal(c.SiteIDs, []string{site}) {
			t.Errorf("site ids %v, want [%s]", c.SiteIDs, site)
		}
		var other areaJSON
		getJSON(t, base+"/api/v1/counties/610402", http.StatusOK, &other)
		if other.Indicators.Counts["persons"] != 0 || len(other.SiteIDs) != 0 {
			t.Errorf("秦都区 is empty, got %+v", other)
		}
	})

	t.Run("household", func(t *testing.T) {
		var hv householdJSON
		getJSON(t, base+"/api/v1/households/"+hh, http.StatusOK, &hv)
		if hv.HouseholdID != hh || hv.County != "610424" || hv.Site != site || hv.Size != 3 {
			t.Errorf("household %s in %s at %s of %d, want %s in 610424 at %s of 3", hv.HouseholdID, hv.County, hv.Site, hv.Size, hh, site)
		}
		var keys []string
		for _, m := range hv.Members {
			keys = append(keys, m.PersonKey)
		}
		if want := []string{scenario.Person(0), scenario.Person(1), scenario.Person(2)}; !slices.Equal(keys, want) {
			t.Errorf("members %v, want %v", keys, want)
		}
		deed := hv.Obligations["title_deed"]
		if deed.State != "certificate_issued" || !deed.Met || deed.Fact == nil ||
			deed.Fact.Family != "resources.deeds" || deed.Fact.Source != "/xianyang/resources" {
			t.Errorf("title deed %+v (fact %+v)", deed, deed.Fact)
		}
		facts := 0
		for name, o := range hv.Obligations {
			if o.Fact != nil {
				checkFact(t, js, "household "+name, *o.Fact)
				facts++
			}
		}
		wantFamily := map[string]string{"basic_medical": "health.coverage", "serious_illness": "health.coverage",
			"hukou": "police.hukou", "pension": "hr.pension", "employment": "hr.employment", "compulsory_edu": "edu.enrolment"}
		for _, m := range hv.Members {
			for name, o := range m.Obligations {
				if o.Fact == nil {
					continue
				}
				facts++
				checkFact(t, js, m.PersonKey[60:]+" "+name, *o.Fact)
				if f, ok := wantFamily[name]; ok && o.Fact.Family != f {
					t.Errorf("%s of %s: fact of %s, want %s", name, m.PersonKey, o.Fact.Family, f)
				}
			}
		}
		if facts < 15 {
			t.Errorf("only %d obligations name their fact", facts)
		}
		emp := hv.Members[0].Obligations["employment"]
		if emp.State != "unemployed" || emp.Met || emp.Fact == nil || emp.Fact.Source != "/xianyang/hrss" {
			t.Errorf("employment of the first member: %+v (fact %+v)", emp, emp.Fact)
		}
		if len(hv.Warnings) != 1 || hv.Warnings[0].Rule != "R4" {
			t.Fatalf("warnings %+v, want R4", hv.Warnings)
		}
		fams := map[string]bool{}
		for _, e := range hv.Warnings[0].Evidence {
			checkFact(t, js, "R4 evidence", e)
			fams[e.Family] = true
		}
		if !fams["registry.household"] || !fams["hr.employment"] {
			t.Errorf("R4 evidence %+v lacks registry.household or hr.employment", hv.Warnings[0].Evidence)
		}
	})

	t.Run("site", func(t *testing.T) {
		var sv siteJSON
		getJSON(t, base+"/api/v1/sites/"+site, http.StatusOK, &sv)
		if sv.SiteID != site || sv.County != "610424" {
			t.Errorf("site %s in %s", sv.SiteID, sv.County)
		}
		if got, want := len(sv.Infrastructure), len(scenario.InfraItems); got != want {
			t.Errorf("%d infrastructure items, want %d", got, want)
		}
		for _, it := range scenario.InfraItems {
			o := sv.Infrastructure[it]
			if o.State != "done" || !o.Met || o.Fact == nil || o.Fact.Family != "infra."+it {
				t.Errorf("%s: %+v (fact %+v)", it, o, o.Fact)
				continue
			}
			checkFact(t, js, "infrastructure "+it, *o.Fact)
		}
		if got := sv.Infrastructure["road"].Fact; got != nil && got.Source != "/xianyang/transport" {
			t.Errorf("road built by %s, want /xianyang/transport", got.Source)
		}
		clinics := sv.Facilities["clinics"]
		if len(clinics) != 1 || clinics[0].ID != "CL-"+site || !clinics[0].Open || clinics[0].Fact == nil {
			t.Fatalf("clinics %+v", clinics)
		}
		if clinics[0].Fact.Family != "health.facility" {
			t.Errorf("clinic fact of %s, want health.facility", clinics[0].Fact.Family)
		}
		for kind, list := range sv.Facilities {
			for _, f := range list {
				if f.Fact != nil {
					checkFact(t, js, kind+" "+f.ID, *f.Fact)
				}
			}
		}
		if got, want := sv.Indicators.Counts["persons"], int64(3); got != want {
			t.Errorf("site persons %d, want %d", got, want)
		}
	})

	t.Run("department", func(t *testing.T) {
		var d departmentJSON
		getJSON(t, base+"/api/v1/departments/hrss", http.StatusOK, &d)
		if got, want := d.Published, countDept(world, "hrss"); got != want {
			t.Errorf("hrss published %d, want %d", got, want)
		}
		if d.Code != "hrss" || d.Name == "" || d.ByFamily["hr.employment"] != 2 {
			t.Errorf("hrss: %+v", d)
		}
		if len(d.Warnings) != 1 || d.Warnings[0].Rule != "R4" {
			t.Errorf("hrss warnings %+v, want R4", d.Warnings)
		}
		for _, e := range d.Warnings[0].Evidence {
			checkFact(t, js, "hrss R4 evidence", e)
		}
		for _, path := range []string{"county/610424", url.PathEscape("county/610424")} {
			var c departmentJSON
			getJSON(t, base+"/api/v1/departments/"+path, http.StatusOK, &c)
			if c.Code != "county/610424" || !strings.Contains(c.Name, "乾县") {
				t.Errorf("%s: %s %s", path, c.Code, c.Name)
			}
		}
	})

	t.Run("warnings", func(t *testing.T) {
		cases := []struct {
			query string
			want  int
		}{
			{"", 1},
			{"county=610424", 1},
			{"county=610402", 0},
			{"county=610400", 0},
			{"rule=R4", 1},
			{"rule=R7", 0},
			{"state=open", 1},
			{"state=acknowledged", 0},
			{"state=escalated", 0},
			{"dept=hrss", 1},
			{"dept=edu", 0},
			{"county=610424&rule=R4&state=open&dept=hrss", 1},
		}
		for _, c := range cases {
			var p warningPage
			getJSON(t, base+"/api/v1/warnings?"+c.query, http.StatusOK, &p)
			if p.Items == nil {
				t.Errorf("%s: items is null, want a list", c.query)
			}
			if len(p.Items) != c.want || p.Next != "" {
				t.Errorf("%s: %d items (next %q), want %d", c.query, len(p.Items), p.Next, c.want)
				continue
			}
			for _, w := range p.Items {
				if w.Rule != "R4" || w.EntityID != hh || w.Supervision != "open" || !slices.Contains(w.Responsible, "hrss") {
					t.Errorf("%s: %+v", c.query, w)
				}
				for _, e := range w.Evidence {
					checkFact(t, js, "R4 evidence", e)
				}
			}
		}
	})

	t.Run("digest", func(t *testing.T) {
		var d struct {
			Digest string `json:"digest"`
			LogSeq uint64 `json:"log_seq"`
		}
		getJSON(t, base+"/api/v1/digest", http.StatusOK, &d)
		if got, want := d.Digest, h.View().Digest(); got != want {
			t.Errorf("digest %s, want %s", got, want)
		}
		if got, want := d.LogSeq, h.View().Seq(); got != want {
			t.Errorf("log_seq %d, want %d", got, want)
		}
	})

	t.Run("health", func(t *testing.T) {
		var ok struct{ Status string }
		getJSON(t, base+"/healthz", http.StatusOK, &ok)
		if ok.Status != "ok" {
			t.Errorf("healthz: %+v", ok)
		}
		var ready struct {
			Ready  bool       `json:"ready"`
			Status hub.Status `json:"status"`
		}
		getJSON(t, base+"/readyz", http.StatusOK, &ready)
		if !ready.Ready || !ready.Status.CaughtUp() || ready.Status.Folded != h.View().Seq() {
			t.Errorf("readyz: %+v", ready)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		do(t, http.MethodGet, base+"/api/v1/city")
		do(t, http.MethodGet, base+"/no/such/path")
		r := do(t, http.MethodGet, base+"/metrics")
		if r.code != http.StatusOK {
			t.Fatalf("metrics: %d %s", r.code, r.body)
		}
		text := string(r.body)
		for _, want := range []string{
			`anzhi_view_persons 3`,
			`anzhi_view_households 1`,
			`anzhi_view_sites 1`,
			`anzhi_warnings_open{rule="R4"} 1`,
			`anzhi_warnings_open{rule="R1"} 0`,
			`anzhi_projector_lag 0`,
			`anzhi_intake_lag 0`,
			`anzhi_events_accepted_total{department="hrss",family="hr.employment"} 2`,
			`anzhi_http_request_duration_seconds_count{code="200",route="GET /api/v1/city"}`,
			`anzhi_http_request_duration_seconds_count{code="404",route="unmatched"} 1`,
			`anzhi_http_request_duration_seconds_bucket{code="200",route="GET /api/v1/households/{id}",le="0.002"}`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		// A rule the view does not evaluate yet says so, and reports no
		// open warnings (a 0 would claim it was checked).
		for _, st := range view.RuleStates(h.Catalog()) {
			evaluated := fmt.Sprintf(`anzhi_rule_evaluated{rule=%q} 1`, st.ID)
			open := fmt.Sprintf(`anzhi_warnings_open{rule=%q}`, st.ID)
			if st.State != view.RuleEvaluated {
				evaluated = fmt.Sprintf(`anzhi_rule_evaluated{rule=%q} 0`, st.ID)
				if strings.Contains(text, open) {
					t.Errorf("metrics report open warnings of pending rule %s", st.ID)
				}
			} else if !strings.Contains(text, open) {
				t.Errorf("metrics lack %s", open)
			}
			if !strings.Contains(text, evaluated) {
				t.Errorf("metrics lack %s", evaluated)
			}
		}
	})

	t.Run("conforms to openapi.json", func(t *testing.T) {
		cases := []struct{ path, schema string }{
			{"/api/v1/households/" + hh, "Household"},
			{"/api/v1/sites/" + site, "Site"},
			{"/api/v1/counties/610424", "Area"},
			{"/api/v1/counties", "CountyList"},
			{"/api/v1/city", "Area"},
			{"/api/v1/departments/hrss", "Department"},
			{"/api/v1/departments/county/610424", "Department"},
			{"/api/v1/warnings", "WarningPage"},
			{"/api/v1/rejections", "RejectionPage"},
			{"/api/v1/digest", "Digest"},
			{"/readyz", "Readiness"},
			{"/api/v1/households/H610424-999999", "Error"},
			{"/api/v1/warnings?rule=R99", "Error"},
		}
		for _, c := range cases {
			r := do(t, http.MethodGet, base+c.path)
			conforms(t, c.path, c.schema, r.body)
		}
	})
}

// TestHTTPCacheFollowsView checks that the cached city and county answers
// change as soon as the view does, and that an unchanged answer keeps its
// ETag and answers If-None-Match with 304.
func TestHTTPCacheFollowsView(t *testing.T) {
	h, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	if err := scenario.Publish(ctx, nc, scenario.Village(2021)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	var c areaJSON
	r1 := getJSON(t, base+"/api/v1/city", http.StatusOK, &c)
	if got, want := c.Indicators.Counts["persons"], int64(3); got != want {
		t.Fatalf("persons %d, want %d", got, want)
	}
	etag := r1.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := do(t, http.MethodGet, base+"/api/v1/city", "If-None-Match", etag); r.code != http.StatusNotModified {
		t.Errorf("If-None-Match the current ETag: %d, want 304", r.code)
	}
	// A household of two in 秦都区.
	more := append([]scenario.Item{scenario.Site("S610402-0001", "610402", 1, 2)}, scenario.Household("H610402-000001", "S610402-0001", 2021,
		[]scenario.Member{{Key: scenario.Person(50), Born: 1970, Labour: "full"}, {Key: scenario.Person(51), Born: 1972, Labour: "full"}})...)
	if err := scenario.Publish(ctx, nc, more); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, h)
	r2 := getJSON(t, base+"/api/v1/city", http.StatusOK, &c)
	if got, want := c.Indicators.Counts["persons"], int64(5); got != want {
		t.Errorf("persons after a new household %d, want %d", got, want)
	}
	if r2.header.Get("ETag") == etag {
		t.Error("the ETag did not change with the view")
	}
	var k areaJSON
	getJSON(t, base+"/api/v1/counties/610402", http.StatusOK, &k)
	if got, want := k.Indicators.Counts["persons"], int64(2); got != want {
		t.Errorf("秦都区 persons %d, want %d", got, want)
	}
	if got, want := k.Seq, h.View().Seq(); got != want {
		t.Errorf("county log_seq %d, want %d", got, want)
	}
}

// TestHTTPRejections pages through the rejection ledger.
func TestHTTPRejections(t *testing.T) {
	h, _, js, base := httpHub(t)
	ctx := context.Background()
	bad := [][2]string{
		{"edu.enrolment.610424", `{"specversion":"1.0",`},
		{"edu.enrolment.610424", string(jsonOf(t, map[string]any{"specversion": "1.0", "id": "x", "source": "/xianyang/edu",
			"type": "anzhi.edu.enrolment.v1", "subject": testPersonKey, "time": "2020-09-01T00:00:00Z",
			"data": map[string]any{"level": "university"}}))},
		{"edu.enrolment.610424", `not json at all`},
	}
	for _, b := range bad {
		if _, err := js.Publish(ctx, b[0], []byte(b[1])); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, h)
	type rejPage struct {
		Items []struct {
			Seq        uint64 `json:"seq"`
			Department string `json:"department"`
		} `json:"items"`
		Next string `json:"next"`
	}
	var all rejPage
	r := getJSON(t, base+"/api/v1/rejections", http.StatusOK, &all)
	conforms(t, "rejections", "RejectionPage", r.body)
	if got, want := len(all.Items), len(bad); got != want {
		t.Fatalf("%d rejections, want %d", got, want)
	}
	var edu rejPage
	getJSON(t, base+"/api/v1/rejections?dept=edu", http.StatusOK, &edu)
	if len(edu.Items) != 1 || edu.Items[0].Department != "edu" {
		t.Errorf("dept=edu: %+v", edu.Items)
	}
	var seqs []uint64
	next := ""
	for pages := 0; ; pages++ {
		if pages > len(bad) {
			t.Fatal("paging does not end")
		}
		u := base + "/api/v1/rejections?limit=1"
		if next != "" {
			u += "&after=" + next
		}
		var p rejPage
		getJSON(t, u, http.StatusOK, &p)
		for _, it := range p.Items {
			seqs = append(seqs, it.Seq)
		}
		if next = p.Next; next == "" {
			break
		}
	}
	var want []uint64
	for _, it := range all.Items {
		want = append(want, it.Seq)
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("paged %v, want %v", seqs, want)
	}
	var since rejPage
	getJSON(t, base+"/api/v1/rejections?since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), http.StatusOK, &since)
	if len(since.Items) != 0 {
		t.Errorf("since an hour from now: %d items", len(since.Items))
	}

	// Reading pages leaves no consumer behind on the log (each used to stay
	// until the server's limit was full and nobody could read the ledger).
	logs, err := js.Stream(ctx, fact.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	before, err := logs.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		var p rejPage
		getJSON(t, base+"/api/v1/rejections?limit=1", http.StatusOK, &p)
	}
	after, err := logs.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.State.Consumers > before.State.Consumers {
		t.Errorf("50 pages left %d consumers on the log (%d before)", after.State.Consumers, before.State.Consumers)
	}
}

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
		{"GET", "/", 404, "GET /"},
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
