package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/xianyang/anzhi/view"
)

// cutFlags are anzhi view's --as-of and --effective: a view of a cut of
// the log, which the hub's HTTP API builds (the KV bucket holds only the
// live view).
type cutFlags struct {
	asOf, effective string
}

func (c cutFlags) set() bool { return c.asOf != "" || c.effective != "" }

// query adds the cut to an API query.
func (c cutFlags) query(q url.Values) {
	if c.asOf != "" {
		q.Set("as_of", c.asOf)
	}
	if c.effective != "" {
		q.Set("effective", c.effective)
	}
}

// check refuses, before asking the hub, a value the hub would refuse.
func (c cutFlags) check() error {
	if c.effective != "" {
		if _, err := view.ParseCutTime(c.effective); err != nil {
			return usageErrorf("--effective: %w", err)
		}
	}
	if c.asOf != "" && strings.Trim(c.asOf, "0123456789") != "" {
		if _, err := view.ParseCutTime(c.asOf); err != nil {
			return usageErrorf("--as-of: want a log sequence or %w", err)
		}
	}
	return nil
}

// describe says which cut a view shows.
func (c cutFlags) describe(seq uint64) string {
	var parts []string
	if c.asOf != "" {
		parts = append(parts, "as the hub knew it at "+c.asOf)
	}
	if c.effective != "" {
		parts = append(parts, "facts in effect by "+c.effective)
	}
	if seq > 0 {
		parts = append(parts, fmt.Sprintf("log seq %d", seq))
	}
	return "截至 cut: " + strings.Join(parts, " · ")
}

// apiPath is the HTTP API's path of what anzhi view shows.
func apiPath(kind string, args []string) (string, error) {
	switch kind {
	case "city":
		return "/api/v1/city", nil
	case "digest":
		return "/api/v1/digest", nil
	case "county":
		return "/api/v1/counties/" + url.PathEscape(args[1]), nil
	case "site":
		return "/api/v1/sites/" + url.PathEscape(args[1]), nil
	case "household":
		return "/api/v1/households/" + url.PathEscape(args[1]), nil
	}
	return "", usageErrorf("--as-of and --effective take city, county CODE, site ID, household ID, digest or warnings, not %q", kind)
}

// runViewAt shows a view of a cut of the log, read from the HTTP API.
func (a *app) runViewAt(ctx context.Context, f viewFlags, kind string, args []string) error {
	if err := f.cut.check(); err != nil {
		return err
	}
	path, err := apiPath(kind, args)
	if err != nil {
		return err
	}
	base, err := apiBase(f.apiURL)
	if err != nil {
		return err
	}
	client, err := a.apiClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	f.cut.query(q)
	var raw json.RawMessage
	if err := client.get(ctx, base+path+"?"+q.Encode(), &raw); err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(a, raw)
	}
	cat, err := a.catalog()
	if err != nil {
		return err
	}
	var seq struct {
		Seq uint64 `json:"log_seq"`
	}
	_ = json.Unmarshal(raw, &seq)
	fmt.Fprintln(a.stdout, f.cut.describe(seq.Seq))
	p := &viewPrinter{w: a.stdout, cat: cat}
	switch kind {
	case "city", "county":
		var v view.AreaView
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return p.area(&v)
	case "site":
		var v view.SiteView
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return p.site(&v)
	case "household":
		var v view.HouseholdView
		if err := json.Unmarshal(evidenceKeysAsNumbers(raw), &v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return p.household(&v)
	}
	var d struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = fmt.Fprintf(a.stdout, "视图摘要 view digest  %s\n", d.Digest)
	return err
}

// evidenceKeysAsNumbers rewrites the API's warning evidence keys (hex
// strings, as in its fact references) as the numbers view.Evidence reads.
func evidenceKeysAsNumbers(raw []byte) []byte {
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return raw
	}
	ws, _ := doc["warnings"].([]any)
	for _, w := range ws {
		wm, _ := w.(map[string]any)
		es, _ := wm["evidence"].([]any)
		for _, e := range es {
			if em, ok := e.(map[string]any); ok {
				if k, ok := em["key"].(string); ok {
					n, err := strconv.ParseUint(k, 16, 64)
					if err != nil {
						delete(em, "key")
						continue
					}
					em["key"] = n
				}
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return raw
	}
	return b
}

func printJSON(a *app, raw []byte) error {
	var out strings.Builder
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	out.Write(b)
	out.WriteByte('\n')
	_, err = fmt.Fprint(a.stdout, out.String())
	return err
}
