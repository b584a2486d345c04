package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/xianyang/anzhi/fact"
)

// This file answers the gate's question "is this the same fact?" when a
// fact's key (source and id) is already in the log: the same fact sent
// again is a duplicate, dropped; a different one is a conflict, refused.

// differsFromStored compares a fact with the accepted one at log sequence
// seq and names what differs ("" when it is the same fact; see
// factDifference). An append not yet confirmed is waited for first.
func (g *gate) differsFromStored(ctx context.Context, w *logWriter, seq uint64, vd *fact.Verdict) (string, error) {
	if g.confirmedLog.Load() < seq {
		if err := w.Flush(ctx); err != nil {
			return "", err
		}
	}
	raw, err := g.logs.GetMsg(ctx, seq)
	if err != nil {
		return "", fmt.Errorf("read accepted fact at log sequence %d: %w", seq, err)
	}
	sub := strings.TrimPrefix(raw.Subject, fact.FactSubjectPrefix)
	prev := g.v.Check(fact.Message{Subject: sub, Header: raw.Header, Data: raw.Data})
	return factDifference(&prev.Event, &vd.Event, sub, vd.Family.Name+"."+vd.Area), nil
}

// factDifference compares the accepted fact a, stored on NATS subject subA
// (family.area, without the log's prefix), with the fact b that arrived on
// subB, and names what differs ("" when it is the same fact). Values are
// compared for what they mean, not how they are written: the same fact sent
// again in the other mode (the CloudEvents SDK writes a time extension in UTC
// in binary mode and with its offset in structured mode), or with 3.0 for 3,
// is the same fact.
func factDifference(a, b *fact.Event, subA, subB string) string {
	switch {
	case a.Source != b.Source || a.ID != b.ID:
		return "the source and id (a different fact whose key collides)"
	case subA != subB:
		return "the NATS subject"
	case a.Type != b.Type:
		return "type"
	case a.Subject != b.Subject:
		return "subject"
	case !a.Time.Equal(b.Time):
		return "time"
	case a.DataSchema != b.DataSchema:
		return "dataschema"
	}
	for _, name := range unionKeys(a.Extensions, b.Extensions) {
		x, okx := a.Extensions[name]
		y, oky := b.Extensions[name]
		if okx != oky || !sameAttribute(x, y) {
			return "extension " + name
		}
	}
	return differentJSON(a.Data, b.Data, "/data")
}

// unionKeys returns the keys of a and b, sorted, each once.
func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// sameAttribute compares two extension values: equal text, or the same
// instant written two ways.
func sameAttribute(x, y string) bool {
	if x == y {
		return true
	}
	tx, errx := time.Parse(time.RFC3339Nano, x)
	ty, erry := time.Parse(time.RFC3339Nano, y)
	return errx == nil && erry == nil && tx.Equal(ty)
}

// differentJSON returns the JSON pointer of the first difference between
// two decoded values, numbers compared by value, or "" when they are equal.
func differentJSON(a, b any, at string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return at
		}
		for _, k := range unionKeys(x, y) {
			if p := differentJSON(x[k], y[k], at+"/"+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return at
		}
		for i := range x {
			if p := differentJSON(x[i], y[i], fmt.Sprintf("%s/%d", at, i)); p != "" {
				return p
			}
		}
		return ""
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return at
		}
		rx, okx := new(big.Rat).SetString(x.String())
		ry, oky := new(big.Rat).SetString(y.String())
		if !okx || !oky || rx.Cmp(ry) != 0 {
			return at
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return at
	}
	return ""
}
