package view

import (
	"strings"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestFieldsReadWhatTheSchemaAccepted: every way of writing a value that the
// schema accepts is read as that value — integers written 4.0 or 4e0 (as
// spreadsheet exports do), enum values with escapes, amounts with exponents.
func TestFieldsReadWhatTheSchemaAccepted(t *testing.T) {
	cat := schemas.MustLoad()
	household := func(size, status string) string {
		return `{"household_id":"H610424-000123","site_id":"S610424-0001","size":` + size +
			`,"labour_count":2,"registered_poor":true,"relocated_on":"2019-11-15","status":` + status + `}`
	}
	funds := func(amount string) string {
		return `{"project_id":"P610424-A1","area":"610424","action":"allocated","amount_yuan":` + amount +
			`,"target":"other_area","purpose":"other","fund_source":"county","dated_on":"2021-01-01"}`
	}
	for _, tc := range []struct {
		family, data string
		read         func(f *fields) any
		want         any
	}{
		{"registry.household", household("4", `"moved_away"`), func(f *fields) any { return f.int("size") }, int64(4)},
		{"registry.household", household("4.0", `"moved_away"`), func(f *fields) any { return f.int("size") }, int64(4)},
		{"registry.household", household("4e0", `"moved_away"`), func(f *fields) any { return f.int("size") }, int64(4)},
		{"registry.household", household("40E-1", `"moved_away"`), func(f *fields) any { return f.int("size") }, int64(4)},
		{"registry.household", strings.Replace(household("4", `"moved_away"`), `"size"`, `"siz\u0065"`, 1), func(f *fields) any { return f.int("size") }, int64(4)},
		{"registry.household", household("4", `"moved_away"`), func(f *fields) any { return f.is("status", "moved_away") }, true},
		{"registry.household", household("4", `"moved\u005faway"`), func(f *fields) any { return f.is("status", "moved_away") }, true},
		{"registry.household", household("4", `"moved\u005faway"`), func(f *fields) any { return f.is("status", "moved") }, false},
		{"finance.funds", funds("1500"), func(f *fields) any { return f.fen("amount_yuan") }, int64(150000)},
		{"finance.funds", funds("1500.5"), func(f *fields) any { return f.fen("amount_yuan") }, int64(150050)},
		{"finance.funds", funds("1500.05"), func(f *fields) any { return f.fen("amount_yuan") }, int64(150005)},
		{"finance.funds", funds("1.5e3"), func(f *fields) any { return f.fen("amount_yuan") }, int64(150000)},
		{"finance.funds", funds("15.0005E2"), func(f *fields) any { return f.fen("amount_yuan") }, int64(150005)},
		{"finance.funds", funds("0.1"), func(f *fields) any { return f.fen("amount_yuan") }, int64(10)},
	} {
		fam, ok := cat.Family(tc.family)
		if !ok {
			t.Fatalf("no family %s", tc.family)
		}
		if vs := fam.ValidateJSON([]byte(tc.data)); len(vs) != 0 {
			t.Errorf("the schema refuses %s: %v", tc.data, vs)
			continue
		}
		var f fields
		f.parse([]byte(tc.data))
		if got := tc.read(&f); got != tc.want {
			t.Errorf("%s: read %v, want %v", tc.data, got, tc.want)
		}
	}
}
