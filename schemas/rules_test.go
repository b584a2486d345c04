package schemas_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

func TestRuleBook(t *testing.T) {
	cat := schemas.MustLoad()
	rb := cat.Rules()
	for i := 1; i <= 19; i++ {
		id := fmt.Sprintf("R%d", i)
		r, ok := rb.Rule(id)
		if !ok {
			t.Errorf("rule %s missing", id)
			continue
		}
		if r.Clause == "" || r.Title == "" || r.DueDays <= 0 {
			t.Errorf("rule %s lacks clause, title or due days: %+v", id, r)
		}
	}
	if _, ok := cat.Department(rb.Lead); !ok {
		t.Errorf("lead %q is not a department", rb.Lead)
	}
	var p struct {
		Persons int `json:"persons"`
	}
	r1, _ := rb.Rule("R1")
	if err := r1.DecodeParams(&p); err != nil || p.Persons != 800 {
		t.Errorf("R1 params = %+v, %v; want persons 800 (guidance: 800人以上的安置点)", p, err)
	}
}

func TestResponsibilities(t *testing.T) {
	rows := schemas.MustLoad().Responsibilities()
	if got, want := len(rows), 25; got != want {
		t.Fatalf("%d rows, want %d (the annex has 25)", got, want)
	}
	id := regexp.MustCompile(`^RL(0[1-9]|1[0-9]|2[0-5])-[0-9]{1,2}$`)
	date := regexp.MustCompile(`^20[0-9]{2}-[0-9]{2}-[0-9]{2}$`)
	seen := map[string]bool{}
	for i, row := range rows {
		if row.Row != i+1 || len(row.Tasks) == 0 {
			t.Errorf("row %d: number %d, %d tasks", i+1, row.Row, len(row.Tasks))
		}
		for _, task := range row.Tasks {
			if !id.MatchString(task.TaskID) || seen[task.TaskID] {
				t.Errorf("task id %q bad or repeated", task.TaskID)
			}
			seen[task.TaskID] = true
			if task.Target != "long_term" && !date.MatchString(task.Deadline) {
				t.Errorf("%s: target %s without a deadline", task.TaskID, task.Target)
			}
		}
	}
	// Row 4: the lead office completes the list itself in 2020 Q1.
	if got, want := rows[3].Tasks[0].Deadline, "2020-03-31"; got != want {
		t.Errorf("RL04-1 deadline %s, want %s (2020年第一季度完成责任清单)", got, want)
	}
}

func TestPublisherIndex(t *testing.T) {
	cat := schemas.MustLoad()
	seen := map[uint16]bool{}
	check := func(p schemas.Publisher) {
		i := cat.PublisherIndex(p)
		if i == 0 || seen[i] {
			t.Errorf("%s: index %d zero or taken", p, i)
		}
		seen[i] = true
		back, ok := cat.PublisherByIndex(i)
		if !ok || back != p {
			t.Errorf("%s: index %d reads back as %v", p, i, back)
		}
	}
	for _, d := range cat.Departments() {
		check(schemas.Publisher{Dept: d.Code})
	}
	for _, k := range cat.Counties() {
		check(schemas.Publisher{Dept: "county", County: k.Code})
	}
	check(schemas.Publisher{Dept: "hub"})
	if got := cat.PublisherIndex(schemas.Publisher{Dept: "nobody"}); got != 0 {
		t.Errorf("unknown publisher has index %d", got)
	}
}
