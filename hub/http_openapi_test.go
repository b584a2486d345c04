package hub_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/xianyang/anzhi/hub"
)

// TestHTTPOpenAPI checks the OpenAPI file: valid JSON, OpenAPI 3.1, every
// route the mux serves described with its parameters, every described path
// served, every schema reference defined; and served as embedded.
func TestHTTPOpenAPI(t *testing.T) {
	h, _, _, base := httpHub(t)
	r := do(t, http.MethodGet, base+"/api/v1/openapi.json")
	if r.code != http.StatusOK || string(r.body) != string(hub.OpenAPI()) {
		t.Fatalf("openapi.json: %d, %d bytes, not the embedded file", r.code, len(r.body))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas    map[string]json.RawMessage `json:"schemas"`
			Parameters map[string]json.RawMessage `json:"parameters"`
			Responses  map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
	}
	type param struct {
		Ref      string `json:"$ref"`
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	}
	resolveParam := func(p param) param {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			var q param
			if err := json.Unmarshal(doc.Components.Parameters[name], &q); err != nil {
				t.Errorf("parameter %s: %v", p.Ref, err)
			}
			return q
		}
		return p
	}
	type operation struct {
		OperationID string                     `json:"operationId"`
		Summary     string                     `json:"summary"`
		Parameters  []param                    `json:"parameters"`
		Responses   map[string]json.RawMessage `json:"responses"`
	}
	pathParam := regexp.MustCompile(`\{(\w+)(\.\.\.)?\}`)
	// Every route is described, with its path and query parameters.
	for _, rt := range hub.Routes(h) {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		oaPath := pathParam.ReplaceAllString(path, "{$1}")
		ops, ok := doc.Paths[oaPath]
		if !ok {
			t.Errorf("route %s: no path %s in openapi.json", rt.Pattern, oaPath)
			continue
		}
		raw, ok := ops[strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s: no %s operation", rt.Pattern, method)
			continue
		}
		var op operation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Errorf("%s: %v", rt.Pattern, err)
			continue
		}
		if op.OperationID == "" || op.Summary == "" {
			t.Errorf("%s: operationId %q, summary %q", rt.Pattern, op.OperationID, op.Summary)
		}
		var gotQuery, gotPath []string
		for _, p := range op.Parameters {
			p = resolveParam(p)
			switch p.In {
			case "query":
				gotQuery = append(gotQuery, p.Name)
			case "path":
				gotPath = append(gotPath, p.Name)
				if !p.Required {
					t.Errorf("%s: path parameter %s not required", rt.Pattern, p.Name)
				}
			}
		}
		var wantPath []string
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			wantPath = append(wantPath, m[1])
		}
		slices.Sort(gotQuery)
		slices.Sort(gotPath)
		slices.Sort(wantPath)
		wantQuery := slices.Sorted(slices.Values(rt.Query))
		if !slices.Equal(gotQuery, wantQuery) || !slices.Equal(gotPath, wantPath) {
			t.Errorf("%s: parameters query %v path %v, the route takes query %v path %v", rt.Pattern, gotQuery, gotPath, wantQuery, wantPath)
		}
		if _, ok := op.Responses["200"]; !ok {
			t.Errorf("%s: no 200 response", rt.Pattern)
		}
		if strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/openapi.json" {
			for _, code := range []string{"400", "405"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s: no %s response", rt.Pattern, code)
				}
			}
			if strings.Contains(path, "{") {
				if _, ok := op.Responses["404"]; !ok {
					t.Errorf("%s: no 404 response", rt.Pattern)
				}
			}
		}
	}
	// Every described path is served (with sample path parameters).
	for p, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			sample := pathParam.ReplaceAllString(p, "x")
			if strings.HasPrefix(p, "/api/v1/departments/county/") {
				sample = "/api/v1/departments/county/610424"
			}
			if got := hub.MatchRoute(h, strings.ToUpper(method), sample); got == "" {
				t.Errorf("openapi.json describes %s %s, which no route serves", method, p)
			}
		}
	}
	// Every reference is defined.
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/(\w+)/(\w+)"`)
	for _, m := range refs.FindAllStringSubmatch(string(r.body), -1) {
		var ok bool
		switch m[1] {
		case "schemas":
			_, ok = doc.Components.Schemas[m[2]]
		case "parameters":
			_, ok = doc.Components.Parameters[m[2]]
		case "responses":
			_, ok = doc.Components.Responses[m[2]]
		}
		if !ok {
			t.Errorf("reference %s/%s is not defined", m[1], m[2])
		}
	}
}

var (
	openAPIOnce    sync.Once
	openAPISchemas *jsonschema.Compiler
	openAPIDoc     map[string]any
	openAPIErr     error
)

// conforms checks a response body against a schema of openapi.json's
// components (OpenAPI 3.1 schemas are JSON Schema 2020-12), and that every
// property of the body's top-level object is documented.
func conforms(t *testing.T, what, schema string, body []byte) {
	t.Helper()
	const base = "https://anzhi.invalid/openapi.json"
	openAPIOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(hub.OpenAPI())))
		if err != nil {
			openAPIErr = err
			return
		}
		openAPIDoc, _ = doc.(map[string]any)
		openAPISchemas = jsonschema.NewCompiler()
		openAPIErr = openAPISchemas.AddResource(base, doc)
	})
	if openAPIErr != nil {
		t.Fatal(openAPIErr)
	}
	sch, err := openAPISchemas.Compile(base + "#/components/schemas/" + schema)
	if err != nil {
		t.Fatalf("schema %s: %v", schema, err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s does not conform to %s: %v", what, schema, err)
	}
	props := openAPIDoc["components"].(map[string]any)["schemas"].(map[string]any)[schema].(map[string]any)["properties"].(map[string]any)
	obj, _ := v.(map[string]any)
	for k := range obj {
		if _, ok := props[k]; !ok {
			t.Errorf("%s: property %s is not documented in openapi.json's %s", what, k, schema)
		}
	}
}
