// Package ledger imports a department's ledger (台账) — an XLSX workbook or a
// CSV file with Chinese headers — into anzhi: each row becomes one fact of an
// event family, published through the publisher library as the department.
//
// A mapping (YAML, built in for the common ledgers or given as a file) says
// which column holds which field of the family and how to read it. Raw
// ID-card numbers are checked (GB 11643) and turned into person keys on this
// machine; they never leave it, not even in the error report. Every bad row
// gets a line in the report while the good rows go through, and fact ids are
// derived from each row's identity, so importing the same ledger twice
// publishes nothing new.
package ledger

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/xianyang/anzhi/schemas"
)

//go:embed mappings/*.yaml
var builtinFS embed.FS

// Cell types of a mapping column.
const (
	TypeString = "string"
	TypeDate   = "date"
	TypeInt    = "int"
	TypeYear   = "year" // a year, or a date of which the year is taken
	TypeAmount = "amount"
	TypeBool   = "bool"
	TypeEnum   = "enum"
)

// Column roles.
const (
	// RoleField (the default) publishes the cell as a field of the fact.
	RoleField = "field"
	// RoleIDNumber marks the person's ID-card number column: it is checked
	// and published only as the person key (field person_key by default).
	RoleIDNumber = "id_number"
	// RoleTime marks a date column that is the fact's effective time
	// without being a field of the family (e.g. 登记日期).
	RoleTime = "time"
	// RoleIgnore marks a column that is read but never published (姓名).
	RoleIgnore = "ignore"
)

// Errors of mappings and keys.
var (
	ErrMapping = errors.New("invalid ledger mapping")
	ErrNoKey   = errors.New("no person key: set ANZHI_PERSON_KEY (hex or raw, at least 16 bytes) or pass --key-file (anzhi keys new -o person.key makes one)")
)

// Mapping says how the columns of a ledger become the fields of one family.
type Mapping struct {
	// Family is the event family of every row, e.g. hr.employment.
	Family string `yaml:"family"`
	// Department is the department that keeps this ledger (informational:
	// the importer publishes as the department it is given).
	Department string `yaml:"department,omitempty"`
	// Title names the ledger, e.g. 就业台账.
	Title string `yaml:"title,omitempty"`
	// Time lists the fields whose value is the fact's effective time, the
	// first present one winning; a column with role time comes first. An
	// integer field (a year) means 1 January of that year.
	Time []string `yaml:"time"`
	// IDFrom names the columns (by their first header) whose values
	// identify a row: the fact id is derived from them, the family and the
	// department, so a re-import repeats the same ids.
	IDFrom []string `yaml:"id_from"`
	// Columns of the ledger.
	Columns []Column `yaml:"columns"`
	// Defaults are fields set on every row when no column gives them.
	Defaults map[string]any `yaml:"defaults,omitempty"`
}

// Column is one column of a ledger.
type Column struct {
	// Header is the header text and its aliases; the first is the column's
	// name in reports.
	Header Strings `yaml:"header"`
	// Field is the family's field the cell goes to (person_key for an
	// id_number column by default).
	Field string `yaml:"field,omitempty"`
	// Role is field (default), id_number, time or ignore.
	Role string `yaml:"role,omitempty"`
	// Type is string (default), date, int, year, amount, bool or enum.
	Type string `yaml:"type,omitempty"`
	// Values maps the ledger's labels to the values of an enum (or a bool:
	// labels to true/false); an enum also accepts its values themselves.
	Values map[string]any `yaml:"values,omitempty"`
	// Required makes an empty cell a row error.
	Required bool `yaml:"required,omitempty"`
}

// Strings is a YAML string or list of strings.
type Strings []string

// UnmarshalYAML accepts a scalar or a sequence.
func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Strings{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// Name is the column's name in reports: its first header.
func (c *Column) Name() string {
	if len(c.Header) == 0 {
		return ""
	}
	return c.Header[0]
}

// nameHeaders are headers of columns holding the name of a person; such a
// column may only be ignored.
var nameHeaders = []string{"姓名", "名字", "户主姓名", "户主", "学生姓名", "参保人姓名", "权利人", "权利人姓名",
	"联系人", "监护人", "监护人姓名", "家长姓名", "申请人", "申请人姓名", "被保险人", "name"}

// isNameHeader reports whether a header names a person's name column.
func isNameHeader(h string) bool {
	h = normHeader(h)
	for _, n := range nameHeaders {
		if h == normHeader(n) {
			return true
		}
	}
	return false
}

// ParseMapping reads a mapping from YAML and checks it against the catalog.
func ParseMapping(b []byte, cat *schemas.Catalog) (*Mapping, error) {
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMapping, err)
	}
	if err := m.check(cat); err != nil {
		return nil, err
	}
	return &m, nil
}

// LoadMapping reads a mapping file.
func LoadMapping(file string, cat *schemas.Catalog) (*Mapping, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	m, err := ParseMapping(b, cat)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", file, err)
	}
	return m, nil
}

// Builtin returns the built-in mapping of a family, if there is one.
func Builtin(family string, cat *schemas.Catalog) (*Mapping, error) {
	b, err := builtinFS.ReadFile(path.Join("mappings", family+".yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no built-in mapping for %s (built in: %s); pass --mapping",
			ErrMapping, family, strings.Join(BuiltinFamilies(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("built-in mapping %s: %w", family, err)
	}
	m, err := ParseMapping(b, cat)
	if err != nil {
		return nil, fmt.Errorf("built-in mapping %s: %w", family, err)
	}
	return m, nil
}

// BuiltinFamilies lists the families with a built-in mapping, sorted.
func BuiltinFamilies() []string {
	entries, _ := builtinFS.ReadDir("mappings")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(out)
	return out
}

// BuiltinYAML returns the text of a built-in mapping (a starting point for
// a mapping file of one's own).
func BuiltinYAML(family string) ([]byte, error) {
	return builtinFS.ReadFile(path.Join("mappings", family+".yaml"))
}

// check validates a mapping against the family's schema.
func (m *Mapping) check(cat *schemas.Catalog) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMapping, fmt.Sprintf(format, args...))
	}
	fam, ok := cat.Family(m.Family)
	if !ok {
		return bad("family %q is not in the catalog", m.Family)
	}
	props := schemaProperties(fam)
	if len(m.Columns) == 0 {
		return bad("no columns")
	}
	seenHeader := map[string]string{}
	seenField := map[string]string{}
	hasTimeCol := false
	for i := range m.Columns {
		c := &m.Columns[i]
		if len(c.Header) == 0 || strings.TrimSpace(c.Header[0]) == "" {
			return bad("column %d has no header", i+1)
		}
		for _, h := range c.Header {
			k := normHeader(h)
			if prev, dup := seenHeader[k]; dup {
				return bad("header %q is given for columns %s and %s", h, prev, c.Name())
			}
			seenHeader[k] = c.Name()
		}
		if c.Role == "" {
			c.Role = RoleField
		}
		if c.Type == "" {
			c.Type = TypeString
		}
		switch c.Role {
		case RoleIgnore:
			continue
		case RoleIDNumber:
			if c.Field == "" {
				c.Field = "person_key"
			}
			if c.Type != TypeString {
				return bad("column %s: an id_number column is read as text", c.Name())
			}
		case RoleTime:
			if c.Type != TypeDate || c.Field != "" {
				return bad("column %s: a time column is a date and has no field", c.Name())
			}
			hasTimeCol = true
			continue
		case RoleField:
		default:
			return bad("column %s: role %q is not field, id_number, time or ignore", c.Name(), c.Role)
		}
		for _, h := range c.Header {
			if isNameHeader(h) {
				return bad("column %s holds names of persons: names are never published; give it role: ignore", c.Name())
			}
		}
		if c.Field == "" {
			return bad("column %s: field is missing (or give it role: ignore)", c.Name())
		}
		if props != nil && !props[c.Field] {
			return bad("column %s: %s has no field %q", c.Name(), m.Family, c.Field)
		}
		if prev, dup := seenField[c.Field]; dup {
			return bad("field %s is given by columns %s and %s", c.Field, prev, c.Name())
		}
		seenField[c.Field] = c.Name()
		switch c.Type {
		case TypeString, TypeDate, TypeInt, TypeYear, TypeAmount:
			if len(c.Values) > 0 {
				return bad("column %s: values are only for enum and bool columns", c.Name())
			}
		case TypeBool:
			for label, v := range c.Values {
				if _, ok := v.(bool); !ok {
					return bad("column %s: bool label %q must map to true or false", c.Name(), label)
				}
			}
		case TypeEnum:
			if len(c.Values) == 0 {
				return bad("column %s: an enum needs values (label: value)", c.Name())
			}
		default:
			return bad("column %s: type %q is not string, date, int, year, amount, bool or enum", c.Name(), c.Type)
		}
	}
	for f := range m.Defaults {
		if props != nil && !props[f] {
			return bad("default %s: %s has no such field", f, m.Family)
		}
	}
	if len(m.Time) == 0 && !hasTimeCol {
		return bad("time: name the field(s) giving the fact's effective time, or a column with role time")
	}
	for _, f := range m.Time {
		if props != nil && !props[f] {
			return bad("time: %s has no field %q", m.Family, f)
		}
	}
	if len(m.IDFrom) == 0 {
		return bad("id_from: name the columns that identify a row")
	}
	for _, h := range m.IDFrom {
		c := m.column(h)
		if c == nil {
			return bad("id_from: no column %q", h)
		}
		if c.Role == RoleIgnore {
			return bad("id_from: column %s is ignored", h)
		}
	}
	return nil
}

// column returns the column with a header (or alias) h.
func (m *Mapping) column(h string) *Column {
	k := normHeader(h)
	for i := range m.Columns {
		for _, x := range m.Columns[i].Header {
			if normHeader(x) == k {
				return &m.Columns[i]
			}
		}
	}
	return nil
}

// columnOfField returns the column publishing a field, or nil.
func (m *Mapping) columnOfField(field string) *Column {
	for i := range m.Columns {
		c := &m.Columns[i]
		if c.Role != RoleIgnore && c.Role != RoleTime && c.Field == field {
			return c
		}
	}
	return nil
}

// schemaProperties returns the property names of a family's schema, or nil
// when the schema is only a reference to a shared definition.
func schemaProperties(f *schemas.Family) map[string]bool {
	var doc struct {
		Properties map[string]any `json:"properties"`
	}
	if json.Unmarshal(f.Schema, &doc) != nil || doc.Properties == nil {
		return nil // a schema by reference: the batch's validation checks the fields
	}
	out := map[string]bool{}
	for k := range doc.Properties {
		out[k] = true
	}
	return out
}

// normHeader normalises a header for matching: no spaces or line breaks,
// full-width brackets as ASCII, no required-marks (*), case-folded.
func normHeader(h string) string {
	r := strings.NewReplacer("(", "(", ")", ")", " ", "", "\u3000", "", "\n", "", "\r", "", "\t", "", "*", "", "*", "", ":", "", ":", "")
	return strings.ToLower(r.Replace(strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")))
}
