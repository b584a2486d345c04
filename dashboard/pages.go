package dashboard

import (
	"time"

	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/subscribers"
	"github.com/xianyang/anzhi/view"
)

// gradedRate is an indicator's value in an area, graded against its target.
type gradedRate struct {
	Key    string
	Value  float64
	Target float64
	Grade  string
	Rule   string
}

func (s *Server) graded(rates map[string]float64) []gradedRate {
	var out []gradedRate
	for _, in := range s.cat.Indicators() {
		v := rates[in.Rate]
		out = append(out, gradedRate{Key: in.Rate, Value: v, Target: in.Target, Grade: in.Grade(v), Rule: in.Rule})
	}
	return out
}

// ruleCount is a rule and how many warnings are open under it.
type ruleCount struct {
	Rule  string
	Count int
}

func byRule(m map[string]int) []ruleCount {
	out := make([]ruleCount, 0, len(m))
	for r, n := range m {
		if n > 0 {
			out = append(out, ruleCount{r, n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return view.CompareRules(out[i].Rule, out[j].Rule) < 0 })
	return out
}

// countyLine is a county of the city's table with its graded rates.
type countyLine struct {
	view.AreaSummary
	Graded []gradedRate
}

type cityData struct {
	City      *view.AreaView
	Graded    []gradedRate
	Counties  []countyLine
	Rules     []ruleCount
	History   []view.HistoryMonth
	WarnRules []string // the rules with open warnings (the by-county chart's columns)
	ByCounty  map[string]map[string]int
}

func (s *Server) city(w http.ResponseWriter, r *http.Request) error {
	v := s.src.View()
	c := v.City()
	d := cityData{City: c, Graded: s.graded(c.Indicators.Rates), Rules: byRule(c.Warnings), ByCounty: map[string]map[string]int{}}
	for _, k := range c.Counties {
		d.Counties = append(d.Counties, countyLine{AreaSummary: k, Graded: s.graded(k.Rates)})
	}
	for _, rc := range d.Rules {
		d.WarnRules = append(d.WarnRules, rc.Rule)
	}
	for _, k := range c.Counties {
		if av, err := v.County(k.Code); err == nil {
			d.ByCounty[k.Code] = av.Warnings
		}
	}
	d.History, _ = v.History(c.Code)
	return s.render(w, r, "city", page{TitleKey: "nav.city", Nav: "city", Live: "/live", Clock: c.Clock, Seq: c.Seq, Data: d})
}

type countyData struct {
	County  *view.AreaView
	Graded  []gradedRate
	Sites   []view.SiteSummary
	Rules   []ruleCount
	History []view.HistoryMonth
}

func (s *Server) county(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	v := s.src.View()
	c, err := v.County(code)
	if err != nil {
		return fmt.Errorf("county %q: %w (a six-digit code such as 610424)", code, errNotFound)
	}
	sites, _ := v.CountySites(code)
	hist, _ := v.History(code)
	return s.render(w, r, "county", page{Title: c.Name, Nav: "city", Live: "/live", Clock: c.Clock, Seq: c.Seq,
		Data: countyData{County: c, Graded: s.graded(c.Indicators.Rates), Sites: sites, Rules: byRule(c.Warnings), History: hist}})
}

// factLine is an obligation or facility with the fact behind it located in
// the log.
type factLine struct {
	Key   string
	State string
	Met   bool
	Fact  *view.FactRef
	Dept  string
}

func (s *Server) factLine(key, state string, met bool, fr *view.FactRef) factLine {
	fl := factLine{Key: key, State: state, Met: met, Fact: fr}
	if fr != nil {
		if k, err := strconv.ParseUint(fr.Key, 16, 64); err == nil {
			if seq, src, ok := s.src.ResolveFact(k); ok {
				f := *fr
				f.Seq = seq
				fl.Fact = &f
				fl.Dept = fact.DeptOf(src)
			}
		}
	}
	return fl
}

type facilityGroup struct {
	Kind  string
	Items []view.FacilityView
}

type siteData struct {
	Site       *view.SiteView
	Infra      []factLine
	Facilities []facilityGroup
	Graded     []gradedRate
	Households []view.HouseholdSummary
	Next       string
	Rules      []ruleCount
	Funds      [2]int64
}

var infraOrder = []string{"water", "power", "road", "gas", "heating", "sewage", "telecom", "sanitation"}
var facilityOrder = []string{"clinics", "schools", "workshops", "industrial_parks", "self_governance_units", "party_organisations", "ecommerce_points"}

func (s *Server) site(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	v := s.src.View()
	sv, err := v.Site(id)
	if err != nil {
		return fmt.Errorf("site %q: %w", id, errNotFound)
	}
	d := siteData{Site: sv, Graded: s.graded(sv.Indicators.Rates), Rules: byRule(sv.Warnings)}
	for _, it := range infraOrder {
		o := sv.Infrastructure[it]
		d.Infra = append(d.Infra, s.factLine(it, o.State, o.Met, o.Fact))
	}
	for _, k := range facilityOrder {
		d.Facilities = append(d.Facilities, facilityGroup{Kind: k, Items: sv.Facilities[k]})
	}
	d.Funds = [2]int64{sv.Indicators.Counts["funds_allocated_fen"], sv.Indicators.Counts["funds_disbursed_fen"]}
	// The list of households is personal data: only for those who may open
	// a household (the lead office, auditors, the site's county).
	if viewerOf(r).Households {
		hs, more, err := v.SiteHouseholds(id, r.URL.Query().Get("after"), 200)
		if err != nil {
			return err
		}
		d.Households = hs
		if more && len(hs) > 0 {
			d.Next = hs[len(hs)-1].HouseholdID
		}
	}
	return s.render(w, r, "site", page{Title: sv.SiteID, Nav: "city", Live: "/live", Data: d})
}

type memberLine struct {
	view.PersonView
	Obligations []factLine
}

type householdData struct {
	Household   *view.HouseholdView
	Members     []memberLine
	Obligations []factLine
}

func (s *Server) household(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	hv, err := s.src.View().Household(id)
	if err != nil {
		return fmt.Errorf("household %q: %w", id, errNotFound)
	}
	d := householdData{Household: hv}
	for _, k := range sortedKeys(hv.Obligations) {
		o := hv.Obligations[k]
		d.Obligations = append(d.Obligations, s.factLine(k, o.State, o.Met, o.Fact))
	}
	for _, m := range hv.Members {
		ml := memberLine{PersonView: m}
		for _, k := range sortedKeys(m.Obligations) {
			o := m.Obligations[k]
			ml.Obligations = append(ml.Obligations, s.factLine(k, o.State, o.Met, o.Fact))
		}
		d.Members = append(d.Members, ml)
	}
	return s.render(w, r, "household", page{Title: hv.HouseholdID, Nav: "city", Live: "/live", Data: d})
}

type warningsData struct {
	Query    view.WarningQuery
	Items    []view.Warning
	Next     string
	Counties []schemas.County
	Rules    []*schemas.Rule
	States   []string
	Depts    []view.DepartmentSummary
	Now      time.Time
}

const warningsPerPage = 100

func (s *Server) warnings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	wq := view.WarningQuery{County: q.Get("county"), Rule: q.Get("rule"), State: q.Get("state"), Dept: q.Get("dept")}
	if qe := wq.Check(s.cat); qe != nil {
		return fmt.Errorf("%w: %v", errBadParam, qe)
	}
	var afterRule, afterEntity string
	if a := q.Get("after"); a != "" {
		var ok bool
		if afterRule, afterEntity, ok = strings.Cut(a, "|"); !ok {
			return fmt.Errorf("%w: after %q is not a cursor of this list", errBadParam, a)
		}
	}
	v := s.src.View()
	items, more := v.WarningsPage(wq, afterRule, afterEntity, warningsPerPage)
	d := warningsData{Query: wq, Items: items, Counties: s.cat.Counties(), Rules: s.cat.Rules().Rules, States: view.SupervisionStates(),
		Depts: v.Departments(), Now: v.Clock()}
	if more && len(items) > 0 {
		last := items[len(items)-1]
		nq := r.URL.Query()
		nq.Set("after", last.Rule+"|"+last.EntityID)
		d.Next = "/warnings?" + nq.Encode()
	}
	return s.render(w, r, "warnings", page{TitleKey: "nav.warnings", Nav: "warnings", Live: "/live", Data: d})
}

type departmentsData struct {
	Units         []view.DepartmentSummary
	FreshnessDays int
}

func (s *Server) departments(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, "departments", page{TitleKey: "nav.departments", Nav: "departments", Live: "/live",
		Data: departmentsData{Units: s.src.View().Departments(), FreshnessDays: s.src.View().FreshnessDays()}})
}

type departmentData struct {
	Dept          *view.DepartmentView
	Families      []ruleCount
	Reasons       []ruleCount
	FreshnessDays int
	Deliveries    *subscribers.DeliveryLog // its webhook's (deliveries.go); nil: none
}

func (s *Server) department(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	dv, err := s.src.View().Department(code)
	if err != nil {
		return fmt.Errorf("department %q: %w", code, errNotFound)
	}
	d := departmentData{Dept: dv, FreshnessDays: s.src.View().FreshnessDays(), Deliveries: s.deliveries(r.Context(), code)}
	for _, f := range sortedKeys(dv.ByFamily) {
		d.Families = append(d.Families, ruleCount{f, int(dv.ByFamily[f])})
	}
	if dv.Rejected > 0 {
		rej, _, err := s.src.Rejections(r.Context(), subscribers.RejectionQuery{Department: code, Limit: 1000})
		if err != nil {
			return err
		}
		reasons := map[string]int{}
		for _, x := range rej {
			if len(x.Violations) > 0 {
				reasons[string(x.Violations[0].Reason)]++
			}
		}
		for _, k := range sortedKeys(reasons) {
			d.Reasons = append(d.Reasons, ruleCount{k, reasons[k]})
		}
	}
	return s.render(w, r, "department", page{Title: dv.Name, Nav: "departments", Live: "/live", Data: d})
}

// fieldLine is a field of a family's schema as the catalog page lists it.
type fieldLine struct {
	Name, Type, Description string
	Required                bool
}

type familyLine struct {
	*schemas.Family
	Fields []fieldLine
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request) error {
	var fams []familyLine
	for _, f := range s.cat.Families() {
		fams = append(fams, familyLine{Family: f, Fields: schemaFields(f.Schema)})
	}
	return s.render(w, r, "catalog", page{TitleKey: "nav.catalog", Nav: "catalog", Data: fams})
}

// schemaFields lists a schema's top-level properties.
func schemaFields(raw json.RawMessage) []fieldLine {
	var doc struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []fieldLine
	for _, name := range sortedKeys(doc.Properties) {
		var p struct {
			Type        any    `json:"type"`
			Ref         string `json:"$ref"`
			Enum        []any  `json:"enum"`
			Description string `json:"description"`
			Format      string `json:"format"`
		}
		_ = json.Unmarshal(doc.Properties[name], &p)
		typ := fmt.Sprint(p.Type)
		switch {
		case p.Ref != "":
			_, def, _ := strings.Cut(p.Ref, "#/$defs/")
			typ = def
		case len(p.Enum) > 0:
			parts := make([]string, len(p.Enum))
			for i, e := range p.Enum {
				parts[i] = fmt.Sprint(e)
			}
			typ = strings.Join(parts, " | ")
		case p.Type == nil:
			typ = ""
		}
		out = append(out, fieldLine{Name: name, Type: typ, Description: p.Description, Required: slices.Contains(doc.Required, name)})
	}
	return out
}
