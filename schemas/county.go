package schemas

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoCounty means a fact's data names no county while its family is not
// citywide (x-anzhi.citywide): there is no county token to publish it on.
var ErrNoCounty = errors.New("the county cannot be derived from the data")

// CountyOfID returns the county code an entity identifier embeds after its
// one-letter prefix (S610424-0001, H610424-000123, P610424-…); ok is false
// when the identifier is too short to hold one.
func CountyOfID(id string) (code string, ok bool) {
	if len(id) < 7 {
		return "", false
	}
	return id[1:7], true
}

// CountyIn returns the county code the value of a county field names: an
// identifier field (its name ends in _id) embeds it (see CountyOfID); any
// other county field (county, area) holds the code itself. ok is false when
// the value cannot hold a county.
func CountyIn(field, value string) (code string, ok bool) {
	if strings.HasSuffix(field, "_id") {
		return CountyOfID(value)
	}
	return value, true
}

// CountyOf derives the county token of the NATS subject of a fact of family
// f published by p, from its data (a decoded JSON object; only the family's
// CountyFields are read): the county of the first county field present. When
// the data names none, a citywide family's fact goes on the city's token, or
// on its own county's for a county government; any other family's gives an
// error wrapping ErrNoCounty that names the fields looked for. The hub
// checks every county field present against the token (see Family
// CountyFields), so a fact routed here is never refused for its county.
func (c *Catalog) CountyOf(f *Family, p Publisher, data map[string]any) (string, error) {
	for _, field := range f.CountyFields {
		s, _ := data[field].(string)
		if code, ok := CountyIn(field, s); ok && code != "" {
			return code, nil
		}
	}
	if f.Citywide {
		if p.Dept == "county" {
			return p.County, nil
		}
		return c.City.Code, nil
	}
	return "", fmt.Errorf("%w: %s names its county in %s, and the data has none",
		ErrNoCounty, f.Name, strings.Join(f.CountyFields, " or "))
}

// checkCountyFields checks a schema's county annotations: the fields it
// routes by, none of them also elsewhere, and at least one unless the
// family is citywide.
func checkCountyFields(county, elsewhere []string, citywide bool) error {
	if len(county) == 0 && !citywide {
		return errors.New("county (the data fields naming the fact's county) is missing and the family is not citywide")
	}
	for i, f := range county {
		if slices.Contains(elsewhere, f) {
			return fmt.Errorf("county field %s is also elsewhere: a field either names the fact's county or may name another", f)
		}
		if slices.Contains(county[:i], f) {
			return fmt.Errorf("county field %s is listed twice", f)
		}
	}
	return nil
}
