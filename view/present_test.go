package view_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// cst is China Standard Time as a department writes it.
var cst = time.FixedZone("CST", 8*3600)

// tourHousehold is the household of the README tour.
const tourHousehold = "H610424-000123"

// tourEnrolment is the tour's enrolment: a child of tourHousehold enrolled
// on 2020-09-01, China time (2020-08-31T16:00:00Z).
func tourEnrolment(w *world, person int) fact.Entry {
	return w.entry("edu", "edu.enrolment", time.Date(2020, 9, 1, 0, 0, 0, 0, cst), map[string]any{
		"person_key": pk(person), "household_id": tourHousehold, "action": "enrolled", "school_id": "SCH610424-01",
		"level": "primary", "grade": 1, "effective_on": "2020-09-01"})
}

// tourRegistry registers tourHousehold and two persons.
func tourRegistry(w *world) []fact.Entry {
	es := []fact.Entry{w.entry("poverty", "registry.household", time.Date(2019, 5, 1, 0, 0, 0, 0, cst), map[string]any{
		"household_id": tourHousehold, "site_id": "S610424-0001", "size": 2, "labour_count": 1, "registered_poor": true,
		"relocated_on": "2019-05-01"})}
	for i, born := range []int{1985, 2014} {
		es = append(es, w.entry("poverty", "registry.person", time.Date(2019, 5, 1, 0, 0, 0, 0, cst), map[string]any{
			"person_key": pk(i), "household_id": tourHousehold, "birth_year": born, "sex": "female",
			"labour_capacity": []string{"full", "student"}[i]}))
	}
	return es
}

// asJSON is what a reader of the API sees.
func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func hasNote(notes []string, part string) bool {
	for _, n := range notes {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// TestEffectiveDateShownAsWritten: a fact dated 2020-09-01 in China shows
// as 2020-09-01, not as 2020-08-31T16:00:00Z.
func TestEffectiveDateShownAsWritten(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, tourEnrolment(w, 0))
	h, err := v.Household(tourHousehold)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Members) != 1 {
		t.Fatalf("%d members, want the enrolled child", len(h.Members))
	}
	ref := asJSON(t, h.Members[0].Obligations["compulsory_edu"].Fact)
	if got, want := ref["effective_on"], "2020-09-01"; got != want {
		t.Errorf("effective_on %v, want %v", got, want)
	}
	if got, want := ref["time"], "2020-09-01T00:00:00+08:00"; got != want {
		t.Errorf("time %v, want %v", got, want)
	}
}

// TestAsOfBeforeFirstTick: no 0001-01-01 before the hub records its clock;
// a note says why as_of is absent.
func TestAsOfBeforeFirstTick(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, tourEnrolment(w, 0))
	county, err := v.County("610424")
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]any{"city": v.City(), "county": county, "counties": v.Counties()} {
		m := asJSON(t, a)
		if _, ok := m["as_of"]; ok {
			t.Errorf("%s: as_of %v before the first tick, want it absent", name, m["as_of"])
		}
		if !strings.Contains(string(mustJSON(t, m["notes"])), "no hub.tick folded") {
			t.Errorf("%s: notes %v do not say why as_of is absent", name, m["notes"])
		}
	}
	apply(v, w.tick(time.Date(2020, 9, 2, 1, 30, 0, 0, time.UTC)))
	city := v.City()
	if got, want := asJSON(t, city)["as_of"], "2020-09-02T09:30:00+08:00"; got != want {
		t.Errorf("as_of %v, want %v", got, want)
	}
	if hasNote(city.Notes, "no hub.tick") {
		t.Errorf("notes %v still say there is no clock", city.Notes)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHouseholdKnownOnlyThroughMember: a household named only by a
// member's enrolment says it is not registered, with no size.
func TestHouseholdKnownOnlyThroughMember(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, tourEnrolment(w, 0))
	h, err := v.Household(tourHousehold)
	if err != nil {
		t.Fatal(err)
	}
	m := asJSON(t, h)
	if m["registered"] != false || m["size"] != nil || m["labour_count"] != nil {
		t.Errorf("registered %v size %v labour_count %v, want false, null, null", m["registered"], m["size"], m["labour_count"])
	}
	if _, ok := m["size"]; !ok {
		t.Errorf("size absent, want null")
	}
	if !hasNote(h.Notes, "not yet registered: known only through facts about its members") {
		t.Errorf("notes %q do not say the household is not registered", h.Notes)
	}
	if !hasNote(h.Notes, "1 member(s) not yet registered") {
		t.Errorf("notes %q do not say the member is not registered", h.Notes)
	}

	apply(v, tourRegistry(w)...)
	h, _ = v.Household(tourHousehold)
	if h.Size == nil || *h.Size != 2 || h.LabourCount == nil || *h.LabourCount != 1 {
		t.Errorf("size %v labour %v, want 2 and 1", h.Size, h.LabourCount)
	}
	if len(h.Notes) != 0 {
		t.Errorf("notes %q once registered with its members, want none", h.Notes)
	}
}

// TestPopulationKnownBesideRegistered: one enrolment shows in the city and
// county as a known, not yet registered household and person.
func TestPopulationKnownBesideRegistered(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, tourEnrolment(w, 5))
	want := view.Population{
		Households: view.Headcount{Known: 1, NotYetRegistered: 1},
		Persons:    view.Headcount{Known: 1, NotYetRegistered: 1},
	}
	county, _ := v.County("610424")
	for name, got := range map[string]view.Population{"city": v.City().Population, "county": county.Population,
		"counties": countyLine(t, v.Counties(), "610424").Population, "city's line": countyLine(t, &view.CountyList{Counties: v.City().Counties}, "610424").Population} {
		if got != want {
			t.Errorf("%s population %+v, want %+v", name, got, want)
		}
	}
	if !hasNote(county.Notes, "1 household(s) and 1 person(s) known only through other departments' facts") {
		t.Errorf("county notes %q", county.Notes)
	}
	if other := countyLine(t, v.Counties(), "610402").Population; other != (view.Population{}) {
		t.Errorf("秦都区 population %+v, want nothing", other)
	}

	apply(v, tourRegistry(w)...)
	want = view.Population{
		Households: view.Headcount{Known: 1, Registered: 1, InIndicators: 1},
		Persons:    view.Headcount{Known: 3, Registered: 2, NotYetRegistered: 1, InIndicators: 2},
	}
	if got := v.City().Population; got != want {
		t.Errorf("after registration: population %+v, want %+v", got, want)
	}
	l := countyLine(t, v.Counties(), "610424")
	if l.Persons != 2 || l.Households != 1 || l.Name != "乾县" {
		t.Errorf("乾县 line %+v, want 2 persons and 1 household registered", l)
	}
}

func countyLine(t *testing.T, l *view.CountyList, code string) view.AreaSummary {
	t.Helper()
	for _, c := range l.Counties {
		if c.Code == code {
			return c
		}
	}
	t.Fatalf("no county %s in %d lines", code, len(l.Counties))
	return view.AreaSummary{}
}

// TestCountiesList: every county of the catalog, in its order.
func TestCountiesList(t *testing.T) {
	v := newView(t)
	l := v.Counties()
	cat := schemas.MustLoad()
	if got, want := len(l.Counties), len(cat.Counties()); got != want {
		t.Fatalf("%d counties, want %d", got, want)
	}
	for i, k := range cat.Counties() {
		if l.Counties[i].Code != k.Code || l.Counties[i].Name != k.Name {
			t.Errorf("line %d: %s %s, want %s %s", i, l.Counties[i].Code, l.Counties[i].Name, k.Code, k.Name)
		}
	}
	if l.City != "610400" || l.Name != "咸阳市" {
		t.Errorf("city %s %s", l.City, l.Name)
	}
}

// TestPopulationFollowsAMove: a person re-registered in a household of
// another county counts there, and a snapshot keeps the counts.
func TestPopulationFollowsAMove(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	apply(v, tourRegistry(w)...)
	apply(v, w.entry("poverty", "registry.person", time.Date(2021, 1, 1, 0, 0, 0, 0, cst), map[string]any{
		"person_key": pk(0), "household_id": "H610481-000001", "birth_year": 1985, "sex": "female", "labour_capacity": "full"}))
	qian, _ := v.County("610424")
	xingping, _ := v.County("610481")
	if got := qian.Population.Persons; got.Known != 1 || got.Registered != 1 {
		t.Errorf("乾县 persons %+v, want 1 known and registered", got)
	}
	if got := xingping.Population; got.Persons.Known != 1 || got.Persons.Registered != 1 || got.Households.NotYetRegistered != 1 {
		t.Errorf("兴平市 %+v, want 1 person registered in a household not yet registered", got)
	}

	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := view.Restore(schemas.MustLoad(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.City().Population, v.City().Population; got != want {
		t.Errorf("restored population %+v, want %+v", got, want)
	}
	rx, _ := r.County("610481")
	if got, want := rx.Population, xingping.Population; got != want {
		t.Errorf("restored 兴平市 %+v, want %+v", got, want)
	}
}

// TestWarningTimesInChinaTime: a warning's times read in CST, its due and
// evidence dates as dates; the instants are unchanged.
func TestWarningTimesInChinaTime(t *testing.T) {
	w := &world{t: t}
	v := newView(t)
	now := day("2021-06-01")
	apply(v, village(w)...)
	apply(v, freshDepts(w, now)...)
	apply(v, w.tick(now))
	apply(v, w.entry("hrss", "hr.employment", day("2021-05-01"), map[string]any{
		"person_key": pk(0), "household_id": "H610424-000001", "status": "unemployed", "start_on": "2021-05-01"}))
	apply(v, w.tick(now.Add(time.Hour)))
	ws := v.Warnings(view.WarningQuery{Rule: "R4"})
	if len(ws) != 1 {
		t.Fatalf("%d R4 warnings, want 1", len(ws))
	}
	m := asJSON(t, ws[0])
	if got, want := m["raised_at"], "2021-06-01T09:00:00+08:00"; got != want {
		t.Errorf("raised_at %v, want %v", got, want)
	}
	if got, want := m["since"], "2021-05-01T08:00:00+08:00"; got != want {
		t.Errorf("since %v, want %v", got, want)
	}
	if !ws[0].RaisedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("raised at %v, want the instant %v", ws[0].RaisedAt, now.Add(time.Hour))
	}
	for _, e := range ws[0].Evidence {
		if e.EffectiveOn == "" || e.EffectiveOn != e.Time.In(cst).Format(time.DateOnly) {
			t.Errorf("evidence %+v: effective_on not its CST date", e)
		}
	}
}

func TestShowTime(t *testing.T) {
	for _, tt := range []struct {
		in         time.Time
		time, date string
	}{
		{time.Date(2020, 8, 31, 16, 0, 0, 0, time.UTC), "2020-09-01 00:00:00 CST", "2020-09-01"},
		{time.Date(2020, 9, 1, 8, 30, 5, 0, cst), "2020-09-01 08:30:05 CST", "2020-09-01"},
		{time.Time{}, "-", "-"},
	} {
		if got := view.ShowTime(tt.in); got != tt.time {
			t.Errorf("ShowTime(%v) = %q, want %q", tt.in, got, tt.time)
		}
		if got := view.ShowDate(tt.in); got != tt.date {
			t.Errorf("ShowDate(%v) = %q, want %q", tt.in, got, tt.date)
		}
	}
	if _, off := time.Date(2021, 7, 1, 0, 0, 0, 0, view.ChinaTime()).Zone(); off != 8*3600 {
		t.Errorf("China time offset %d s, want 8 h in summer too", off)
	}
}
