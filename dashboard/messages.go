package dashboard

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// messages.json is the one message catalog: every label of every page, as
// [Chinese, English].
//
//go:embed messages.json
var messagesJSON []byte

// Languages the pages are written in; the first is the default.
var languages = []string{"zh-CN", "en"}

// messages is the loaded catalog.
type messages map[string][2]string

func loadMessages() (messages, error) {
	var m messages
	if err := json.Unmarshal(messagesJSON, &m); err != nil {
		return nil, fmt.Errorf("dashboard: messages.json: %w", err)
	}
	for k, v := range m {
		if v[0] == "" || v[1] == "" {
			return nil, fmt.Errorf("dashboard: messages.json: %s lacks a language", k)
		}
	}
	return m, nil
}

// Lang is the language of one rendering, with its labels.
type Lang struct {
	idx int
	m   messages
}

// Code is the language's BCP 47 tag (the html element's lang).
func (l Lang) Code() string { return languages[l.idx] }

// Other is the tag of the language the switch goes to.
func (l Lang) Other() string { return languages[1-l.idx] }

// T is the label of key; a key missing from the catalog shows as ‹key›
// (a test renders every page and fails on one).
func (l Lang) T(key string) string {
	v, ok := l.m[key]
	if !ok {
		return "‹" + key + "›"
	}
	return v[l.idx]
}

// Tf is T with {name} placeholders replaced by the given pairs.
func (l Lang) Tf(key string, pairs ...any) string {
	s := l.T(key)
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(pairs[i])+"}", fmt.Sprint(pairs[i+1]))
	}
	return s
}

// langCookie keeps the language a reader chose.
const langCookie = "anzhi_lang"

// langOf is the reader's language: the cookie, else Chinese.
func (s *Server) langOf(r *http.Request) Lang {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		return Lang{idx: 1, m: s.msgs}
	}
	return Lang{idx: 0, m: s.msgs}
}
