package schemas_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/xianyang/anzhi/schemas"
)

// TestParseDeadlinesAnnex reads every row's 完成时限 of the embedded annex,
// so every phrase the annex uses is covered (a new row is too), and checks
// the milestones against the tasks' typed fields.
func TestParseDeadlinesAnnex(t *testing.T) {
	rows := schemas.MustLoad().Responsibilities()
	guidance := schemas.Guidance()
	for _, row := range rows {
		t.Run(fmt.Sprintf("row%02d", row.Row), func(t *testing.T) {
			if !strings.Contains(guidance, row.DeadlineText) {
				t.Errorf("deadline text %q is not in the guidance's annex", row.DeadlineText)
			}
			var nos []int
			for _, task := range row.Tasks {
				nos = append(nos, task.TaskNo)
			}
			got, err := schemas.ParseDeadlines(row.DeadlineText, nos)
			if err != nil {
				t.Fatal(err)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, nos) {
				t.Errorf("ParseDeadlines(%q) has tasks %v, want %v", row.DeadlineText, keys, nos)
			}
			for _, task := range row.Tasks {
				want := task.Milestones()
				ms := got[task.TaskNo]
				if len(ms) == 0 {
					// The annex gives the task no time limit: long-term.
					ms = []schemas.Milestone{{Target: schemas.TargetLongTerm}}
				}
				if !slices.Equal(ms, want) {
					t.Errorf("%s: %q reads %v, typed %v", task.TaskID, row.DeadlineText, ms, want)
				}
			}
		})
	}
}

func TestParseDeadlines(t *testing.T) {
	type ms = []schemas.Milestone
	done := func(d string) schemas.Milestone { return schemas.Milestone{Date: d, Target: schemas.TargetComplete} }
	basic := func(d string) schemas.Milestone {
		return schemas.Milestone{Date: d, Target: schemas.TargetBasicallyComplete}
	}
	progress := func(d string) schemas.Milestone {
		return schemas.Milestone{Date: d, Target: schemas.TargetSignificantProgress}
	}
	longTerm := schemas.Milestone{Target: schemas.TargetLongTerm}
	tests := []struct {
		text      string
		tasks     []int
		want      map[int]ms
		withError string // the phrase the error names
	}{
		{text: "2020年底前完成", tasks: []int{1}, want: map[int]ms{1: {done("2020-12-31")}}},
		{text: "2020年底前基本完成", tasks: []int{1, 2}, want: map[int]ms{1: {basic("2020-12-31")}, 2: {basic("2020-12-31")}}},
		{text: "2020年底前取得显著成效,2025年前基本完成。", tasks: []int{1},
			want: map[int]ms{1: {progress("2020-12-31"), basic("2025-12-31")}}},
		{text: "长期坚持", tasks: []int{1}, want: map[int]ms{1: {longTerm}}},
		{text: "任务3在2020年底前基本完成,任务1、2长期推进", tasks: []int{1, 2, 3},
			want: map[int]ms{1: {longTerm}, 2: {longTerm}, 3: {basic("2020-12-31")}}},
		{text: "任务1、7在2020年底前完成,任务2、3、4、5在2020年底前取得显著成效,在2025年前基本完成,任务6长期坚持", tasks: []int{1, 2, 3, 4, 5, 6, 7},
			want: map[int]ms{1: {done("2020-12-31")}, 7: {done("2020-12-31")}, 6: {longTerm},
				2: {progress("2020-12-31"), basic("2025-12-31")}, 3: {progress("2020-12-31"), basic("2025-12-31")},
				4: {progress("2020-12-31"), basic("2025-12-31")}, 5: {progress("2020-12-31"), basic("2025-12-31")}}},
		// Row 10 gives its task 1 no time limit.
		{text: "任务2、4、5在2020年底前基本完成,任务3长期坚持", tasks: []int{1, 2, 3, 4, 5},
			want: map[int]ms{1: nil, 2: {basic("2020-12-31")}, 3: {longTerm}, 4: {basic("2020-12-31")}, 5: {basic("2020-12-31")}}},
		// Row 4: the list is task 1's deliverable, the rest is task 2's.
		{text: "2020年第一季度完成责任清单;易地扶贫搬迁后续扶持工作任务在2020年底前取得显著成效,2025年前基本完成。", tasks: []int{1, 2},
			want: map[int]ms{1: {done("2020-03-31")}, 2: {progress("2020-12-31"), basic("2025-12-31")}}},
		// Row 25: the date in one phrase, the goal in the next.
		{text: "2020年底前,确保搬迁群众“两不愁三保障”目标实现。2025年,实现“能发展、可致富”目标。", tasks: []int{1, 2},
			want: map[int]ms{1: {done("2020-12-31"), done("2025-12-31")}, 2: {done("2020-12-31"), done("2025-12-31")}}},
		{text: "任务1在2021年第三季度完成,任务2在2022年底完成;2023年第二季度基本完成", tasks: []int{1, 2, 3},
			want: map[int]ms{1: {done("2021-09-30")}, 2: {done("2022-12-31")}, 3: {basic("2023-06-30")}}},
		{text: "任务1在2020年底前完成,长期坚持", tasks: []int{1, 2}, want: map[int]ms{1: {done("2020-12-31"), longTerm}, 2: nil}},
		{text: "2022年第四季度完成", tasks: []int{1}, want: map[int]ms{1: {done("2022-12-31")}}},

		{text: "", tasks: []int{1}, withError: "empty"},
		{text: "2020年中完成", tasks: []int{1}, withError: "2020年中完成"},
		{text: "任务1在2020年底前完成,任务2在2020年底前搞定", tasks: []int{1, 2}, withError: "任务2在2020年底前搞定"},
		{text: "任务8在2020年底前完成", tasks: []int{1, 2}, withError: "任务8在2020年底前完成"},
		{text: "任务1完成", tasks: []int{1}, withError: "任务1完成"},
		{text: "2020年底前", tasks: []int{1}, withError: "2020年底前"},
		{text: "2020年底前,2021年底前完成", tasks: []int{1}, withError: "2020年底前"},
		{text: "2020年底前。完成", tasks: []int{1}, withError: "2020年底前"},
		{text: "2020年底前长期坚持", tasks: []int{1}, withError: "2020年底前长期坚持"},
		{text: "任务1在2020年底前完成;2025年前基本完成", tasks: []int{1}, withError: "2025年前基本完成"},
		{text: "任务1在2025年前完成,2020年底前基本完成", tasks: []int{1}, withError: "2020年底前基本完成"},
		{text: "2020年第一季度完成责任清单", tasks: []int{2}, withError: "2020年第一季度完成责任清单"},
		{text: "有关部门2020年底前完成", tasks: []int{1}, withError: "有关部门2020年底前完成"},
		{text: "力争早日完成", tasks: []int{1}, withError: "力争早日完成"},
	}
	for _, tt := range tests {
		got, err := schemas.ParseDeadlines(tt.text, tt.tasks)
		if tt.withError != "" {
			if !errors.Is(err, schemas.ErrDeadline) || !strings.Contains(err.Error(), tt.withError) {
				t.Errorf("ParseDeadlines(%q) = %v, %v; want an ErrDeadline naming %q", tt.text, got, err, tt.withError)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDeadlines(%q): %v", tt.text, err)
			continue
		}
		if !maps.EqualFunc(got, tt.want, func(a, b ms) bool { return slices.Equal(a, b) }) {
			t.Errorf("ParseDeadlines(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestTaskMilestones(t *testing.T) {
	tasks := map[string]schemas.ResponsibilityTask{}
	for _, row := range schemas.MustLoad().Responsibilities() {
		for _, task := range row.Tasks {
			tasks[task.TaskID] = task
		}
	}
	tests := []struct {
		task string
		want []schemas.Milestone
	}{
		{"RL04-1", []schemas.Milestone{{Date: "2020-03-31", Target: schemas.TargetComplete}}},
		{"RL04-2", []schemas.Milestone{{Date: "2020-12-31", Target: schemas.TargetSignificantProgress}, {Date: "2025-12-31", Target: schemas.TargetBasicallyComplete}}},
		{"RL07-1", []schemas.Milestone{{Target: schemas.TargetLongTerm}}},
		{"RL25-3", []schemas.Milestone{{Date: "2020-12-31", Target: schemas.TargetComplete}, {Date: "2025-12-31", Target: schemas.TargetComplete}}},
	}
	for _, tt := range tests {
		if got := tasks[tt.task].Milestones(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Milestones() = %v, want %v", tt.task, got, tt.want)
		}
	}
}
