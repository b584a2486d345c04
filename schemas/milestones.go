package schemas

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Targets a milestone asks a task to reach.
const (
	TargetComplete            = "complete"             // 完成, …目标实现, 实现…目标
	TargetBasicallyComplete   = "basically_complete"   // 基本完成
	TargetSignificantProgress = "significant_progress" // 取得显著成效
	TargetLongTerm            = "long_term"            // 长期坚持, 长期推进: no date
)

// ErrDeadline is wrapped by the errors of ParseDeadlines: a phrase of a
// deadline text (完成时限) it cannot read.
var ErrDeadline = errors.New("deadline phrase not understood")

// Milestone is what a task must reach by a date: one stage of its deadline
// (2020年底前取得显著成效, then 2025年前基本完成).
type Milestone struct {
	Date   string `json:"date,omitempty"` // YYYY-MM-DD; "" for none (long-term)
	Target string `json:"target"`         // complete, basically_complete, significant_progress, long_term
}

// String returns the milestone as "2020-12-31 complete", or the target
// alone when it has no date.
func (m Milestone) String() string {
	if m.Date == "" {
		return m.Target
	}
	return m.Date + " " + m.Target
}

// Milestones returns the task's milestones from its typed fields: the
// deadline and its target, then the final deadline and its target.
func (t ResponsibilityTask) Milestones() []Milestone {
	var ms []Milestone
	if t.Deadline != "" || t.Target != "" {
		ms = append(ms, Milestone{Date: t.Deadline, Target: t.Target})
	}
	if t.FinalDeadline != "" || t.FinalTarget != "" {
		ms = append(ms, Milestone{Date: t.FinalDeadline, Target: t.FinalTarget})
	}
	return ms
}

var (
	// prefixRe is a phrase's "任务1、7" naming the tasks it is about.
	prefixRe = regexp.MustCompile(`^任务([0-9]+(?:、[0-9]+)*)`)
	// dateRe is a phrase's date: 2020年底前, 2025年前, 2025年, 2020年第一季度,
	// after what the phrase is about (易地扶贫搬迁后续扶持工作任务在…).
	dateRe = regexp.MustCompile(`^(.*?)([0-9]{4})年(底前|底|前|第([一二三四])季度)?(.*)$`)
)

// ParseDeadlines reads a responsibility-list row's deadline text (完成时限
// as the annex writes it) into milestones per task number. The text is
// sentences (。;) of phrases (,): a phrase is a date (2020年底前, 2020年底,
// 2025年前 and 2025年 are the year's last day, 2020年第一季度 the quarter's)
// and a target (完成, 基本完成, 取得显著成效; 长期坚持 and 长期推进 have no date;
// …目标实现 and 实现…目标 are complete), either in one phrase or the date in
// one and the target in the next ("2020年底前,确保…目标实现"). A prefix
// "任务1、7" names the tasks the phrase is about, and the later phrases of
// the sentence continue them ("任务3在2020年底前取得显著成效,2025年前基本完成");
// so does a deliverable the phrase completes in place of naming its task
// (row 4's "第一季度完成责任清单" is its task 1). Phrases naming no task apply
// to every task the text does not name. A task the text does not mention
// has no milestones (its key is present, with none). Errors wrap ErrDeadline
// and name the phrase.
func ParseDeadlines(text string, taskNos []int) (map[int][]Milestone, error) {
	type claim struct {
		tasks  []int // nil: every task the text does not name
		m      Milestone
		phrase string
	}
	fail := func(phrase, why string) error {
		return fmt.Errorf("%w: %q (in %q) %s", ErrDeadline, phrase, text, why)
	}
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%w: the deadline text is empty", ErrDeadline)
	}
	var claims []claim
	named := map[int]bool{}
	for _, sentence := range splitOutsideQuotes(text, "。;;") {
		var scope []int
		pending, pendingPhrase := "", "" // a date waiting for its target
		for _, phrase := range splitOutsideQuotes(sentence, ",,") {
			rest := phrase
			// The tasks the phrase names.
			if m := prefixRe.FindStringSubmatch(rest); m != nil {
				scope = nil
				for _, s := range strings.Split(m[1], "、") {
					n, _ := strconv.Atoi(s)
					if !slices.Contains(taskNos, n) {
						return nil, fail(phrase, fmt.Sprintf("names task %d, which the row does not have", n))
					}
					if !slices.Contains(scope, n) {
						scope = append(scope, n)
					}
					named[n] = true
				}
				rest = rest[len(m[0]):]
			}
			// Its date, after what it is about.
			date := ""
			if m := dateRe.FindStringSubmatch(rest); m != nil {
				if about := m[1]; about != "" && (!strings.HasSuffix(about, "在") || strings.ContainsAny(about, "0123456789")) {
					return nil, fail(phrase, fmt.Sprintf("has %q before its date", about))
				}
				date = deadlineDate(m[2], m[4])
				rest = m[5]
			}
			if date != "" && pending != "" {
				return nil, fail(pendingPhrase, "has a date and no target")
			}
			if rest == "" {
				if date == "" {
					return nil, fail(phrase, "has neither a date nor a target")
				}
				pending, pendingPhrase = date, phrase
				continue
			}
			if date == "" {
				date, pending = pending, ""
			}
			// Its target.
			target, n, ok := deadlineTarget(rest)
			switch {
			case !ok:
				return nil, fail(phrase, fmt.Sprintf("has %q, which is no target (完成, 基本完成, 取得显著成效, 长期坚持, 长期推进, …目标实现, 实现…目标)", rest))
			case target == TargetLongTerm && date != "":
				return nil, fail(phrase, "is long-term (长期) and has a date")
			case target != TargetLongTerm && date == "":
				return nil, fail(phrase, "has a target and no date")
			case n > 0:
				if !slices.Contains(taskNos, n) {
					return nil, fail(phrase, fmt.Sprintf("completes task %d's deliverable, and the row has no task %d", n, n))
				}
				scope, named[n] = []int{n}, true
			}
			claims = append(claims, claim{tasks: scope, m: Milestone{Date: date, Target: target}, phrase: phrase})
		}
		if pending != "" {
			return nil, fail(pendingPhrase, "has a date and no target")
		}
	}
	var rest []int
	for _, n := range taskNos {
		if !named[n] {
			rest = append(rest, n)
		}
	}
	out := make(map[int][]Milestone, len(taskNos))
	for _, n := range taskNos {
		out[n] = nil
	}
	for _, c := range claims {
		tasks := c.tasks
		if tasks == nil {
			if len(rest) == 0 {
				return nil, fail(c.phrase, "names no task, and every task is named elsewhere")
			}
			tasks = rest
		}
		for _, n := range tasks {
			for _, m := range out[n] {
				if c.m.Date != "" && m.Date > c.m.Date {
					return nil, fail(c.phrase, fmt.Sprintf("gives task %d a milestone before its earlier one (%s)", n, m))
				}
			}
			out[n] = append(out[n], c.m)
		}
	}
	return out, nil
}

// deadlineDate is the last day of a deadline's year or quarter.
func deadlineDate(year, quarter string) string {
	switch quarter {
	case "一":
		return year + "-03-31"
	case "二":
		return year + "-06-30"
	case "三":
		return year + "-09-30"
	}
	return year + "-12-31" // 年底前, 年底, 年前, 年, 第四季度
}

// deadlineTarget reads a phrase's target, and the task whose deliverable it
// completes (0 for none).
func deadlineTarget(s string) (target string, task int, ok bool) {
	switch s {
	case "完成":
		return TargetComplete, 0, true
	case "基本完成":
		return TargetBasicallyComplete, 0, true
	case "取得显著成效":
		return TargetSignificantProgress, 0, true
	case "长期坚持", "长期推进":
		return TargetLongTerm, 0, true
	}
	if d, found := strings.CutPrefix(s, "完成"); found {
		if n := deliverableTask(d); n > 0 {
			return TargetComplete, n, true
		}
	}
	if strings.HasSuffix(s, "目标实现") || strings.HasPrefix(s, "实现") && strings.HasSuffix(s, "目标") {
		return TargetComplete, 0, true
	}
	return "", 0, false
}

// deliverableTask is the task number of a deliverable the annex completes in
// place of naming its task: row 4's task 1 forms the responsibility list
// (形成详尽的责任清单), "2020年第一季度完成责任清单".
func deliverableTask(d string) int {
	if d == "责任清单" {
		return 1
	}
	return 0
}

// splitOutsideQuotes splits s at any of seps outside “…” quotes, trimming
// the parts and dropping empty ones.
func splitOutsideQuotes(s, seps string) []string {
	var out []string
	quoted, start := false, 0
	add := func(end int) {
		if p := strings.TrimSpace(s[start:end]); p != "" {
			out = append(out, p)
		}
	}
	for i, r := range s {
		switch {
		case r == '“':
			quoted = true
		case r == '”':
			quoted = false
		case !quoted && strings.ContainsRune(seps, r):
			add(i)
			start = i + len(string(r))
		}
	}
	add(len(s))
	return out
}

// checkMilestones checks every row of the responsibility list against the
// annex: its deadline text is the guidance's word for word, and its tasks'
// typed milestones are what the text says. A final milestone typed without
// its target takes the text's; a task the text gives no time limit (row
// 10's task 1) is followed as long-term.
func checkMilestones(rows []ResponsibilityRow) error {
	g := Guidance()
	for i := range rows {
		row := &rows[i]
		if !strings.Contains(g, row.DeadlineText) {
			return fmt.Errorf("row %d: deadline text %q is not the annex's", row.Row, row.DeadlineText)
		}
		nos := make([]int, 0, len(row.Tasks))
		for _, t := range row.Tasks {
			if slices.Contains(nos, t.TaskNo) {
				return fmt.Errorf("row %d: task %d twice", row.Row, t.TaskNo)
			}
			nos = append(nos, t.TaskNo)
		}
		parsed, err := ParseDeadlines(row.DeadlineText, nos)
		if err != nil {
			return fmt.Errorf("row %d: %w", row.Row, err)
		}
		for j := range row.Tasks {
			t := &row.Tasks[j]
			want := parsed[t.TaskNo]
			if len(want) == 0 {
				want = []Milestone{{Target: TargetLongTerm}}
			}
			if t.FinalDeadline != "" && t.FinalTarget == "" && len(want) == 2 && want[1].Date == t.FinalDeadline {
				t.FinalTarget = want[1].Target
			}
			if got := t.Milestones(); !slices.Equal(got, want) {
				return fmt.Errorf("row %d: %s is typed %v, and the annex's %q reads %v for task %d", row.Row, t.TaskID, got, row.DeadlineText, want, t.TaskNo)
			}
		}
	}
	return nil
}
