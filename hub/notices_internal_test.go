package hub

import (
	"slices"
	"testing"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// TestNoticeRecipients: a notice goes to the responsible units the catalog
// knows, then to the government of the warning's county (not of the city),
// and to the lead office when nobody else is named.
func TestNoticeRecipients(t *testing.T) {
	cat := schemas.MustLoad()
	for _, tc := range []struct {
		responsible []string
		area        string
		want        []string
	}{
		{[]string{"hrss"}, "610424", []string{"hrss", "county/610424"}},
		{[]string{"hrss", "drc", "hrss"}, "610400", []string{"hrss", "drc"}},
		{[]string{"county/610424"}, "610424", []string{"county/610424"}},
		{[]string{"county", "nobody"}, "610400", []string{"drc"}},
		{nil, "999999", []string{"drc"}},
	} {
		if got := recipients(cat, tc.responsible, tc.area); !slices.Equal(got, tc.want) {
			t.Errorf("recipients(%v, %s) = %v, want %v", tc.responsible, tc.area, got, tc.want)
		}
	}
}

// TestWarningPath: a notice points to its entity's page, or to the rule's
// warnings in the area for an entity without one.
func TestWarningPath(t *testing.T) {
	for _, tc := range []struct {
		kind, id, want string
	}{
		{"household", "H610424-000001", "/household/H610424-000001"},
		{"site", "S610424-0001/water", "/site/S610424-0001"},
		{"department", "justice", "/department/justice"},
		{"task", "RL09-4/hrss", "/task/RL09-4"},
		{"person", "ab12", "/warnings?county=610424&rule=R4"},
		{"project", "P610424-G1", "/warnings?county=610424&rule=R4"},
	} {
		w := &view.Warning{Rule: "R4", EntityKind: tc.kind, EntityID: tc.id, Area: "610424"}
		if got := warningPath(w); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.kind, tc.id, got, tc.want)
		}
	}
}
