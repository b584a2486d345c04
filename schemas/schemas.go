// Package schemas is anzhi's event catalog and reference data: one JSON Schema
// (2020-12) per event family, the department registry (who may publish which
// families), the counties, and — as the view and rules grow — rule thresholds
// and the responsibility list (责任清单). Everything is embedded data, compiled
// once by Load; nothing here talks to NATS.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed catalog/*.json departments.json rules.json responsibilities.json indicators.json board.json guidance.txt
var files embed.FS

// BaseURI is the prefix of every schema's $id; a family's schema URI is
// BaseURI + family + ".json". It is also the dataschema attribute of events.
const BaseURI = "https://anzhi.xianyang.gov.cn/schemas/v1/"

// TypePrefix and TypeSuffix frame a family name into a CloudEvents type:
// anzhi.<domain>.<event>.v1.
const (
	TypePrefix = "anzhi."
	TypeSuffix = ".v1"
)

// Family is one event family of the catalog, e.g. edu.enrolment.
type Family struct {
	Name        string // edu.enrolment
	Type        string // anzhi.edu.enrolment.v1
	SchemaURI   string // https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json
	Title       string
	Description string
	// SubjectField names the data field that identifies the entity the fact
	// is about; the CloudEvent subject must equal it.
	SubjectField string
	// Owners are the department codes allowed to publish the family;
	// "county" stands for every county government (on its own county only),
	// "*" for every department and county government.
	Owners []string
	// PublisherField, when set, names a data field that must equal the
	// publishing department (task.progress, issue.report: a department speaks
	// only for itself).
	PublisherField string
	// DepartmentFields name data fields (strings or arrays of strings, or
	// list/field for a field of each object of a list) that must hold
	// department codes of the registry.
	DepartmentFields []string
	// Order lists pairs of data fields [a, b] with a <= b whenever both are
	// present (numbers, or dates compared as text): seats used within seats,
	// an end not before its start.
	Order [][2]string
	// ElsewhereFields name county-bearing data fields (project_id, …) that
	// may name another county than the event's county token: a job on a
	// project in another county, the reclamation project back in the home
	// village. Every other county-bearing field must agree with the token.
	ElsewhereFields []string
	// CountyFields (x-anzhi.county) name the data fields that name or embed
	// the county the fact is about, in order of preference: the first one
	// present gives the subject's county token (see Catalog.CountyOf) and
	// every one present must agree with it.
	CountyFields []string
	// Citywide (x-anzhi.citywide) marks a family whose fact may be about the
	// whole city: when its data names no county, it goes on the city's token
	// (a county government's: its own county). A fact of any other family
	// whose data names no county cannot be routed and is refused.
	Citywide bool
	// Schema is the schema document as embedded.
	Schema json.RawMessage

	compiled *jsonschema.Schema
}

// Validate checks a decoded JSON value (as produced by Decode) against the
// family's schema and returns every violation, or nil when the value is valid.
// Pointers are relative to the data value ("" is the value itself).
func (f *Family) Validate(data any) []Violation {
	err := f.compiled.Validate(data)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !asValidationError(err, &ve) {
		return []Violation{{Pointer: "", Reason: ReasonSchema, Message: err.Error()}}
	}
	var out []Violation
	flatten(ve, &out)
	sortViolations(out)
	return out
}

// ValidateJSON decodes b and validates it; malformed JSON is one violation.
func (f *Family) ValidateJSON(b []byte) []Violation {
	v, err := Decode(b)
	if err != nil {
		return []Violation{{Pointer: "", Reason: ReasonMalformed, Message: err.Error()}}
	}
	return f.Validate(v)
}

// Department is one publishing unit of the registry.
type Department struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Role     string   `json:"role,omitempty"` // lead, auditor
	AnnexRow int      `json:"annex_row,omitempty"`
	Note     string   `json:"note,omitempty"`
	Families []string `json:"families"`
}

// County is a county-level area of the city (GB/T 2260).
type County struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Catalog is the compiled catalog and registry. It is immutable and safe for
// concurrent use.
type Catalog struct {
	indicators  []Indicator
	board       *Board
	City        County
	counties    []County
	countyByKey map[string]County
	families    map[string]*Family
	byType      map[string]*Family
	names       []string
	depts       map[string]*Department
	deptCodes   []string
	countyGov   Department
	hub         Department
	anyDept     []string

	rules            *RuleBook
	responsibilities []ResponsibilityRow
}

var loadOnce = sync.OnceValues(func() (*Catalog, error) { return load(files) })

// Load compiles the embedded catalog once and returns it.
func Load() (*Catalog, error) { return loadOnce() }

// MustLoad is Load for program start-up and tests: the embedded catalog is
// checked by the package's tests, so an error here is a build defect.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(fmt.Sprintf("schemas: embedded catalog does not compile: %v", err))
	}
	return c
}

type registryFile struct {
	City                  County       `json:"city"`
	Counties              []County     `json:"counties"`
	AnyDepartmentFamilies []string     `json:"any_department_families"`
	Departments           []Department `json:"departments"`
	CountyGovernment      Department   `json:"county_government"`
	Hub                   Department   `json:"hub"`
}

type schemaMeta struct {
	ID          string `json:"$id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Anzhi       struct {
		Subject     string      `json:"subject"`
		Publisher   string      `json:"publisher"`
		Departments []string    `json:"departments"`
		Order       [][2]string `json:"order"`
		Elsewhere   []string    `json:"elsewhere"`
		County      []string    `json:"county"`
		Citywide    bool        `json:"citywide"`
	} `json:"x-anzhi"`
}

func load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{
		countyByKey: map[string]County{},
		families:    map[string]*Family{},
		byType:      map[string]*Family{},
		depts:       map[string]*Department{},
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	entries, err := fs.ReadDir(fsys, "catalog")
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	raw := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		b, err := fs.ReadFile(fsys, path.Join("catalog", name))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		doc, err := Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var meta schemaMeta
		if err := json.Unmarshal(b, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if want := BaseURI + name; meta.ID != want {
			return nil, fmt.Errorf("%s: $id is %q, want %q", name, meta.ID, want)
		}
		if err := comp.AddResource(meta.ID, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if name == "defs.json" {
			continue
		}
		fam := strings.TrimSuffix(name, ".json")
		if strings.Count(fam, ".") != 1 {
			return nil, fmt.Errorf("%s: family name must be <domain>.<event>", name)
		}
		if meta.Anzhi.Subject == "" {
			return nil, fmt.Errorf("%s: x-anzhi.subject (the data field the CloudEvent subject names) is missing", name)
		}
		if err := checkCountyFields(meta.Anzhi.County, meta.Anzhi.Elsewhere, meta.Anzhi.Citywide); err != nil {
			return nil, fmt.Errorf("%s: x-anzhi: %w", name, err)
		}
		f := &Family{
			Name:             fam,
			Type:             TypePrefix + fam + TypeSuffix,
			SchemaURI:        meta.ID,
			Title:            meta.Title,
			Description:      meta.Description,
			SubjectField:     meta.Anzhi.Subject,
			PublisherField:   meta.Anzhi.Publisher,
			DepartmentFields: meta.Anzhi.Departments,
			Order:            meta.Anzhi.Order,
			ElsewhereFields:  meta.Anzhi.Elsewhere,
			CountyFields:     meta.Anzhi.County,
			Citywide:         meta.Anzhi.Citywide,
			Schema:           json.RawMessage(b),
		}
		raw[fam] = b
		c.families[fam] = f
		c.byType[f.Type] = f
		c.names = append(c.names, fam)
	}
	sort.Strings(c.names)
	for _, name := range c.names {
		f := c.families[name]
		sch, err := comp.Compile(f.SchemaURI)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", name, err)
		}
		f.compiled = sch
	}

	b, err := fs.ReadFile(fsys, "departments.json")
	if err != nil {
		return nil, fmt.Errorf("read departments.json: %w", err)
	}
	var reg registryFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&reg); err != nil {
		return nil, fmt.Errorf("departments.json: %w", err)
	}
	c.City = reg.City
	c.counties = reg.Counties
	for _, k := range reg.Counties {
		c.countyByKey[k.Code] = k
	}
	c.anyDept = reg.AnyDepartmentFamilies
	c.countyGov = reg.CountyGovernment
	c.hub = reg.Hub
	owners := map[string][]string{}
	addOwner := func(who string, fams []string) error {
		for _, fam := range fams {
			if _, ok := c.families[fam]; !ok {
				return fmt.Errorf("departments.json: %s may publish %q, which has no schema", who, fam)
			}
			owners[fam] = append(owners[fam], who)
		}
		return nil
	}
	for i := range reg.Departments {
		d := &reg.Departments[i]
		if _, dup := c.depts[d.Code]; dup || d.Code == "hub" || d.Code == "county" {
			return nil, fmt.Errorf("departments.json: department code %q is duplicated or reserved", d.Code)
		}
		c.depts[d.Code] = d
		c.deptCodes = append(c.deptCodes, d.Code)
		if err := addOwner(d.Code, d.Families); err != nil {
			return nil, err
		}
	}
	sort.Strings(c.deptCodes)
	if err := addOwner("county", reg.CountyGovernment.Families); err != nil {
		return nil, err
	}
	if err := addOwner("hub", reg.Hub.Families); err != nil {
		return nil, err
	}
	if err := addOwner("*", reg.AnyDepartmentFamilies); err != nil {
		return nil, err
	}
	for fam, f := range c.families {
		f.Owners = owners[fam]
		if len(f.Owners) == 0 {
			return nil, fmt.Errorf("family %s has a schema but nobody may publish it", fam)
		}
	}
	if err := loadRules(c); err != nil {
		return nil, err
	}
	if err := loadIndicators(c); err != nil {
		return nil, err
	}
	if err := loadBoard(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Families returns every family, sorted by name.
func (c *Catalog) Families() []*Family {
	out := make([]*Family, len(c.names))
	for i, n := range c.names {
		out[i] = c.families[n]
	}
	return out
}

// Family returns a family by name (edu.enrolment).
func (c *Catalog) Family(name string) (*Family, bool) {
	f, ok := c.families[name]
	return f, ok
}

// FamilyByType returns a family by CloudEvents type (anzhi.edu.enrolment.v1).
func (c *Catalog) FamilyByType(typ string) (*Family, bool) {
	f, ok := c.byType[typ]
	return f, ok
}

// Counties returns the counties of the city in registry order.
func (c *Catalog) Counties() []County { return slices.Clone(c.counties) }

// County returns a county by code.
func (c *Catalog) County(code string) (County, bool) {
	k, ok := c.countyByKey[code]
	return k, ok
}

// ValidArea reports whether code is a county of the city or the city itself.
func (c *Catalog) ValidArea(code string) bool {
	_, ok := c.countyByKey[code]
	return ok || code == c.City.Code
}

// Department returns a city department by code (not county governments or the hub).
func (c *Catalog) Department(code string) (*Department, bool) {
	d, ok := c.depts[code]
	return d, ok
}

// Departments returns the city departments sorted by code.
func (c *Catalog) Departments() []*Department {
	out := make([]*Department, len(c.deptCodes))
	for i, code := range c.deptCodes {
		out[i] = c.depts[code]
	}
	return out
}

// CountyGovernment describes the county governments as a publishing unit.
func (c *Catalog) CountyGovernment() Department { return c.countyGov }

// Hub describes anzhi itself as a publisher (warnings, clock).
func (c *Catalog) Hub() Department { return c.hub }

// Publisher identifies who publishes, parsed from a CloudEvent source.
type Publisher struct {
	// Dept is a department code (edu), "county" for a county government, or "hub".
	Dept string
	// County is the county code when Dept is "county".
	County string
}

// String returns the department as written after /xianyang/ in a source.
func (p Publisher) String() string {
	if p.Dept == "county" {
		return "county/" + p.County
	}
	return p.Dept
}

// SourcePrefix starts every CloudEvent source.
const SourcePrefix = "/xianyang/"

// Source returns the CloudEvent source of a publisher.
func (p Publisher) Source() string { return SourcePrefix + p.String() }

// ParsePublisher parses a department as written after /xianyang/ (edu,
// county/610424, hub) and checks it against the registry.
func (c *Catalog) ParsePublisher(dept string) (Publisher, error) {
	if code, ok := strings.CutPrefix(dept, "county/"); ok {
		if _, ok := c.countyByKey[code]; !ok {
			return Publisher{}, fmt.Errorf("%q is not a county of %s", code, c.City.Name)
		}
		return Publisher{Dept: "county", County: code}, nil
	}
	if dept == "hub" {
		return Publisher{Dept: "hub"}, nil
	}
	if _, ok := c.depts[dept]; !ok {
		return Publisher{}, fmt.Errorf("%q is not a department of the registry", dept)
	}
	return Publisher{Dept: dept}, nil
}

// ValidDepartment reports whether code names a city department or a county
// government (county/<code>) of the registry.
func (c *Catalog) ValidDepartment(code string) bool {
	p, err := c.ParsePublisher(code)
	return err == nil && p.Dept != "hub"
}

// ParseSource parses a CloudEvent source (/xianyang/edu).
func (c *Catalog) ParseSource(source string) (Publisher, error) {
	dept, ok := strings.CutPrefix(source, SourcePrefix)
	if !ok {
		return Publisher{}, fmt.Errorf("source %q does not start with %s", source, SourcePrefix)
	}
	return c.ParsePublisher(dept)
}

// MayPublish reports why p may not publish family f on the given area token,
// or nil when it may.
func (c *Catalog) MayPublish(p Publisher, f *Family, area string) error {
	allowed := false
	for _, o := range f.Owners {
		switch {
		case o == p.Dept:
			allowed = true
		case o == "*" && p.Dept != "hub":
			allowed = true
		}
	}
	if !allowed {
		return fmt.Errorf("%s may not publish %s (allowed: %s)", p, f.Name, strings.Join(f.Owners, ", "))
	}
	if p.Dept == "county" && area != p.County {
		return fmt.Errorf("county government %s may publish only on its own county token %s, not %s", p.County, p.County, area)
	}
	return nil
}

// FamilyOf returns the family part (<domain>.<event>) of a NATS subject
// <domain>.<event>.<county> and the county token.
func FamilyOf(subject string) (family, area string, ok bool) {
	i := strings.LastIndexByte(subject, '.')
	if i <= 0 || i == len(subject)-1 {
		return "", "", false
	}
	family, area = subject[:i], subject[i+1:]
	if strings.Count(family, ".") != 1 || strings.HasPrefix(family, ".") || strings.HasSuffix(family, ".") {
		return "", "", false
	}
	return family, area, true
}

// Subjects returns the NATS subject filters of every family (<family>.*).
func (c *Catalog) Subjects() []string {
	out := make([]string, len(c.names))
	for i, n := range c.names {
		out[i] = n + ".*"
	}
	return out
}

// PublisherIndex numbers publishers compactly and stably for a given
// registry: 1… for the departments in code order, then the county
// governments in registry order, then the hub; 0 for an unknown publisher.
func (c *Catalog) PublisherIndex(p Publisher) uint16 {
	switch p.Dept {
	case "":
		return 0
	case "county":
		for i, k := range c.counties {
			if k.Code == p.County {
				return uint16(len(c.deptCodes) + 1 + i)
			}
		}
		return 0
	case "hub":
		return uint16(len(c.deptCodes) + len(c.counties) + 1)
	}
	i := sort.SearchStrings(c.deptCodes, p.Dept)
	if i < len(c.deptCodes) && c.deptCodes[i] == p.Dept {
		return uint16(i + 1)
	}
	return 0
}

// PublisherByIndex is the inverse of PublisherIndex.
func (c *Catalog) PublisherByIndex(i uint16) (Publisher, bool) {
	n := int(i)
	switch {
	case n == 0:
		return Publisher{}, false
	case n <= len(c.deptCodes):
		return Publisher{Dept: c.deptCodes[n-1]}, true
	case n <= len(c.deptCodes)+len(c.counties):
		return Publisher{Dept: "county", County: c.counties[n-1-len(c.deptCodes)].Code}, true
	case n == len(c.deptCodes)+len(c.counties)+1:
		return Publisher{Dept: "hub"}, true
	}
	return Publisher{}, false
}
