// Package bench measures anzhi against raw JetStream on the same machine, in
// the same run, on the same generated events, and reports ratios: absolute
// rates drift ±30% between runs on a small shared machine, ratios much less.
package bench

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// counties used by the generated events.
var counties = []string{"610402", "610403", "610404", "610422", "610423", "610424", "610425",
	"610426", "610428", "610429", "610430", "610431", "610481", "610482"}

// Events holds the benchmark's events, generated deterministically and
// before any timing starts, so that every measurement publishes exactly the
// same bytes and none pays for making them. The mix is person-level facts of
// three departments and four families.
type Events struct {
	cat     *schemas.Catalog
	arena   []byte
	off     []int32
	subject []string // person keys
	county  []string
	time    []time.Time
}

// kinds of generated facts, cycled through.
var kinds = []struct{ family, dept string }{
	{"edu.enrolment", "edu"},
	{"hr.employment", "hrss"},
	{"health.coverage", "medins"},
	{"hr.training", "hrss"},
}

// NewEvents generates n events.
func NewEvents(cat *schemas.Catalog, n int) *Events {
	g := &Events{cat: cat, arena: make([]byte, 0, n*300), off: make([]int32, 0, n+1), subject: make([]string, n), county: make([]string, n), time: make([]time.Time, n)}
	g.off = append(g.off, 0)
	for i := 0; i < n; i++ {
		k := kinds[i%len(kinds)]
		county := counties[(i/len(kinds))%len(counties)]
		person := i / len(kinds)
		pk := fmt.Sprintf("%064x", uint64(person)*0x9e3779b97f4a7c15+1)
		hh := fmt.Sprintf("H%s-%06d", county, person/3%1000000)
		day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, person%1500)
		date := day.Format("2006-01-02")
		switch k.family {
		case "edu.enrolment":
			g.arena = fmt.Appendf(g.arena, `{"person_key":%q,"household_id":%q,"action":"enrolled","school_id":"SC%s-%03d","level":"primary","grade":%d,"effective_on":%q}`,
				pk, hh, county, person%50, 1+person%6, date)
		case "hr.employment":
			g.arena = fmt.Appendf(g.arena, `{"person_key":%q,"household_id":%q,"status":"employed","kind":"workshop","start_on":%q,"monthly_income_yuan":%d.50}`,
				pk, hh, date, 2000+person%1500)
		case "health.coverage":
			g.arena = fmt.Appendf(g.arena, `{"person_key":%q,"household_id":%q,"year":%d,"scheme":"basic_medical","status":"enrolled","enrolled_on":%q}`,
				pk, hh, day.Year(), date)
		case "hr.training":
			g.arena = fmt.Appendf(g.arena, `{"person_key":%q,"household_id":%q,"course_id":"C%s-%04d","course":"电商技能","kind":"skills","completed_on":%q,"passed":true}`,
				pk, hh, county, person%500, date)
		}
		g.off = append(g.off, int32(len(g.arena)))
		g.subject[i], g.county[i], g.time[i] = pk, county, day
	}
	return g
}

// Len is the number of events.
func (g *Events) Len() int { return len(g.subject) }

// Dept returns the department publishing event i.
func (g *Events) Dept(i int) string { return kinds[i%len(kinds)].dept }

// ID returns the CloudEvent id of event i.
func (g *Events) ID(i int) string { return g.Dept(i) + "-" + strconv.Itoa(i) }

// Fact returns event i as a publisher's fact.
func (g *Events) Fact(i int) publishers.Fact {
	return publishers.Fact{
		Family: kinds[i%len(kinds)].family,
		ID:     g.ID(i),
		Time:   g.time[i],
		Data:   json.RawMessage(g.arena[g.off[i]:g.off[i+1]:g.off[i+1]]),
	}
}

// Encode returns event i as the structured CloudEvent the publisher library
// sends, and its NATS subject.
func (g *Events) Encode(i int, dst []byte) (subject string, body []byte) {
	fam, _ := g.cat.Family(kinds[i%len(kinds)].family)
	o := &fact.Outgoing{
		ID: g.ID(i), Source: fact.SourceFor(g.Dept(i)), Type: fam.Type, Subject: g.subject[i],
		Time: g.time[i], DataSchema: fam.SchemaURI, Data: g.arena[g.off[i]:g.off[i+1]],
	}
	return fact.SubjectFor(fam.Name, g.county[i]), fact.Encode(dst, o)
}
