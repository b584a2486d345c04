package view

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/xianyang/anzhi/schemas"
)

// structural fields are set by how the view links its entities (indexes,
// map keys, pointers, ids derived from keys), not filled with test values.
var structural = map[string]string{
	"person.hh":       "index of the household, set when linked",
	"person.next":     "next member's index",
	"household.site":  "index of the site",
	"household.first": "index of the first member",
	"site.id":         "the site's key in siteIdx",
	"site.county":     "derived from the site id",
	"site.area":       "pointer to the site's own area (checked as an area)",
	"area.code":       "the area's key",
	"area.name":       "a site's area takes the site's name; counties' and the city's come from the catalog",
	"area.up":         "pointer to the area above",
	"area.childs":     "site ids of a county, rebuilt as sites are indexed",
	"project.id":      "the project's key",
	"project.idx":     "the project's index in projectList",
	"report.id":       "the report's key",
	"dept.code":       "the department's key",
	"warning.key":     "what the warning is about",
	"warning.esc":     "position in the escalation heap, rebuilt on restore",
	"warning.id":      "the warning id's hash, indexed in warnByID",
}

// notDigested are the fields the digest deliberately leaves out (see
// Digest): what depends on how the log was written, or on when the hub
// ticked, rather than on what the facts say.
var notDigested = map[string]string{
	"dept.last":      "intake time",
	"dept.lastClock": "the clock when the department last published: judged through R18's warnings",
	"warning.seq":    "log sequence of the warning.raised event",
	"warning.raised": "when the hub happened to observe the warning",
	"warning.level":  "escalation depends on when the hub ticked",
	"warning.sup":    "supervision state: follows from the reports, which are digested",
	"area.sites":     "the number of sites is also the counter cSites, which is digested",
	"site.contrib":   "the contribution last applied to the site's areas, whose counters are digested",
}

// enums are fields that index a name table: filled and perturbed within
// their values.
var enums = map[string]uint64{
	"warning.level": uint64(len(levelNames)),
	"warning.sup":   uint64(len(supervisionNames)),
}

// leaf is one field of an entity, by its path (e.g. "person.keys[3]").
type leaf struct {
	path string
	v    reflect.Value // addressable and settable
}

// settable makes an unexported field settable (the test is inside the
// package and only ever writes test values).
func settable(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

var timeType = reflect.TypeOf(time.Time{})

// leaves lists every field of v (a struct), recursing into structs,
// arrays and maps of facilities, except the structural ones.
func leaves(path, typ string, v reflect.Value, out *[]leaf) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := typ + "." + f.Name
		p := path + "." + f.Name
		if _, ok := structural[name]; ok {
			continue
		}
		fv := settable(v.Field(i))
		walk(p, name, fv, out)
	}
}

func walk(p, name string, fv reflect.Value, out *[]leaf) {
	switch {
	case fv.Type() == timeType:
		*out = append(*out, leaf{p, fv})
	case fv.Kind() == reflect.Struct:
		typ := name
		if fv.Type().Name() != "" && fv.Type().Name() != "counters" {
			typ = fv.Type().Name()
		}
		leaves(p, typ, fv, out)
	case fv.Kind() == reflect.Array:
		for j := range fv.Len() {
			walk(fmt.Sprintf("%s[%d]", p, j), name, fv.Index(j), out)
		}
	case fv.Kind() == reflect.Map && fv.Type().Elem().Kind() == reflect.Pointer:
		keys := fv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			leaves(p+"["+k.String()+"]", fv.Type().Elem().Elem().Name(), fv.MapIndex(k).Elem(), out)
		}
	default:
		*out = append(*out, leaf{p, fv})
	}
}

// fieldName is a path without indexes: "site.infraReg[2].key" → "site.infraReg.key".
func fieldName(path string) string {
	var b strings.Builder
	depth := 0
	for _, r := range path {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fill gives a leaf a distinct non-zero value.
func fill(l leaf, n int) {
	v := l.v
	if k, ok := enums[short(l.path)]; ok {
		v.SetUint(k - 1)
		return
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Unix(1_600_000_000+int64(n)*3600, 0).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8:
		v.SetUint(uint64(n%200 + 1))
	case reflect.Uint16:
		v.SetUint(uint64(n%20000 + 1))
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(n + 1))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n + 1))
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", n))
	case reflect.Slice:
		v.Set(reflect.ValueOf([]string{fmt.Sprintf("a%d", n), fmt.Sprintf("b%d", n)}))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("R6"), reflect.ValueOf(n+1).Convert(v.Type().Elem()))
		v.Set(m)
	default:
		panic(fmt.Sprintf("%s: cannot fill a %s", l.path, v.Type()))
	}
}

// perturb changes a leaf's value and returns a function putting it back.
func perturb(l leaf) func() {
	v := l.v
	old := reflect.New(v.Type()).Elem()
	old.Set(v)
	if k, ok := enums[short(l.path)]; ok {
		v.SetUint((v.Uint() + 1) % k)
		return func() { v.Set(old) }
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
	case v.Kind() == reflect.Bool:
		v.SetBool(!v.Bool())
	case v.Kind() >= reflect.Uint && v.Kind() <= reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case v.Kind() >= reflect.Int && v.Kind() <= reflect.Int64:
		v.SetInt(v.Int() + 1)
	case v.Kind() == reflect.String:
		v.SetString(v.String() + "x")
	case v.Kind() == reflect.Slice:
		v.Set(reflect.Append(v, reflect.ValueOf("c")))
	case v.Kind() == reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range v.MapKeys() {
			m.SetMapIndex(k, v.MapIndex(k))
		}
		m.SetMapIndex(reflect.ValueOf("R7"), reflect.ValueOf(1).Convert(v.Type().Elem()))
		v.Set(m)
	}
	return func() { v.Set(old) }
}

// entities returns the view's one entity of each kind (as built by
// filledView) with the path prefix its leaves get.
func entities(v *View) []struct {
	path, typ string
	v         reflect.Value
} {
	var out []struct {
		path, typ string
		v         reflect.Value
	}
	add := func(path, typ string, x any) {
		out = append(out, struct {
			path, typ string
			v         reflect.Value
		}{path, typ, reflect.ValueOf(x).Elem()})
	}
	for i := range uint32(v.persons.len()) {
		add(fmt.Sprintf("person%d", i), "person", v.persons.at(i))
	}
	add("household", "household", v.households.at(0))
	add("site", "site", v.sites[0])
	add("site.area", "area", v.sites[0].area)
	add("county", "area", v.counties["610424"])
	add("city", "area", v.city)
	add("dept", "dept", v.depts["hrss"])
	add("project", "project", v.projects["P-1"])
	add("report", "report", v.reports["I-1"])
	for _, w := range v.warnings {
		add("warning", "warning", w)
	}
	return out
}

// filledView is a view with one entity of each kind (two persons of one
// household at one site), every field filled with a distinct value.
func filledView(t *testing.T) (*View, []leaf) {
	t.Helper()
	v, err := New(schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	hk, ok := householdKey("H610424-000001")
	if !ok {
		t.Fatal("household key")
	}
	si := v.siteIndex("S610424-0001")
	hi := v.householdIndex(hk)
	p0, p1 := v.personIndex([32]byte{1}), v.personIndex([32]byte{2})
	s := v.sites[si]
	for _, m := range s.facilityRegisters() {
		m["F-1"] = &facility{}
	}
	v.projectOf("P-1", "610424")
	v.reports["I-1"] = &report{id: "I-1"}
	v.dept("hrss")
	w := &warning{key: wkey{rule: 6, kind: entPerson, idx: p0}, esc: -1, id: 42}
	v.warnings[w.key] = w
	v.warnByID[w.id] = w.key

	var all []leaf
	for _, e := range entities(v) {
		leaves(e.path, e.typ, e.v, &all)
	}
	for i, l := range all {
		fill(l, i)
	}
	// Links, set after the filling.
	h := v.households.at(hi)
	h.site, h.first = si+1, p0+1
	v.persons.at(p0).hh, v.persons.at(p0).next = hi+1, p1+1
	v.persons.at(p1).hh = hi + 1
	return v, all
}

// TestEveryFieldSnapshotAndDigest fills every field of every view entity
// and checks that each survives a snapshot and restore, and that each
// changes the digest unless it is listed in notDigested: a field added to an
// entity and forgotten in the snapshot codec or the digest fails here.
func TestEveryFieldSnapshotAndDigest(t *testing.T) {
	v, all := filledView(t)
	if len(all) < 300 {
		t.Fatalf("only %d fields found", len(all))
	}
	var buf bytes.Buffer
	if err := v.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(v.cat, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var back []leaf
	for _, e := range entities(r) {
		leaves(e.path, e.typ, e.v, &back)
	}
	got := map[string]reflect.Value{}
	for _, l := range back {
		got[l.path] = l.v
	}
	for _, l := range all {
		b, ok := got[l.path]
		switch {
		case !ok:
			t.Errorf("%s: not restored from the snapshot", l.path)
		case l.v.Type() == timeType:
			if !l.v.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
				t.Errorf("%s: %v before the snapshot, %v after", l.path, l.v, b)
			}
		case !reflect.DeepEqual(l.v.Interface(), b.Interface()):
			t.Errorf("%s: %v before the snapshot, %v after: add it to the snapshot codec", l.path, l.v, b)
		}
	}
	if r.Digest() != v.Digest() {
		t.Errorf("restored view's digest differs")
	}

	base := v.Digest()
	seen := map[string]bool{}
	for _, l := range all {
		restore := perturb(l)
		changed := v.Digest() != base
		restore()
		_, excluded := notDigested[short(l.path)]
		seen[short(l.path)] = true
		switch {
		case !changed && !excluded:
			t.Errorf("%s does not reach the digest: add it to Digest, or to notDigested saying why", l.path)
		case changed && excluded:
			t.Errorf("%s is listed in notDigested but changes the digest", l.path)
		}
	}
	for name, why := range notDigested {
		if !seen[name] {
			t.Errorf("notDigested lists %s, which is no field", name)
		}
		if why == "" {
			t.Errorf("notDigested lists %s without saying why", name)
		}
	}
	if v.Digest() != base {
		t.Fatal("perturbing and putting back changed the view")
	}
	types := map[string]reflect.Type{"person": reflect.TypeFor[person](), "household": reflect.TypeFor[household](),
		"site": reflect.TypeFor[site](), "area": reflect.TypeFor[area](), "project": reflect.TypeFor[project](),
		"task": reflect.TypeFor[task](), "report": reflect.TypeFor[report](), "dept": reflect.TypeFor[dept](),
		"warning": reflect.TypeFor[warning]()}
	for name, why := range structural {
		typ, field, _ := strings.Cut(name, ".")
		if _, ok := types[typ].FieldByName(field); !ok || why == "" {
			t.Errorf("structural lists %s (%q), which is no field or says not why", name, why)
		}
	}
}

// short is a leaf's field name for the lists: its entity type and field
// path without indexes ("person0.keys[3]" → "person.keys").
func short(path string) string {
	prefix, rest, _ := strings.Cut(path, ".")
	typ := map[string]string{"person0": "person", "person1": "person", "household": "household", "site": "site",
		"county": "area", "city": "area", "dept": "dept", "project": "project", "task": "task", "report": "report",
		"warning": "warning"}[prefix]
	if strings.HasPrefix(path, "site.area.") {
		typ, rest = "area", strings.TrimPrefix(path, "site.area.")
	}
	return typ + "." + fieldName(rest)
}
