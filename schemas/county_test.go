package schemas_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// countyBearing are the data fields whose value names or embeds a county
// (the identifiers of sites, households and projects, county and area
// codes).
var countyBearing = []string{"site_id", "household_id", "project_id", "county", "area"}

// TestCountyAnnotations: every county-bearing field a family's schema
// declares is either one the county token is derived from and checked
// against (x-anzhi.county) or one allowed to name another county
// (x-anzhi.elsewhere); a family routes by at least one unless it is
// citywide, and a citywide family's county fields are all optional.
func TestCountyAnnotations(t *testing.T) {
	c := schemas.MustLoad()
	b, err := os.ReadFile("catalog/defs.json")
	if err != nil {
		t.Fatal(err)
	}
	var defs struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(b, &defs); err != nil {
		t.Fatal(err)
	}
	type object struct {
		Ref        string                     `json:"$ref"`
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	for _, f := range c.Families() {
		var o object
		if err := json.Unmarshal(f.Schema, &o); err != nil {
			t.Fatal(err)
		}
		if name, ok := strings.CutPrefix(o.Ref, "defs.json#/$defs/"); ok && o.Properties == nil {
			if err := json.Unmarshal(defs.Defs[name], &o); err != nil {
				t.Fatalf("%s: %s: %v", f.Name, o.Ref, err)
			}
		}
		if len(o.Properties) == 0 {
			t.Errorf("%s: no properties found", f.Name)
		}
		for _, field := range countyBearing {
			_, declared := o.Properties[field]
			routed := slices.Contains(f.CountyFields, field)
			switch {
			case declared && !routed && !slices.Contains(f.ElsewhereFields, field):
				t.Errorf("%s: %s names a county but is in neither x-anzhi.county nor x-anzhi.elsewhere", f.Name, field)
			case routed && !declared:
				t.Errorf("%s: x-anzhi.county names %s, which the schema does not declare", f.Name, field)
			case routed && f.Citywide && slices.Contains(o.Required, field):
				t.Errorf("%s: citywide, yet its county field %s is required", f.Name, field)
			}
		}
		if !f.Citywide && !slices.ContainsFunc(f.CountyFields, func(s string) bool { return slices.Contains(o.Required, s) }) {
			t.Errorf("%s: not citywide, yet none of its county fields %v is required: a fact without one could not be routed", f.Name, f.CountyFields)
		}
	}
}
