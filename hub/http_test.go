package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
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
		if len(hv.Warnings) != 2 || hv.Warnings[0].Rule != "R4" || hv.Warnings[1].Rule != "R23" {
			t.Fatalf("warnings %+v, want R4 and R23 (no income: not 两不愁三保障)", hv.Warnings)
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
			{"", 2},
			{"county=610424", 2},
			{"county=610402", 0},
			{"county=610400", 0},
			{"rule=R4", 1},
			{"rule=R23", 1},
			{"rule=R7", 0},
			{"dept=county/610424", 1},
			{"state=open", 2},
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
				unit := map[string]string{"R4": "hrss", "R23": "county/610424"}[w.Rule]
				if unit == "" || w.EntityID != hh || w.Supervision != "open" || !slices.Contains(w.Responsible, unit) {
					t.Errorf("%s: %+v", c.query, w)
				}
				for _, e := range w.Evidence {
					checkFact(t, js, w.Rule+" evidence", e)
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
