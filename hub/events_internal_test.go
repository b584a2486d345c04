package hub

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestWarningPayloadsMatchSchemas: the typed warning.raised/resolved data
// have exactly the schema's properties, every required one always written,
// in JSON name order (the bytes a map gave before).
func TestWarningPayloadsMatchSchemas(t *testing.T) {
	for _, tc := range []struct {
		family string
		data   any
	}{{"warning.raised", warningRaised{}}, {"warning.resolved", warningResolved{}}} {
		fam, ok := schemas.MustLoad().Family(tc.family)
		if !ok {
			t.Fatalf("no family %s", tc.family)
		}
		var sch struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(fam.Schema, &sch); err != nil {
			t.Fatal(err)
		}
		var names []string
		typ := reflect.TypeOf(tc.data)
		for i := range typ.NumField() {
			name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			names = append(names, name)
			if opts != "" {
				t.Errorf("%s.%s: %q would drop a field", tc.family, name, opts)
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("%s fields %v are not in JSON name order", tc.family, names)
		}
		props := slices.Sorted(func(yield func(string) bool) {
			for k := range sch.Properties {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(names, props) {
			t.Errorf("%s fields %v, schema properties %v", tc.family, names, props)
		}
		for _, r := range sch.Required {
			if !slices.Contains(names, r) {
				t.Errorf("%s lacks required %s", tc.family, r)
			}
		}
	}
}
