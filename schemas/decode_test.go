package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in      string
		withErr bool
	}{
		{`{"a":1,"b":[true,false,null,"x",-1.5e3,0],"c":{"d":"\u00e9\n\"\\\/"}}`, false},
		{`  "中文\ud83d\ude00"  `, false},
		{`"\ud800x"`, true},      // lone surrogate: encoding/json reads U+FFFD, other readers differ
		{`"\udc00\ud800"`, true}, // halves in the wrong order
		{`"\ud800\u0041"`, true}, // a high half followed by no low half
		{`[]`, false},
		{`{}`, false},
		{`0`, false},
		{`-0.0e+1`, false},
		{`{"a":1,"a":2}`, true},
		{`{"a":1,}`, true},
		{`[1,]`, true},
		{`01`, true},
		{`1.`, true},
		{`.5`, true},
		{`1e`, true},
		{`"a` + "\x01" + `"`, true},
		{"\"\xff\"", true},
		{`"\x"`, true},
		{`"\u12"`, true},
		{`tru`, true},
		{`{"a" 1}`, true},
		{`{1:2}`, true},
		{`[1] [2]`, true},
		{``, true},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), true},
		{strings.Repeat("[", 64) + strings.Repeat("]", 64), false},
	} {
		got, err := schemas.Decode([]byte(tc.in))
		if tc.withErr {
			if err == nil {
				t.Errorf("Decode(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Decode(%q): %v", tc.in, err)
			continue
		}
		want, err := stdDecode([]byte(tc.in))
		if err != nil {
			t.Fatalf("encoding/json refuses %q: %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, want)
		}
	}
	if _, err := schemas.Decode([]byte(`{"k":1,"k":1}`)); !errors.Is(err, schemas.ErrDuplicateKey) {
		t.Errorf("duplicate key error %v does not match ErrDuplicateKey", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `"\u00e9"`, `-1.5e-3`, `[null,true]`, `{"a":1,"a":2}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := schemas.Decode(b)
		want, werr := stdDecode(b)
		if err == nil && werr != nil {
			t.Fatalf("Decode accepted %q that encoding/json refuses: %v", b, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %#v, encoding/json %#v", b, got, want)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	ev := []byte(`{"specversion":"1.0","id":"edu-1","source":"/xianyang/edu","type":"anzhi.edu.enrolment.v1","subject":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","time":"2020-09-01T00:00:00Z","datacontenttype":"application/json","dataschema":"https://anzhi.xianyang.gov.cn/schemas/v1/edu.enrolment.json","data":{"person_key":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","household_id":"H610424-000123","action":"enrolled","school_id":"SC610424-001","level":"primary","grade":3,"effective_on":"2020-09-01","near_home":true}}`)
	b.Run("anzhi", func(b *testing.B) {
		b.SetBytes(int64(len(ev)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := schemas.Decode(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(ev)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdDecode(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
