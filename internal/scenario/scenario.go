// Package scenario builds small, exact worlds of facts for tests: a complete
// resettlement site where every rule holds, and the facts that break or
// restore each rule. The simulator makes big, realistic worlds; this makes
// worlds where a test knows every fact.
package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/identities"
	"github.com/xianyang/anzhi/publishers"
)

// Item is a fact and the department that publishes it.
type Item struct {
	Dept string
	Fact publishers.Fact
}

// Day parses YYYY-MM-DD (UTC).
func Day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Person returns a deterministic person key.
func Person(i int) string { return fmt.Sprintf("%064x", i+1) }

func item(dept, family string, eff time.Time, data map[string]any) Item {
	return Item{Dept: dept, Fact: publishers.Fact{Family: family, Time: eff, Data: data}}
}

// Member is a person of a household.
type Member struct {
	Key    string
	Born   int
	Labour string // full, weak, none, student
}

// Site returns the registration of a centralized, occupied site.
func Site(id, county string, households, persons int) Item {
	return item("drc", "registry.site", Day("2019-01-10"), map[string]any{
		"site_id": id, "county": county, "site_name": "安置小区" + id[len(id)-4:], "kind": "centralized", "setting": "urban",
		"planned_households": households, "planned_persons": persons, "status": "occupied"})
}

// Services returns the facts that make a site complete: all eight
// infrastructure items done, a clinic, a school and a kindergarten, a
// workshop, a self-governance unit and a party organisation.
func Services(site, county string) []Item {
	items := []Item{
		item("hrss", "hr.workshop", Day("2019-06-01"), map[string]any{
			"site_id": site, "workshop_id": "WS-" + site, "kind": "poverty_workshop", "status": "open", "opened_on": "2019-06-01"}),
		item("health", "health.facility", Day("2019-06-01"), map[string]any{
			"site_id": site, "facility_id": "CL-" + site, "kind": "clinic", "status": "open", "opened_on": "2019-06-01"}),
		item("edu", "edu.capacity", Day("2019-08-01"), map[string]any{
			"site_id": site, "school_id": "SC" + county + "-001", "level": "primary", "school_year": "2019-2020", "seats": 300,
			"seats_used": 200, "teachers": 20, "serves_site": true}),
		Kindergarten(site, county, true),
		RepairFund(site, Day("2020-06-01")),
		item("civil", "civil.community", Day("2019-06-01"), map[string]any{
			"site_id": site, "unit_id": "U-" + site, "form": "standalone", "unit_kind": "community", "set_up_on": "2019-06-01"}),
		item("org", "org.partybranch", Day("2019-06-01"), map[string]any{
			"site_id": site, "org_id": "P-" + site, "kind": "party_branch", "set_up_on": "2019-06-01"}),
	}
	for _, it := range InfraItems {
		items = append(items, Infra(site, it, "done", Day("2019-04-01")))
	}
	return items
}

// RepairFund returns a site's major-repair fund (大修基金) set up on eff.
func RepairFund(site string, eff time.Time) Item {
	return item("housing", "housing.quality", eff, map[string]any{"site_id": site, "kind": "repair_fund",
		"fund_set_up_on": eff.Format(time.DateOnly), "fund_balance_yuan": 120000})
}

// Kindergarten returns a kindergarten that admits the site's children
// (serves) or not.
func Kindergarten(site, county string, serves bool) Item {
	return item("edu", "edu.capacity", Day("2019-08-01"), map[string]any{
		"site_id": site, "school_id": "KG" + county + "-001", "level": "kindergarten", "school_year": "2019-2020", "seats": 90,
		"seats_used": 60, "teachers": 8, "serves_site": serves})
}

// Park returns an industrial park (扶贫产业园) serving the site, in a status
// (planned, building, operating, closed) from eff.
func Park(site, status string, eff time.Time) Item {
	d := map[string]any{"site_id": site, "park_id": "PK-" + site, "kind": "industrial_park", "status": status,
		"park_name": "扶贫产业园"}
	if status == "operating" {
		d["opened_on"] = eff.Format(time.DateOnly)
	}
	return item("agri", "industry.park", eff, d)
}

// InfraItems are the eight infrastructure items and their departments.
var InfraItems = []string{"water", "power", "road", "gas", "heating", "sewage", "telecom", "sanitation"}

var infraDept = map[string]string{"water": "water", "power": "power", "road": "transport", "gas": "gas",
	"heating": "housing", "sewage": "eco", "telecom": "cac", "sanitation": "housing"}

// Infra returns an infrastructure item's state.
func Infra(site, item, status string, eff time.Time) Item {
	d := map[string]any{"site_id": site, "status": status}
	if status == "done" {
		d["completed_on"] = eff.Format(time.DateOnly)
	}
	return Item{Dept: infraDept[item], Fact: publishers.Fact{Family: "infra." + item, Time: eff, Data: d}}
}

// Household returns a household and its members with every obligation met
// for year: registered, insured, pension, hukou, deed, reclaimed homestead,
// children enrolled, and the first full labourer employed.
func Household(id, site string, year int, members []Member) []Item {
	labour := 0
	for _, m := range members {
		if m.Labour == "full" || m.Labour == "weak" {
			labour++
		}
	}
	items := []Item{item("poverty", "registry.household", Day("2019-05-01"), map[string]any{
		"household_id": id, "site_id": site, "size": len(members), "labour_count": labour, "registered_poor": true,
		"relocated_on": "2019-05-01"})}
	employed := false
	for _, m := range members {
		items = append(items, item("poverty", "registry.person", Day("2019-05-01"), map[string]any{
			"person_key": m.Key, "household_id": id, "birth_year": m.Born, "sex": "female", "labour_capacity": m.Labour}))
		items = append(items, Covered(m.Key, id, year, "enrolled")...)
		items = append(items, item("police", "police.hukou", Day("2019-08-01"), map[string]any{
			"person_key": m.Key, "household_id": id, "action": "hukou_moved", "effective_on": "2019-08-01",
			"destination_area": id[1:7]}))
		if m.Labour != "student" && year-m.Born >= 16 {
			items = append(items, Pension(m.Key, id, year, "enrolled"))
		}
		if m.Labour == "full" && !employed {
			items = append(items, Employed(m.Key, id, "employed", Day("2019-07-01")))
			employed = true
		}
		if age := year - m.Born; age >= 6 && age <= 15 {
			items = append(items, Enrolment(m.Key, id, "enrolled", Day(fmt.Sprintf("%d-09-01", year-1))))
		}
	}
	items = append(items,
		item("resources", "resources.deeds", Day("2019-10-01"), map[string]any{
			"household_id": id, "site_id": site, "status": "certificate_issued",
			"certificate_no": "陕(2019)不动产权第" + id[8:] + "号", "registered_on": "2019-10-01"}),
		Reclamation(id, "reclaimed", Day("2020-03-01")),
	)
	return items
}

// Covered returns both health insurance schemes for a year.
func Covered(person, household string, year int, status string) []Item {
	var out []Item
	for _, scheme := range []string{"basic_medical", "serious_illness"} {
		out = append(out, item("medins", "health.coverage", Day(fmt.Sprintf("%d-01-01", year)), map[string]any{
			"person_key": person, "household_id": household, "year": year, "scheme": scheme, "status": status,
			"enrolled_on": fmt.Sprintf("%d-01-01", year)}))
	}
	return out
}

// Pension returns basic pension enrolment for a year.
func Pension(person, household string, year int, status string) Item {
	return item("hrss", "hr.pension", Day(fmt.Sprintf("%d-01-01", year)), map[string]any{
		"person_key": person, "household_id": household, "year": year, "status": status,
		"enrolled_on": fmt.Sprintf("%d-01-01", year)})
}

// Employed returns an employment record (status employed or unemployed).
func Employed(person, household, status string, start time.Time) Item {
	d := map[string]any{"person_key": person, "household_id": household, "status": status,
		"start_on": start.Format(time.DateOnly)}
	if status == "employed" {
		d["kind"] = "workshop"
	}
	return item("hrss", "hr.employment", start, d)
}

// Enrolment returns a school enrolment action.
func Enrolment(person, household, action string, eff time.Time) Item {
	return item("edu", "edu.enrolment", eff, map[string]any{
		"person_key": person, "household_id": household, "action": action, "school_id": "SC" + household[1:7] + "-001",
		"level": "primary", "effective_on": eff.Format(time.DateOnly)})
}

// Reclamation returns the stage of a household's old homestead.
func Reclamation(household, stage string, eff time.Time) Item {
	d := map[string]any{"household_id": household, "origin_area": household[1:7], "stage": stage, "effective_on": eff.Format(time.DateOnly)}
	if stage == "reclaimed" {
		// 拆旧复垦全面纳入增减挂钩项目 (R21).
		d["in_linkage_project"], d["project_id"] = true, "P"+household[1:7]+"-ZJGG1"
	}
	return item("resources", "resources.reclamation", eff, d)
}

// Village is a complete centralized site in 乾县 (610424) with one household
// of two adults and a child: every rule holds in year.
const (
	VillageSite      = "S610424-0001"
	VillageHousehold = "H610424-000001"
)

// Village returns the village's facts.
func Village(year int) []Item {
	items := []Item{Site(VillageSite, "610424", 1, 3)}
	items = append(items, Services(VillageSite, "610424")...)
	items = append(items, Household(VillageHousehold, VillageSite, year, []Member{
		{Person(0), 1980, "full"}, {Person(1), 1982, "full"}, {Person(2), year - 8, "student"}})...)
	return items
}

// Alive returns a fact from every department of the list, so that none is
// judged silent (R18) at t.
func Alive(depts []string, t time.Time) []Item {
	var out []Item
	for _, d := range depts {
		out = append(out, item(d, "issue.report", t, map[string]any{"report_id": "alive-" + d + "-" + t.Format("20060102"),
			"department": d, "kind": "problem", "area": "610400", "reported_on": t.Format(time.DateOnly), "description": "例行信息更新"}))
	}
	return out
}

// Publish publishes items through the publisher library, one publisher per
// department, in order.
func Publish(ctx context.Context, nc *nats.Conn, items []Item) error {
	return publishEach(ctx, items, func(string) (*nats.Conn, error) { return nc, nil })
}

// PublishAs publishes items to the hub at url as the departments send them
// with identities on: each department connected with its own credentials
// from the identities directory dir.
func PublishAs(ctx context.Context, url, dir string, items []Item) error {
	var conns []*nats.Conn
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	return publishEach(ctx, items, func(dept string) (*nats.Conn, error) {
		opts, err := identities.ClientOptions(filepath.Join(dir, fact.IdentityOf(dept)+".creds"))
		if err != nil {
			return nil, err
		}
		nc, err := nats.Connect(url, opts...)
		if err != nil {
			return nil, fmt.Errorf("connect as %s: %w", dept, err)
		}
		conns = append(conns, nc)
		return nc, nil
	})
}

// publishEach publishes items in order, each department through a
// publisher of its own on the connection connect gives it.
func publishEach(ctx context.Context, items []Item, connect func(dept string) (*nats.Conn, error)) error {
	pubs := map[string]*publishers.Publisher{}
	for _, it := range items {
		p := pubs[it.Dept]
		if p == nil {
			nc, err := connect(it.Dept)
			if err != nil {
				return err
			}
			if p, err = publishers.New(nc, it.Dept); err != nil {
				return err
			}
			pubs[it.Dept] = p
		}
		if _, err := p.Publish(ctx, it.Fact); err != nil {
			return fmt.Errorf("%s %s: %w", it.Dept, it.Fact.Family, err)
		}
	}
	return nil
}

// Data returns an item's data as a map (for tests that edit it).
func (it Item) Data() map[string]any {
	switch d := it.Fact.Data.(type) {
	case map[string]any:
		return d
	case json.RawMessage:
		var m map[string]any
		_ = json.Unmarshal(d, &m)
		return m
	}
	return nil
}
