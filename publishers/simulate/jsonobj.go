package simulate

import (
	"encoding/json"
	"strconv"
	"time"
)

// obj appends a JSON object field by field, in the order given: the
// simulator's data is deterministic byte for byte and costs no reflection.
type obj struct {
	b []byte
}

func newObj() *obj { return &obj{b: append(make([]byte, 0, 256), '{')} }

func (o *obj) key(k string) {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = strconv.AppendQuote(o.b, k)
	o.b = append(o.b, ':')
}

// str adds a string field.
func (o *obj) str(k, v string) *obj {
	o.key(k)
	b, _ := json.Marshal(v)
	o.b = append(o.b, b...)
	return o
}

func (o *obj) int(k string, v int) *obj {
	o.key(k)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
	return o
}

// yuan adds an amount with two decimals.
func (o *obj) yuan(k string, v float64) *obj {
	o.key(k)
	o.b = strconv.AppendFloat(o.b, float64(int64(v*100+0.5))/100, 'f', 2, 64)
	return o
}

// num adds a number with at most two decimals (areas, percents).
func (o *obj) num(k string, v float64) *obj {
	o.key(k)
	o.b = strconv.AppendFloat(o.b, float64(int64(v*100+0.5))/100, 'f', -1, 64)
	return o
}

func (o *obj) bool(k string, v bool) *obj {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
	return o
}

func (o *obj) date(k string, t time.Time) *obj {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = t.AppendFormat(o.b, time.DateOnly)
	o.b = append(o.b, '"')
	return o
}

func (o *obj) strs(k string, vs []string) *obj {
	o.key(k)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		b, _ := json.Marshal(v)
		o.b = append(o.b, b...)
	}
	o.b = append(o.b, ']')
	return o
}

// objs adds a list of objects, each already encoded.
func (o *obj) objs(k string, vs []json.RawMessage) *obj {
	o.key(k)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, v...)
	}
	o.b = append(o.b, ']')
	return o
}

// done closes the object.
func (o *obj) done() json.RawMessage { return append(o.b, '}') }
