package scenario

import (
	"encoding/json"
	"fmt"

	"github.com/xianyang/anzhi/fact"
	"github.com/xianyang/anzhi/publishers"
	"github.com/xianyang/anzhi/schemas"
)

// Entries turns items into the log entries the hub would write for them,
// without a server: the same id, source, subject and county the publisher
// library derives, recorded when they took effect. It is for tests of the
// view alone.
func Entries(cat *schemas.Catalog, items []Item) ([]fact.Entry, error) {
	out := make([]fact.Entry, 0, len(items))
	for _, it := range items {
		fam, ok := cat.Family(it.Fact.Family)
		if !ok {
			return nil, fmt.Errorf("scenario: family %q is not in the catalog", it.Fact.Family)
		}
		data, err := json.Marshal(it.Fact.Data)
		if raw, ok := it.Fact.Data.(json.RawMessage); ok {
			data, err = raw, nil
		}
		if err != nil {
			return nil, fmt.Errorf("scenario: %s: %w", it.Fact.Family, err)
		}
		obj := it.Data()
		subject := it.Fact.Subject
		if subject == "" {
			subject, _ = obj[fam.SubjectField].(string)
		}
		county := it.Fact.County
		if county == "" {
			pub, err := cat.ParsePublisher(it.Dept)
			if err != nil {
				return nil, fmt.Errorf("scenario: %s: %w", it.Fact.Family, err)
			}
			if county, err = cat.CountyOf(fam, pub, obj); err != nil {
				return nil, fmt.Errorf("scenario: %s: %w", it.Fact.Family, err)
			}
		}
		id := it.Fact.ID
		if id == "" {
			id = publishers.DeriveID(fam.Name, subject, it.Fact.Time, data)
		}
		out = append(out, fact.Entry{Family: fam.Name, Area: county, Source: schemas.SourcePrefix + it.Dept, ID: id,
			Subject: subject, Time: it.Fact.Time, Recorded: it.Fact.Time, Data: data})
	}
	return out, nil
}
