package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/internal/hubtest"
	"github.com/xianyang/anzhi/internal/scenario"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// lateWorld publishes a village whose child's September 2021 enrolment the
// education bureau reports in November, with the hub's clock ticking in
// October (R6 raised) and November. It returns the base URL, the time
// between the October facts and the late one (as RFC 3339), and the log
// sequence of the last entry before the late fact.
func lateWorld(t *testing.T) (base, october string, beforeLate uint64, h interface {
	Tick(context.Context, time.Time) error
}) {
	t.Helper()
	hb, nc, _, base := httpHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), hubtest.Patience)
	defer cancel()
	world, enrolments := scenario.Without(scenario.Village(2021), "edu.enrolment")
	if len(enrolments) != 1 {
		t.Fatalf("the village has %d enrolments, want 1", len(enrolments))
	}
	world = append(world, scenario.Alive([]string{"drc", "poverty", "edu", "medins", "hrss", "police", "resources", "civil", "health",
		"org", "water", "power", "transport", "gas", "cac", "eco", "housing"}, scenario.Day("2021-09-20"))...)
	if err := scenario.Publish(ctx, nc, world); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"2021-10-01", "2021-10-20"} {
		if err := hb.Tick(ctx, scenario.Day(d)); err != nil {
			t.Fatal(err)
		}
	}
	// A snapshot, then one more fact: an as-of view starts from the
	// snapshot and folds the tail.
	if _, err := hb.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := scenario.Publish(ctx, nc, scenario.Alive([]string{"drc"}, scenario.Day("2021-10-25"))); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, hb)
	beforeLate = hb.View().Seq()
	time.Sleep(20 * time.Millisecond)
	october = time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	late := scenario.At(enrolments[0], scenario.Day("2021-09-01"))
	if err := scenario.Publish(ctx, nc, []scenario.Item{late}); err != nil {
		t.Fatal(err)
	}
	if err := hb.Tick(ctx, scenario.Day("2021-11-10")); err != nil {
		t.Fatal(err)
	}
	return base, october, beforeLate, hb
}

func enrolledAt(t *testing.T, base, query string) (met, r6 bool) {
	t.Helper()
	var hh householdJSON
	getJSON(t, base+"/api/v1/households/"+scenario.VillageHousehold+query, http.StatusOK, &hh)
	for _, w := range hh.Warnings {
		if w.Rule == "R6" {
			r6 = true
		}
	}
	return hh.Obligations["compulsory_edu"].Met, r6
}

// TestAsOfLateFact: a September enrolment reported in November is absent
// from the view as of October, present in the view effective September
// once known, and absent from what the hub knew in October about September.
func TestAsOfLateFact(t *testing.T) {
	base, october, beforeLate, _ := lateWorld(t)
	q := url.QueryEscape
	for _, c := range []struct {
		name, query string
		met, r6     bool
	}{
		{"live", "", true, false},
		{"as of October (time)", "?as_of=" + q(october), false, true},
		{"as of October (log sequence)", "?as_of=" + strconv.FormatUint(beforeLate, 10), false, true},
		{"effective September", "?effective=2021-09-30", true, false},
		{"effective September (RFC 3339)", "?effective=" + q("2021-09-30T23:00:00+08:00"), true, false},
		{"effective August", "?effective=2021-08-31", false, true},
		{"as of October about September", "?as_of=" + q(october) + "&effective=2021-09-30", false, true},
		{"as of today", "?as_of=" + time.Now().In(view.ChinaTime()).Format(time.DateOnly), true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			met, r6 := enrolledAt(t, base, c.query)
			if met != c.met || r6 != c.r6 {
				t.Errorf("enrolled %v, R6 open %v; want %v, %v", met, r6, c.met, c.r6)
			}
		})
	}
	// Every view endpoint takes the cut.
	for _, path := range []string{"/api/v1/city", "/api/v1/counties", "/api/v1/counties/610424", "/api/v1/sites/" + scenario.VillageSite,
		"/api/v1/departments/edu", "/api/v1/warnings", "/api/v1/digest"} {
		r := do(t, http.MethodGet, base+path+"?as_of="+q(october))
		if r.code != http.StatusOK {
			t.Errorf("GET %s?as_of: %d %s", path, r.code, r.body)
		}
		if got := r.header.Get(fact.HeaderCutSeq); got != strconv.FormatUint(beforeLate, 10) {
			t.Errorf("GET %s?as_of: cut at %q, want %d", path, got, beforeLate)
		}
	}
	var city areaJSON
	getJSON(t, base+"/api/v1/city?as_of=2021-10-01", http.StatusOK, &city)
	if city.Seq != 0 || city.Indicators.Counts["persons"] != 0 {
		t.Errorf("the city as of 2021 (before the log began): log_seq %d, persons %d; want nothing", city.Seq, city.Indicators.Counts["persons"])
	}
}

// TestAsOfDigestIsRebuild: the digest of an as-of view (from a snapshot and
// the log's tail, or from the log's start) is the digest of a view rebuilt
// from the log cut at the same point; a cached answer keeps its ETag.
func TestAsOfDigestIsRebuild(t *testing.T) {
	base, _, beforeLate, _ := lateWorld(t)
	var live apiDigestJSON
	getJSON(t, base+"/api/v1/digest", http.StatusOK, &live)
	for _, cut := range []uint64{3, beforeLate - 1, beforeLate, beforeLate + 1} {
		var d apiDigestJSON
		r := getJSON(t, base+"/api/v1/digest?as_of="+strconv.FormatUint(cut, 10), http.StatusOK, &d)
		if d.LogSeq != cut {
			t.Errorf("as_of=%d: log_seq %d", cut, d.LogSeq)
		}
		if want := rebuildDigest(t, base, cut); d.Digest != want {
			t.Errorf("as_of=%d: digest %s, a rebuild of the log cut there %s", cut, d.Digest, want)
		}
		if d.Digest == live.Digest {
			t.Errorf("as_of=%d: the live view's digest", cut)
		}
		again := do(t, http.MethodGet, base+"/api/v1/digest?as_of="+strconv.FormatUint(cut, 10), "If-None-Match", r.header.Get("ETag"))
		if again.code != http.StatusNotModified {
			t.Errorf("as_of=%d again with its ETag: %d, want 304", cut, again.code)
		}
	}
}

type apiDigestJSON struct {
	Digest string `json:"digest"`
	LogSeq uint64 `json:"log_seq"`
}

// rebuildDigest folds the log of the hub at base up to cut into a new view
// (read over the events API, as an auditor would) and returns its digest.
func rebuildDigest(t *testing.T, base string, cut uint64) string {
	t.Helper()
	v, err := view.New(schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		Seq     uint64              `json:"log_seq"`
		Subject string              `json:"subject"`
		Kind    string              `json:"kind"`
		Header  map[string][]string `json:"header"`
		Body    json.RawMessage     `json:"body"`
	}
	r := do(t, http.MethodGet, base+"/api/v1/events?include_hub=true&include_rejected=true&limit=1000&until="+strconv.FormatUint(cut, 10))
	if r.code != http.StatusOK {
		t.Fatalf("events: %d %s", r.code, r.body)
	}
	var items []item
	for dec := json.NewDecoder(bytes.NewReader(r.body)); dec.More(); {
		var it item
		if err := dec.Decode(&it); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	var es []view.LogEntry
	for _, it := range items {
		if it.Seq > cut {
			break
		}
		if it.Kind == "rejection" {
			es = append(es, view.LogEntry{Entry: fact.Entry{Seq: it.Seq}, RejectedBy: strings.TrimPrefix(it.Subject, fact.RejectedSubjectPrefix)})
			continue
		}
		e, err := fact.DecodeEntry(it.Seq, it.Subject, it.Header, it.Body)
		if err != nil {
			t.Fatalf("log entry %d: %v", it.Seq, err)
		}
		es = append(es, view.LogEntry{Entry: e})
	}
	v.ApplyLog(es)
	v.Advance(cut)
	return v.Digest()
}

// TestAsOfBadParameters: a value that cannot be used is a 400 naming its
// parameter.
func TestAsOfBadParameters(t *testing.T) {
	_, _, _, base := httpHub(t)
	for _, c := range []struct{ query, names string }{
		{"as_of=yesterday", "as_of"},
		{"as_of=2021-13-01", "as_of"},
		{"as_of=99999999", "as_of"},
		{"as_of=2999-01-01", "as_of"},
		{"effective=soon", "effective"},
		{"effective=2021-02-30", "effective"},
		{"as_of=2021-10-01&as_of=2021-10-02", "as_of"},
	} {
		r := do(t, http.MethodGet, base+"/api/v1/city?"+c.query)
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), c.names) {
			t.Errorf("?%s: %d %s; want 400 naming %s", c.query, r.code, r.body, c.names)
		}
	}
}
