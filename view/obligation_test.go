package view_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/view"
)

// updateGolden rewrites testdata/households.golden.jsonl from the current
// code. Use it only for a change meant to alter what readers see, and say
// so in the commit.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/households.golden.jsonl")

// goldenFile holds one line per household of obligationWorld: its JSON as
// json.Marshal writes it.
const goldenFile = "testdata/households.golden.jsonl"

// obligationWorld returns the facts of households and persons in many
// states: a deed at every stage, every reclamation stage, dibao, tekun and
// temporary assistance granted and ended, benefit links, land and forest
// rights of every arrangement, and persons with every obligation met,
// unmet, lapsed, from an earlier year or without any fact; a household not
// registered, one without members, members deceased and moved away. The
// ids it reads back are returned sorted.
func obligationWorld(w *world) ([]fact.Entry, []string) {
	es := village(w)
	ids := map[string]bool{"H610424-000001": true}
	hh := func(i int) string { return fmt.Sprintf("H610424-%06d", i) }
	household := func(id string, size, labour int) {
		ids[id] = true
		es = append(es, w.entry("poverty", "registry.household", day("2019-05-01"), map[string]any{
			"household_id": id, "site_id": siteID, "size": size, "labour_count": labour, "registered_poor": true,
			"relocated_on": "2019-05-01"}))
	}
	person := func(id string, i, born int, labour string, more map[string]any) {
		data := map[string]any{"person_key": pk(i), "household_id": id, "birth_year": born, "sex": "male", "labour_capacity": labour}
		for k, x := range more {
			data[k] = x
		}
		es = append(es, w.entry("poverty", "registry.person", day("2019-05-01"), data))
	}
	add := func(dept, family, eff string, data map[string]any) {
		es = append(es, w.entry(dept, family, day(eff), data))
	}
	on := func(id string, i int, data map[string]any) map[string]any {
		data["person_key"], data["household_id"] = pk(i), id
		return data
	}

	// 2: everything granted and much of it unmet: a deed applied for, the
	// homestead only vacated, dibao, tekun and temporary assistance, a
	// benefit link, land kept and forest pooled.
	h := hh(2)
	household(h, 4, 2)
	add("resources", "resources.deeds", "2019-11-01", map[string]any{"household_id": h, "site_id": siteID, "status": "applied", "applied_on": "2019-11-01"})
	add("resources", "resources.reclamation", "2020-01-01", map[string]any{"household_id": h, "origin_area": "610424", "stage": "vacated", "effective_on": "2020-01-01"})
	for _, kind := range []string{"dibao", "tekun", "temporary"} {
		add("civil", "civil.assistance", "2020-02-01", map[string]any{"household_id": h, "kind": kind, "action": "granted", "effective_on": "2020-02-01"})
	}
	add("poverty", "industry.benefit", "2020-04-01", map[string]any{"household_id": h, "model": "cooperative_plus", "partner": "合作社", "status": "active", "started_on": "2020-04-01"})
	add("resources", "resources.landrights", "2020-05-01", map[string]any{"household_id": h, "origin_area": "610424", "land_kind": "farmland", "arrangement": "kept", "effective_on": "2020-05-01"})
	add("forestry", "forestry.rights", "2020-05-02", map[string]any{"household_id": h, "origin_area": "610424", "arrangement": "pooled_shares", "effective_on": "2020-05-02"})
	person(h, 20, 1950, "none", map[string]any{"disability": "grade2"})
	add("medins", "health.coverage", "2020-01-01", on(h, 20, map[string]any{"year": 2020, "scheme": "basic_medical", "status": "enrolled"}))
	add("medins", "health.coverage", "2021-01-01", on(h, 20, map[string]any{"year": 2021, "scheme": "serious_illness", "status": "exempt"}))
	add("hrss", "hr.pension", "2021-01-01", on(h, 20, map[string]any{"year": 2021, "status": "lapsed"}))
	add("police", "police.hukou", "2019-09-01", on(h, 20, map[string]any{"action": "residence_permit", "effective_on": "2019-09-01"}))
	add("health", "health.contract", "2020-03-01", on(h, 20, map[string]any{"status": "signed", "signed_on": "2020-03-01"}))
	person(h, 21, 1990, "full", nil)
	add("hrss", "hr.employment", "2020-01-01", on(h, 21, map[string]any{"status": "unemployed", "start_on": "2020-01-01"}))
	add("hrss", "hr.training", "2020-06-01", on(h, 21, map[string]any{"kind": "vocational", "completed_on": "2020-06-01", "passed": true}))
	add("police", "police.hukou", "2019-09-01", on(h, 21, map[string]any{"action": "residence_registered", "effective_on": "2019-09-01"}))
	add("health", "health.contract", "2020-03-01", on(h, 21, map[string]any{"status": "signed", "signed_on": "2020-03-01"}))
	add("health", "health.contract", "2021-03-01", on(h, 21, map[string]any{"status": "ended", "ended_on": "2021-03-01"}))
	add("hrss", "hr.pension", "2021-01-01", on(h, 21, map[string]any{"year": 2021, "status": "exempt"}))
	person(h, 22, 2010, "student", nil)
	add("edu", "edu.enrolment", "2020-09-01", on(h, 22, map[string]any{"action": "dropped_out", "school_id": "SC-2", "level": "primary", "effective_on": "2020-09-01"}))
	person(h, 23, 2005, "student", nil)
	add("edu", "edu.enrolment", "2020-07-01", on(h, 23, map[string]any{"action": "graduated", "school_id": "SC-3", "level": "junior", "effective_on": "2020-07-01"}))
	add("medins", "health.coverage", "2021-01-01", on(h, 23, map[string]any{"year": 2021, "scheme": "basic_medical", "status": "lapsed"}))

	// 3: a deed registered, the homestead demolished, dibao and the benefit
	// link ended, land transferred and forest kept.
	h = hh(3)
	household(h, 3, 1)
	add("resources", "resources.deeds", "2019-10-01", map[string]any{"household_id": h, "site_id": siteID, "status": "registered", "registered_on": "2019-10-01"})
	add("resources", "resources.reclamation", "2020-02-01", map[string]any{"household_id": h, "origin_area": "610424", "stage": "demolished", "effective_on": "2020-02-01"})
	add("civil", "civil.assistance", "2019-06-01", map[string]any{"household_id": h, "kind": "dibao", "action": "granted", "effective_on": "2019-06-01"})
	add("civil", "civil.assistance", "2021-01-01", map[string]any{"household_id": h, "kind": "dibao", "action": "ended", "effective_on": "2021-01-01"})
	add("poverty", "industry.benefit", "2019-07-01", map[string]any{"household_id": h, "model": "asset_income", "status": "active", "started_on": "2019-07-01"})
	add("poverty", "industry.benefit", "2021-02-01", map[string]any{"household_id": h, "model": "asset_income", "status": "ended", "ended_on": "2021-02-01"})
	add("resources", "resources.landrights", "2020-05-01", map[string]any{"household_id": h, "origin_area": "610424", "land_kind": "grassland", "arrangement": "transferred", "effective_on": "2020-05-01"})
	add("forestry", "forestry.rights", "2020-05-01", map[string]any{"household_id": h, "origin_area": "610424", "arrangement": "kept", "effective_on": "2020-05-01"})
	person(h, 30, 1970, "full", nil)
	add("hrss", "hr.employment", "2019-06-01", on(h, 30, map[string]any{"status": "employed", "kind": "outbound", "start_on": "2019-06-01", "end_on": "2020-12-31"}))
	add("hrss", "hr.training", "2021-05-01", on(h, 30, map[string]any{"kind": "skills", "completed_on": "2021-05-01", "passed": true}))
	add("hrss", "hr.pension", "2021-01-01", on(h, 30, map[string]any{"year": 2021, "status": "receiving"}))
	add("police", "police.hukou", "2019-07-01", on(h, 30, map[string]any{"action": "hukou_moved", "effective_on": "2019-07-01"}))
	for _, scheme := range []string{"basic_medical", "serious_illness"} {
		add("medins", "health.coverage", "2021-01-01", on(h, 30, map[string]any{"year": 2021, "scheme": scheme, "status": "enrolled"}))
	}
	person(h, 31, 2012, "student", nil)
	add("edu", "edu.enrolment", "2020-09-01", on(h, 31, map[string]any{"action": "transferred", "school_id": "SC-4", "level": "primary", "effective_on": "2020-09-01"}))
	person(h, 32, 2000, "weak", nil)

	// 4: a certificate issued, the homestead regreened, tekun ended, land
	// pooled; no members registered.
	h = hh(4)
	household(h, 1, 0)
	add("resources", "resources.deeds", "2019-09-01", map[string]any{"household_id": h, "site_id": siteID, "status": "certificate_issued", "issued_on": "2019-09-15"})
	add("resources", "resources.reclamation", "2020-06-01", map[string]any{"household_id": h, "origin_area": "610424", "stage": "regreened", "effective_on": "2020-06-01"})
	add("civil", "civil.assistance", "2019-06-01", map[string]any{"household_id": h, "kind": "tekun", "action": "granted", "effective_on": "2019-06-01"})
	add("civil", "civil.assistance", "2020-06-01", map[string]any{"household_id": h, "kind": "tekun", "action": "ended", "effective_on": "2020-06-01"})
	add("resources", "resources.landrights", "2020-05-01", map[string]any{"household_id": h, "origin_area": "610424", "land_kind": "other", "arrangement": "pooled_shares", "effective_on": "2020-05-01"})

	// 5 and 6: the homestead recovered or retained; members deceased and
	// moved away.
	h = hh(5)
	household(h, 2, 1)
	add("resources", "resources.reclamation", "2020-06-01", map[string]any{"household_id": h, "origin_area": "610424", "stage": "recovered", "effective_on": "2020-06-01"})
	person(h, 50, 1940, "none", map[string]any{"status": "deceased"})
	add("health", "health.contract", "2020-03-01", on(h, 50, map[string]any{"status": "renewed", "signed_on": "2020-03-01"}))
	person(h, 51, 1988, "full", map[string]any{"status": "moved_away"})
	add("hrss", "hr.employment", "2020-03-01", on(h, 51, map[string]any{"status": "employed", "kind": "self_employed", "start_on": "2020-03-01"}))
	h = hh(6)
	household(h, 1, 1)
	add("resources", "resources.reclamation", "2020-06-01", map[string]any{"household_id": h, "origin_area": "610424", "stage": "retained", "effective_on": "2020-06-01"})
	person(h, 60, 1995, "full", nil)
	add("hrss", "hr.employment", "2021-02-01", on(h, 60, map[string]any{"status": "employed", "kind": "project", "start_on": "2021-08-01"}))

	// A household of another county known only through its members' facts.
	h = "H610481-000007"
	ids[h] = true
	add("edu", "edu.enrolment", "2020-09-01", on(h, 70, map[string]any{"action": "enrolled", "school_id": "SC-7", "level": "primary", "effective_on": "2020-09-01"}))
	add("health", "health.contract", "2020-03-01", on(h, 71, map[string]any{"status": "signed", "signed_on": "2020-03-01"}))
	add("police", "police.hukou", "2020-03-01", on(h, 71, map[string]any{"action": "hukou_moved", "effective_on": "2020-03-01"}))

	var sorted []string
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	return es, sorted
}

// TestHouseholdsGolden: the JSON of every household of obligationWorld,
// members and obligations included, is byte for byte what it was when the
// golden file was written.
func TestHouseholdsGolden(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	es, ids := obligationWorld(w)
	apply(v, es...)
	apply(v, w.tick(time.Date(2021, 6, 1, 2, 0, 0, 0, time.UTC)))
	var got bytes.Buffer
	for _, id := range ids {
		h, err := v.Household(id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		b, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(b)
		got.WriteByte('\n')
	}
	path := filepath.FromSlash(goldenFile)
	if *updateGolden {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := lines(got.Bytes()), lines(want)
	if len(gl) != len(wl) {
		t.Fatalf("%d households, the golden file has %d", len(gl), len(wl))
	}
	for i := range gl {
		if !bytes.Equal(gl[i], wl[i]) {
			t.Errorf("%s differs from the golden file:\n got %s\nwant %s", ids[i], gl[i], wl[i])
		}
	}
}

// TestGoldenWorldIsRich: obligationWorld shows every obligation both met
// and unmet, so the golden file pins every branch of its rendering.
func TestGoldenWorldIsRich(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	es, ids := obligationWorld(w)
	apply(v, es...)
	apply(v, w.tick(time.Date(2021, 6, 1, 2, 0, 0, 0, time.UTC)))
	seen := map[string]map[bool]bool{}
	see := func(kind string, obs map[string]view.Obligation) {
		for name, o := range obs {
			k := kind + " " + name
			if seen[k] == nil {
				seen[k] = map[bool]bool{}
			}
			seen[k][o.Met] = true
		}
	}
	for _, id := range ids {
		h, err := v.Household(id)
		if err != nil {
			t.Fatal(err)
		}
		see("household", h.Obligations)
		for _, m := range h.Members {
			see("person", m.Obligations)
		}
	}
	for k, met := range seen {
		if !met[true] || !met[false] {
			t.Errorf("%s: shown met %v, unmet %v; want both", k, met[true], met[false])
		}
	}
}

// lines splits b into its lines, without the newlines.
func lines(b []byte) [][]byte {
	var out [][]byte
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, 1<<24)
	for s.Scan() {
		out = append(out, append([]byte(nil), s.Bytes()...))
	}
	return out
}
