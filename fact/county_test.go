package fact_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

// validFixtures reads schemas/testdata/valid/<family>/*.json of a family.
func validFixtures(t *testing.T, family string) map[string]map[string]any {
	t.Helper()
	dir := filepath.Join("..", "schemas", "testdata", "valid", family)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		if err := json.Unmarshal(b, &data); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = data
	}
	return out
}

// publisherOf is who publishes a fixture: the department its publisher
// field names, else the family's first city department, else the hub for
// the hub's families, else the county government of the county in its data.
func publisherOf(t *testing.T, cat *schemas.Catalog, f *schemas.Family, data map[string]any) schemas.Publisher {
	t.Helper()
	if s, ok := data[f.PublisherField].(string); ok && f.PublisherField != "" {
		p, err := cat.ParsePublisher(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, o := range f.Owners {
		if o != "county" && o != "*" {
			return schemas.Publisher{Dept: o}
		}
	}
	county, err := cat.CountyOf(f, schemas.Publisher{}, data)
	if err != nil {
		t.Fatal(err)
	}
	return schemas.Publisher{Dept: "county", County: county}
}

// judge is the hub's check of a fact of f from p on the token.
func judge(t *testing.T, v *fact.Validator, f *schemas.Family, p schemas.Publisher, token string, data map[string]any) *fact.Verdict {
	t.Helper()
	subject, _ := data[f.SubjectField].(string)
	o := &fact.Outgoing{ID: "county-test", Source: p.Source(), Type: f.Type, Subject: subject,
		Time: time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC), DataSchema: f.SchemaURI, Data: mustJSON(t, data)}
	return v.CheckIntake(fact.Message{Subject: fact.SubjectFor(f.Name, token),
		Header: map[string][]string{"Content-Type": {fact.ContentType}}, Data: fact.Encode(nil, o)})
}

// TestCountyOfAgreesWithTheHub: for every family of the catalog and every
// valid fixture of it, the county token Catalog.CountyOf derives (the one
// the publishers library and anzhi publish route by) is one the hub's check
// accepts the fact on; without its county fields, a fact of a citywide
// family goes on the city's token (a county government's own) and is still
// accepted there, and any other family's cannot be routed and is refused by
// the hub on any token.
func TestCountyOfAgreesWithTheHub(t *testing.T) {
	cat := schemas.MustLoad()
	v := fact.NewValidator(cat, 0)
	county := schemas.Publisher{Dept: "county", County: "610424"}
	for _, f := range cat.Families() {
		fixtures := validFixtures(t, f.Name)
		if len(fixtures) == 0 {
			t.Errorf("%s: no valid fixture under schemas/testdata/valid", f.Name)
		}
		for _, name := range slices.Sorted(maps.Keys(fixtures)) {
			data := fixtures[name]
			t.Run(f.Name+"/"+name, func(t *testing.T) {
				p := publisherOf(t, cat, f, data)
				token, err := cat.CountyOf(f, p, data)
				if err != nil {
					t.Fatalf("CountyOf: %v", err)
				}
				if vd := judge(t, v, f, p, token, data); !vd.OK() {
					t.Errorf("routed on %s, the hub refuses it: %v", token, vd.Violations)
				}

				bare := maps.Clone(data)
				for _, field := range f.CountyFields {
					delete(bare, field)
				}
				token, err = cat.CountyOf(f, p, bare)
				switch {
				case f.Citywide:
					want := cat.City.Code
					if p.Dept == "county" {
						want = p.County
					}
					if err != nil || token != want {
						t.Errorf("without %v: CountyOf = %q, %v; want %s", f.CountyFields, token, err, want)
					}
					if vd := judge(t, v, f, p, token, bare); hasReason(vd, schemas.ReasonCounty) {
						t.Errorf("without %v, on %s: the hub refuses its county: %v", f.CountyFields, token, vd.Violations)
					}
				case !errors.Is(err, schemas.ErrNoCounty) || !strings.Contains(err.Error(), f.CountyFields[0]):
					t.Errorf("without %v: CountyOf = %q, %v; want an error wrapping ErrNoCounty naming %s", f.CountyFields, token, err, f.CountyFields[0])
				default:
					for _, token := range []string{cat.City.Code, "610424"} {
						if vd := judge(t, v, f, p, token, bare); vd.OK() {
							t.Errorf("without %v the hub accepts it on %s: the library refuses what the hub takes", f.CountyFields, token)
						}
					}
				}
				if f.Citywide && slices.Contains(f.Owners, "*") {
					if got, err := cat.CountyOf(f, county, bare); err != nil || got != county.County {
						t.Errorf("a county government's fact without a county: CountyOf = %q, %v; want its own %s", got, err, county.County)
					}
				}
			})
		}
	}
}

func hasReason(vd *fact.Verdict, r schemas.Reason) bool {
	for _, x := range vd.Violations {
		if x.Reason == r {
			return true
		}
	}
	return false
}

// TestCountyIn: identifiers embed the county after their one-letter
// prefix, code fields hold it.
func TestCountyIn(t *testing.T) {
	for _, tc := range []struct {
		field, value, want string
		ok                 bool
	}{
		{"site_id", "S610424-0001", "610424", true},
		{"household_id", "H610482-0001234", "610482", true},
		{"project_id", "P610400-2020GZ07", "610400", true},
		{"site_id", "S61042", "", false},
		{"county", "610424", "610424", true},
		{"area", "610400", "610400", true},
	} {
		got, ok := schemas.CountyIn(tc.field, tc.value)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CountyIn(%s, %q) = %q, %v; want %q, %v", tc.field, tc.value, got, ok, tc.want, tc.ok)
		}
	}
}
