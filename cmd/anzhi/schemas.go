package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/schemas"
)

func newSchemasCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "Show the event catalog and the department registry",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for anzhi schemas: list, show or departments", args[0])
			}
			return cmd.Help()
		},
	}
	var listJSON, deptJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the event families: type, owners and title",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return a.schemasList(listJSON) },
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print a JSON array")
	show := &cobra.Command{
		Use:     "show FAMILY|TYPE",
		Short:   "Print the JSON Schema of an event family",
		Example: "  anzhi schemas show edu.enrolment\n  anzhi schemas show " + fact.TypeFor("edu.enrolment"),
		Args:    cobra.ExactArgs(1),
		RunE:    func(_ *cobra.Command, args []string) error { return a.schemasShow(args[0]) },
	}
	depts := &cobra.Command{
		Use:   "departments",
		Short: "List the department registry: code, name, annex row and families",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return a.schemasDepartments(deptJSON) },
	}
	depts.Flags().BoolVar(&deptJSON, "json", false, "print a JSON array")
	cmd.AddCommand(list, show, depts)
	return cmd
}

// familyInfo is one row of anzhi schemas list --json.
type familyInfo struct {
	Family       string   `json:"family"`
	Type         string   `json:"type"`
	SchemaURI    string   `json:"schema_uri"`
	SubjectField string   `json:"subject_field"`
	Owners       []string `json:"owners"`
	Title        string   `json:"title"`
}

func (a *app) schemasList(asJSON bool) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	var rows []familyInfo
	for _, f := range cat.Families() {
		rows = append(rows, familyInfo{
			Family: f.Name, Type: f.Type, SchemaURI: f.SchemaURI, SubjectField: f.SubjectField,
			Owners: f.Owners, Title: strings.TrimPrefix(f.Title, f.Name+" — "),
		})
	}
	if asJSON {
		return writeJSON(a.stdout, rows)
	}
	table := make([][]string, len(rows))
	for i, r := range rows {
		table[i] = []string{r.Family, r.Type, strings.Join(r.Owners, ","), r.Title}
	}
	return writeTable(a.stdout, []string{"FAMILY", "TYPE", "OWNERS", "TITLE"}, table)
}

func (a *app) schemasShow(name string) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	f, err := lookupFamily(cat, name)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, f.Schema, "", "  "); err != nil {
		return fmt.Errorf("schema of %s: %w", f.Name, err)
	}
	out.WriteByte('\n')
	_, err = a.stdout.Write(out.Bytes())
	return err
}

// lookupFamily finds a family by name (edu.enrolment) or type
// (anzhi.edu.enrolment.v1); an unknown name is a usage error naming close
// matches, closest first.
func lookupFamily(cat *schemas.Catalog, name string) (*schemas.Family, error) {
	if f, ok := cat.Family(name); ok {
		return f, nil
	}
	if f, ok := cat.FamilyByType(name); ok {
		return f, nil
	}
	key := strings.TrimSuffix(strings.TrimPrefix(name, fact.TypePrefix), fact.TypeSuffix)
	var near []string
	for _, f := range cat.Families() {
		if similar(key, f.Name) {
			near = append(near, f.Name)
		}
	}
	slices.SortStableFunc(near, func(x, y string) int { return editDistance(key, x) - editDistance(key, y) })
	if len(near) == 0 {
		return nil, usageErrorf("%q is not an event family or type of the catalog; run 'anzhi schemas list' to see all %d", name, len(cat.Families()))
	}
	return nil, usageErrorf("%q is not an event family or type of the catalog; did you mean %s?", name, strings.Join(near, ", "))
}

// similar reports whether a mistyped family name is close to a real one: the
// same domain or event part, one containing the other, or a few typos apart.
func similar(typed, family string) bool {
	typed = strings.ToLower(typed)
	if typed == "" {
		return false
	}
	if strings.Contains(family, typed) || (len(family) > 3 && strings.Contains(typed, family)) {
		return true
	}
	td, te, _ := strings.Cut(typed, ".")
	fd, fe, _ := strings.Cut(family, ".")
	if te != "" && (td == fd || te == fe) {
		return true
	}
	return editDistance(typed, family) <= max(2, len(family)/5)
}

// editDistance is the Levenshtein distance of two strings, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// departmentInfo is one row of anzhi schemas departments --json.
type departmentInfo struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Role     string   `json:"role,omitempty"`
	AnnexRow int      `json:"annex_row,omitempty"`
	Families []string `json:"families"`
}

func (a *app) schemasDepartments(asJSON bool) error {
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	var rows []departmentInfo
	add := func(code string, d schemas.Department) {
		rows = append(rows, departmentInfo{Code: code, Name: d.Name, Role: d.Role, AnnexRow: d.AnnexRow, Families: d.Families})
	}
	for _, d := range cat.Departments() {
		add(d.Code, *d)
	}
	add("county/<code>", cat.CountyGovernment())
	add("hub", cat.Hub())
	if asJSON {
		return writeJSON(a.stdout, rows)
	}
	table := make([][]string, len(rows))
	for i, r := range rows {
		annex := "-"
		if r.AnnexRow > 0 {
			annex = fmt.Sprint(r.AnnexRow)
		}
		table[i] = []string{r.Code, r.Name, annex, strings.Join(r.Families, ",")}
	}
	if err := writeTable(a.stdout, []string{"CODE", "NAME", "ANNEX ROW", "FAMILIES"}, table); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "\nEvery department and county government may also publish: %s\n", strings.Join(anyDeptFamilies(cat), ", "))
	return err
}

// anyDeptFamilies returns the families every department may publish (owner "*").
func anyDeptFamilies(cat *schemas.Catalog) []string {
	var out []string
	for _, f := range cat.Families() {
		if slices.Contains(f.Owners, "*") {
			out = append(out, f.Name)
		}
	}
	return out
}
