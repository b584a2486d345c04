package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/view"
)

// funcs are the templates' helpers: formatting only, no words (those come
// from the message catalog through .L.T).
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"pct": func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" },
		"num": func(n any) string {
			switch x := n.(type) {
			case int:
				return view.Thousands(int64(x))
			case int64:
				return view.Thousands(x)
			case *int:
				if x == nil {
					return "-"
				}
				return view.Thousands(int64(*x))
			}
			return fmt.Sprint(n)
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"yuan": func(fen int64) string {
			return view.Thousands(fen / 100)
		},
		"date": view.ShowDate,
		"time": view.ShowTime,
		"countyName": func(code string) string {
			if code == s.cat.City.Code {
				return s.cat.City.Name
			}
			if k, ok := s.cat.County(code); ok {
				return k.Name
			}
			return code
		},
		"ruleTitle": func(id string) string {
			if r, ok := s.cat.Rules().Rule(id); ok {
				return r.Title
			}
			return ""
		},
		"isCounty":  func(code string) bool { _, ok := s.cat.County(code); return ok },
		"rate":      func(m map[string]float64, k string) float64 { return m[k] },
		"count":     func(m map[string]int64, k string) int64 { return m[k] },
		"past":      func(t, now time.Time) bool { return !t.IsZero() && !now.IsZero() && t.Before(now) },
		"entityURL": entityURL,
		// reportQuarter is the current quarter in China Standard Time, the
		// quarter whose report (to date) the pages link to.
		"reportQuarter": func() string { return view.QuarterOf(time.Now().In(view.ChinaTime())) },
		"str":           func(v any) string { return fmt.Sprint(v) },
	}
}

// EntityPath is the dashboard page of a warning's entity (kind and id as
// view.Warning names them; "" when it has none): the path a notice points
// its unit to.
func EntityPath(kind, id string) string { return entityURL(kind, id) }

// entityURL is the page of a warning's entity ("" when it has none).
func entityURL(kind, id string) string {
	switch kind {
	case "household":
		return "/household/" + id
	case "site":
		site, _, _ := strings.Cut(id, "/")
		return "/site/" + site
	case "department":
		return "/department/" + id
	case "task":
		task, _, _ := strings.Cut(id, "/") // RL09-4/hrss
		return "/task/" + task
	case "city":
		return "/meetings" // R16: 610400/2021Q2
	case "county":
		county, _, _ := strings.Cut(id, "/") // R19: 610424/2021
		return "/assessment?county=" + county
	}
	return ""
}
