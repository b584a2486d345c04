package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/xianyang/anzhi/schemas"
	"github.com/xianyang/anzhi/view"
)

// The report's ledgers, one method a section, each read from the view of
// the quarter (and the previous quarter's, for what changed).

// oldestShown is how many of the oldest open warnings the report names.
const oldestShown = 10

// builder reads the ledgers of one report.
type builder struct {
	cat        *schemas.Catalog
	v, prev    *view.View
	county     string // "" for the whole city
	quarter    string
	start, end time.Time // the quarter: [start, end)
	from, to   string    // its first day and the first day after it, as dates
	names      map[string]string
	order      map[string]int // the units in the registry's order
}

func newBuilder(cat *schemas.Catalog, in Input) *builder {
	start, end, _ := view.ParseQuarter(in.Quarter)
	b := &builder{cat: cat, v: in.View, prev: in.Previous, county: in.County, quarter: in.Quarter, start: start, end: end,
		from: start.Format(time.DateOnly), to: end.Format(time.DateOnly), names: map[string]string{}, order: map[string]int{}}
	for i, d := range in.View.Departments() {
		b.names[d.Code], b.order[d.Code] = d.Name, i
	}
	return b
}

// place is an area of the report: a county, or the city as the total.
type place struct {
	code, name string
	total      bool
}

// places are the report's areas: every county and then the city, or the
// one county.
func (b *builder) places() []place {
	if b.county != "" {
		c, _ := b.cat.County(b.county)
		return []place{{code: c.Code, name: c.Name}}
	}
	var out []place
	for _, c := range b.cat.Counties() {
		out = append(out, place{code: c.Code, name: c.Name})
	}
	return append(out, place{code: b.cat.City.Code, name: b.cat.City.Name + " (合计)", total: true})
}

// areaName names a county or the city by code.
func (b *builder) areaName(code string) string {
	if c, ok := b.cat.County(code); ok {
		return c.Name
	}
	if code == b.cat.City.Code {
		return b.cat.City.Name
	}
	return code
}

// unitName names a publishing unit.
func (b *builder) unitName(code string) string {
	if n := b.names[code]; n != "" {
		return n
	}
	return code
}

// scope is the area the view's reads are narrowed to: the county, or ""
// for all.
func (b *builder) scope() string { return b.county }

// indicatorsOf returns an area's indicators in a view (nil view: none).
func indicatorsOf(v *view.View, p place) *view.Indicators {
	if v == nil {
		return nil
	}
	if p.total {
		in := v.City().Indicators
		return &in
	}
	a, err := v.County(p.code)
	if err != nil {
		return nil
	}
	return &a.Indicators
}

// measured reports whether an area's rate measures something: its base
// (households for secure) is not 0.
func measured(in *view.Indicators, rate string) bool {
	if in == nil {
		return false
	}
	base, ok := view.RateBase(rate)
	return !ok || in.Counts[base] > 0
}

// rateCell is a rate of an area's indicators, nil when it measures
// nothing.
func rateCell(in *view.Indicators, rate string) any {
	if !measured(in, rate) {
		return nil
	}
	return Rate(in.Rates[rate])
}

// deltaCell is the change of a rate from the previous quarter, nil unless
// both measure something.
func deltaCell(cur, prev *view.Indicators, rate string) any {
	if !measured(cur, rate) || !measured(prev, rate) {
		return nil
	}
	return delta(cur.Rates[rate], prev.Rates[rate])
}

// gradeOf grades an area's rate against its indicator: 无数据 when it
// measures nothing.
func gradeOf(in schemas.Indicator, ind *view.Indicators) (key, text string) {
	if !measured(ind, in.Rate) {
		return "", "无数据"
	}
	g := in.Grade(ind.Rates[in.Rate])
	return g, label(gradeLabels, g)
}

// indicators is section one: every indicator of every area against its
// target and against last quarter.
func (b *builder) indicators() Section {
	t := &Table{Sheet: "指标台账", Title: "主要指标: 对照目标与上季度",
		Header: []string{"区域代码", "区域", "指标", "指标名称", "本季度", "目标", "评级", "上季度", "环比(百分点)", "核查规则"},
		Note:   "本季度为季末(或当前)数值, 上季度为上季度末记录截面的数值; 评级: 达到目标为达标, 低于目标不超过容差为接近目标, 否则未达标。"}
	grades := map[string]int{}
	for _, p := range b.places() {
		cur, prev := indicatorsOf(b.v, p), indicatorsOf(b.prev, p)
		for _, in := range b.cat.Indicators() {
			g, grade := gradeOf(in, cur)
			if p.total || b.county != "" {
				grades[g]++
			}
			t.Rows = append(t.Rows, []any{p.code, p.name, in.Rate, label(indicatorLabels, in.Rate), rateCell(cur, in.Rate),
				Rate(in.Target), grade, rateCell(prev, in.Rate), deltaCell(cur, prev, in.Rate), in.Rule})
		}
	}
	scope := b.cat.City.Name
	if b.county != "" {
		scope = b.areaName(b.county)
	}
	return Section{Title: "一、主要指标", Tables: []*Table{t}, Summary: []string{
		fmt.Sprintf("%s %d 项指标: 达标 %d 项, 接近目标 %d 项, 未达标 %d 项, 无数据 %d 项。", scope, len(b.cat.Indicators()),
			grades["green"], grades["amber"], grades["red"], grades[""])}}
}

// secure is section two: 两不愁三保障 by county, with its parts.
func (b *builder) secure() Section {
	t := &Table{Sheet: "两不愁三保障", Title: "两不愁三保障: 分县(市、区)",
		Header: []string{"区域代码", "区域", "户数", "人数", "两不愁三保障户", "达标率", "上季度达标率", "环比(百分点)",
			"适龄儿童", "在校", "义务教育入学率", "双参保人数", "基本医疗参保率", "有劳动力户", "有就业户", "就业率", "零就业户", "低保户", "特困供养户"},
		Note: "统计已登记且仍在安置点居住的搬迁户。不愁吃穿: 有劳动力户至少一人就业, 或享受低保、特困供养, 或无劳动力; 义务教育: 适龄儿童全部在校; 基本医疗: 全部成员参加基本医保和大病保险; 住房安全以安置住房为准。"}
	var chart Chart
	chart = Chart{Title: "两不愁三保障户占比", Rate: true, Target: 1}
	target := indicatorTarget(b.cat, "secure")
	for _, p := range b.places() {
		cur, prev := indicatorsOf(b.v, p), indicatorsOf(b.prev, p)
		c := cur.Counts
		t.Rows = append(t.Rows, []any{p.code, p.name, c["households"], c["persons"], c["secure"], rateCell(cur, "secure"),
			rateCell(prev, "secure"), deltaCell(cur, prev, "secure"), c["school_age"], c["enrolled"], rateCell(cur, "enrolled"),
			c["insured_both"], rateCell(cur, "insured"), c["households_labour"], c["households_employed"], rateCell(cur, "employment"),
			c["zero_employment"], c["dibao"], c["tekun"]})
		if !p.total {
			g, note := gradeOf(target, cur)
			bar := Bar{Label: p.name, Value: cur.Rates["secure"], Grade: g}
			if g == "" {
				bar.Note = note
			}
			chart.Bars = append(chart.Bars, bar)
		}
	}
	chart.Target = target.Target
	return Section{Title: "二、两不愁三保障", Tables: []*Table{t}, Charts: []Chart{chart}}
}

// indicatorTarget returns the indicator of a rate.
func indicatorTarget(cat *schemas.Catalog, rate string) schemas.Indicator {
	for _, in := range cat.Indicators() {
		if in.Rate == rate {
			return in
		}
	}
	return schemas.Indicator{Rate: rate, Target: 1}
}

// warnings is section three: the open warnings by rule and supervision
// state, the quarter's supervision month by month, and the oldest open.
func (b *builder) warnings() Section {
	byRule := &Table{Sheet: "预警督办", Title: "未结预警: 按规则与督办状态",
		Header: []string{"规则", "规则名称", "未结预警", "待签收", "已签收", "已升级", "已报整改", "本季度新发"},
		Note:   "截至季末(或当前)仍未解除的预警; 已报整改指责任单位已报告整改、待数据确认; 本季度新发指本季度内发出且仍未解除。"}
	var sum view.RuleTally
	chart := Chart{Title: "未结预警: 按规则"}
	for _, x := range b.v.WarningTallies(b.scope(), b.start) {
		title := ""
		if r, ok := b.cat.Rules().Rule(x.Rule); ok {
			title = r.Title
		}
		byRule.Rows = append(byRule.Rows, []any{x.Rule, title, x.Open, x.Unanswered, x.Acknowledged, x.Escalated, x.Rectified, x.RaisedSince})
		sum.Open += x.Open
		sum.Unanswered += x.Unanswered
		sum.Acknowledged += x.Acknowledged
		sum.Escalated += x.Escalated
		sum.Rectified += x.Rectified
		sum.RaisedSince += x.RaisedSince
		chart.Bars = append(chart.Bars, Bar{Label: x.Rule + " " + title, Value: float64(x.Open)})
	}
	byRule.Rows = append(byRule.Rows, []any{"合计", "", sum.Open, sum.Unanswered, sum.Acknowledged, sum.Escalated, sum.Rectified, sum.RaisedSince})

	flow := &Table{Sheet: "督办流量", Title: "本季度督办情况: 按月",
		Header: []string{"月份", "新发预警", "升级督办", "签收", "整改措施", "报告整改", "解除"},
		Note:   "按月统计本季度内发出、升级、签收、报告整改措施、报告整改和解除的预警(含已解除的)。"}
	area := b.county
	if area == "" {
		area = b.cat.City.Code
	}
	hist, _ := b.v.History(area)
	months := map[string]view.HistoryMonth{}
	for _, m := range hist {
		months[m.Month] = m
	}
	var total view.HistoryMonth
	for m := b.start; m.Before(b.end); m = m.AddDate(0, 1, 0) {
		x := months[m.Format("2006-01")]
		flow.Rows = append(flow.Rows, []any{m.Format("2006-01"), x.Raised, x.Escalated, x.Acknowledged, x.Actions, x.Rectified, x.Resolved})
		total.Raised += x.Raised
		total.Escalated += x.Escalated
		total.Acknowledged += x.Acknowledged
		total.Actions += x.Actions
		total.Rectified += x.Rectified
		total.Resolved += x.Resolved
	}
	flow.Rows = append(flow.Rows, []any{"合计", total.Raised, total.Escalated, total.Acknowledged, total.Actions, total.Rectified, total.Resolved})

	oldest := &Table{Sheet: "最久未结预警", Title: fmt.Sprintf("最久未结的预警 (前 %d 条)", oldestShown),
		Header: []string{"预警编号", "规则", "对象", "区域", "责任单位", "发出日期", "整改时限", "督办状态", "已报整改", "情况"}}
	for _, w := range b.v.OldestWarnings(b.scope(), oldestShown) {
		var units []string
		for _, u := range w.Responsible {
			units = append(units, b.unitName(u))
		}
		rect := ""
		if w.Rectified {
			rect = "是"
		}
		oldest.Rows = append(oldest.Rows, []any{w.ID, w.Rule, w.EntityID, b.areaName(w.Area), strings.Join(units, "、"),
			dateText(w.RaisedAt), dateText(w.Due), label(supervisionLabels, w.Supervision), rect, w.Message})
	}
	return Section{Title: "三、预警督办", Tables: []*Table{byRule, flow, oldest}, Charts: []Chart{chart}, Summary: []string{
		fmt.Sprintf("未结预警 %d 条: 待签收 %d 条, 已签收 %d 条, 已升级 %d 条, 已报整改 %d 条。", sum.Open, sum.Unanswered, sum.Acknowledged, sum.Escalated, sum.Rectified),
		fmt.Sprintf("本季度新发预警 %d 条, 升级督办 %d 条, 解除 %d 条。", total.Raised, total.Escalated, total.Resolved)}}
}

// dateText is the date of a time in China Standard Time.
func dateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(view.ChinaTime()).Format(time.DateOnly)
}

// tasks is section four: the task board by unit, the overdue rows, and the
// tasks reported done while the data says otherwise.
func (b *builder) tasks() Section {
	rows := b.v.Tasks(view.TaskQuery{County: b.county})
	statuses := view.TaskStatuses()
	counts := map[string]map[string]int{}
	for _, r := range rows {
		if counts[r.Owner] == nil {
			counts[r.Owner] = map[string]int{}
		}
		counts[r.Owner][r.Board]++
	}
	units := make([]string, 0, len(counts))
	for u := range counts {
		units = append(units, u)
	}
	sort.Slice(units, func(i, j int) bool { return b.unitBefore(units[i], units[j]) })
	head := []string{"责任单位", "单位名称"}
	for _, s := range statuses {
		head = append(head, label(boardLabels, s))
	}
	summary := &Table{Sheet: "任务汇总", Title: "责任清单任务: 按责任单位", Header: append(head, "合计"),
		Note: "每个责任单位承担的每项任务(含联席会议交办事项)一行, 按记录时钟判断状态。"}
	totals := map[string]int{}
	for _, u := range units {
		row := []any{u, b.unitName(u)}
		n := 0
		for _, s := range statuses {
			row = append(row, counts[u][s])
			n += counts[u][s]
			totals[s] += counts[u][s]
		}
		summary.Rows = append(summary.Rows, append(row, n))
	}
	row := []any{"合计", ""}
	for _, s := range statuses {
		row = append(row, totals[s])
	}
	summary.Rows = append(summary.Rows, append(row, len(rows)))

	overdue := &Table{Sheet: "逾期任务", Title: "逾期任务: 按责任单位",
		Header: []string{"责任单位", "单位名称", "任务编号", "任务", "已下达", "到期日", "目标", "最新进展", "完成度(%)", "报告日期", "原因", "预警编号(R15)"},
		Note:   "已下达: 牵头单位已以 plan.task 下达(或联席会议交办)的任务, R15 对其逾期发出预警; 未下达的责任清单任务按附件时限显示。"}
	claims := &Table{Sheet: "报完成但数据不符", Title: "报告已完成但数据显示未达标的任务",
		Header: []string{"责任单位", "单位名称", "任务编号", "任务", "完成日期", "数据对照"}}
	var late []view.TaskView
	for _, r := range rows {
		if r.Board == view.TaskOverdue {
			late = append(late, r)
		}
		if r.Contradicted {
			claims.Rows = append(claims.Rows, []any{r.Owner, b.unitName(r.Owner), r.TaskID, r.Title, r.Completed, r.Contradiction})
		}
	}
	sort.SliceStable(late, func(i, j int) bool {
		if late[i].Owner != late[j].Owner {
			return b.unitBefore(late[i].Owner, late[j].Owner)
		}
		return late[i].TaskID < late[j].TaskID
	})
	inForce := 0
	for _, r := range late {
		given := "否"
		if r.InForce {
			given = "是"
			inForce++
		}
		var percent any
		if r.Progress != "" {
			percent = r.Percent
		}
		overdue.Rows = append(overdue.Rows, []any{r.Owner, b.unitName(r.Owner), r.TaskID, r.Title, given, r.Deadline, label(targetLabels, r.Target),
			label(progressLabels, r.Progress), percent, r.Reported, r.Why, r.Warning})
	}
	held, missed := b.v.Meetings()
	meeting := fmt.Sprintf("%s尚未召开联席会议。", QuarterName(b.quarter))
	for _, m := range held {
		if m.Quarter == b.quarter {
			meeting = fmt.Sprintf("%s联席会议 %s 于 %s 召开, 交办事项 %d 项。", QuarterName(b.quarter), m.MeetingID, m.HeldOn, len(m.Assigned))
		}
	}
	lines := []string{fmt.Sprintf("任务 %d 项(单位×任务): 逾期 %d 项(其中已下达 %d 项), 有风险 %d 项, 正常推进 %d 项, 已完成 %d 项。",
		len(rows), totals[view.TaskOverdue], inForce, totals[view.TaskAtRisk], totals[view.TaskOnTrack], totals[view.TaskDone]), meeting}
	if len(missed) > 0 {
		lines = append(lines, "未召开联席会议的季度: "+strings.Join(missed, "、")+"。")
	}
	return Section{Title: "四、责任清单任务", Tables: []*Table{summary, overdue, claims}, Summary: lines}
}

// unitBefore orders units as the registry lists them.
func (b *builder) unitBefore(x, y string) bool {
	ox, okx := b.order[x]
	oy, oky := b.order[y]
	switch {
	case okx && oky:
		return ox < oy
	case okx != oky:
		return okx
	}
	return x < y
}

// feedback is section five: the problems fed back and how each was
// handled.
func (b *builder) feedback() Section {
	list := &Table{Sheet: "问题反馈", Title: "问题反馈及办理情况",
		Header: []string{"编号", "反馈单位", "单位名称", "区域", "反馈日期", "严重程度", "涉及", "涉及编号", "问题描述", "办理情况", "回复"},
		Note:   "本季度反馈的问题, 及此前反馈尚未整改的问题; 回复为反馈之后责任单位就同一预警、任务、搬迁户或安置点报告的签收、整改措施和整改。"}
	type key struct{ dept, area string }
	type tally struct {
		all, quarter int
		by           map[string]int
	}
	tallies := map[key]*tally{}
	var keys []key
	handled := map[string]int{}
	inQuarter := 0
	for _, p := range b.v.Problems(b.scope()) {
		if p.ReportedOn >= b.to {
			continue // reported as of a day after the quarter
		}
		k := key{p.Dept, p.Area}
		x := tallies[k]
		if x == nil {
			x = &tally{by: map[string]int{}}
			tallies[k] = x
			keys = append(keys, k)
		}
		x.all++
		x.by[p.Handling]++
		handled[p.Handling]++
		now := p.ReportedOn >= b.from
		if now {
			x.quarter++
			inQuarter++
		}
		if !now && p.Handling == view.HandlingRectified {
			continue
		}
		var answers []string
		for _, a := range p.Answers {
			answers = append(answers, fmt.Sprintf("%s %s %s", a.ReportedOn, b.unitName(a.Dept), label(answerLabels, a.Kind)))
		}
		subject := map[string]string{"warning": p.Warning, "task": p.Task, "household": p.Household, "site": p.Site}[p.About]
		list.Rows = append(list.Rows, []any{p.ReportID, p.Dept, p.DeptName, b.areaName(p.Area), p.ReportedOn, label(severityLabels, p.Severity),
			label(aboutLabels, p.About), subject, p.Description, label(handlingLabels, p.Handling), strings.Join(answers, "; ")})
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].dept != keys[j].dept {
			return b.unitBefore(keys[i].dept, keys[j].dept)
		}
		return keys[i].area < keys[j].area
	})
	sum := &Table{Sheet: "问题反馈汇总", Title: "问题反馈: 按反馈单位与区域",
		Header: []string{"反馈单位", "单位名称", "区域代码", "区域", "截至季末反馈", "本季度反馈", "已整改", "整改中", "已签收", "未回应"}}
	for _, k := range keys {
		x := tallies[k]
		sum.Rows = append(sum.Rows, []any{k.dept, b.unitName(k.dept), k.area, b.areaName(k.area), x.all, x.quarter,
			x.by[view.HandlingRectified], x.by[view.HandlingAction], x.by[view.HandlingAcknowledged], x.by[view.HandlingNone]})
	}
	all := handled[view.HandlingRectified] + handled[view.HandlingAction] + handled[view.HandlingAcknowledged] + handled[view.HandlingNone]
	sum.Rows = append(sum.Rows, []any{"合计", "", "", "", all, inQuarter, handled[view.HandlingRectified], handled[view.HandlingAction],
		handled[view.HandlingAcknowledged], handled[view.HandlingNone]})
	return Section{Title: "五、问题反馈", Tables: []*Table{sum, list}, Summary: []string{
		fmt.Sprintf("截至季末反馈问题 %d 个, 其中本季度 %d 个; 已整改 %d 个, 整改中 %d 个, 已签收 %d 个, 未回应 %d 个。", all, inQuarter,
			handled[view.HandlingRectified], handled[view.HandlingAction], handled[view.HandlingAcknowledged], handled[view.HandlingNone])}}
}

// funds is section six: the funds allocated and disbursed by county and by
// project, in total and in the quarter.
func (b *builder) funds() Section {
	head := []string{"下达资金(元)", "拨付资金(元)", "未拨付(元)", "拨付率", "本季度下达(元)", "本季度拨付(元)"}
	byArea := &Table{Sheet: "资金-区县", Title: "项目资金: 按县(市、区)", Header: append([]string{"区域代码", "区域"}, head...),
		Note: "下达资金已扣除收回; 本季度为季末与上季度末之差。"}
	var chart []Bar
	for _, p := range b.places() {
		cur, prev := indicatorsOf(b.v, p), indicatorsOf(b.prev, p)
		alloc, disb := cur.Counts["funds_allocated_fen"], cur.Counts["funds_disbursed_fen"]
		row := append([]any{p.code, p.name}, fundsCells(alloc, disb)...)
		if prev != nil {
			row = append(row, Yuan(alloc-prev.Counts["funds_allocated_fen"]), Yuan(disb-prev.Counts["funds_disbursed_fen"]))
		} else {
			row = append(row, nil, nil)
		}
		byArea.Rows = append(byArea.Rows, row)
		if !p.total {
			chart = append(chart, Bar{Label: p.name, Value: float64(alloc) / 100})
		}
	}
	byProject := &Table{Sheet: "资金-项目", Title: "项目资金: 按项目", Header: append([]string{"项目编号", "区域代码", "区域"}, head...)}
	before := map[string]view.ProjectFunds{}
	if b.prev != nil {
		for _, p := range b.prev.Funds(b.scope()) {
			before[p.ProjectID] = p
		}
	}
	for _, p := range b.v.Funds(b.scope()) {
		row := append([]any{p.ProjectID, p.Area, b.areaName(p.Area)}, fundsCells(p.Allocated, p.Disbursed)...)
		if b.prev != nil {
			was := before[p.ProjectID]
			row = append(row, Yuan(p.Allocated-was.Allocated), Yuan(p.Disbursed-was.Disbursed))
		} else {
			row = append(row, nil, nil)
		}
		byProject.Rows = append(byProject.Rows, row)
	}
	return Section{Title: "六、项目资金", Tables: []*Table{byArea, byProject}, Charts: []Chart{{Title: "下达资金(元): 按县(市、区)", Bars: chart, Money: true}}}
}

// fundsCells are allocated, disbursed, undisbursed and the share disbursed.
func fundsCells(alloc, disb int64) []any {
	var share any
	if alloc > 0 {
		share = Rate(float64(int64(float64(disb)/float64(alloc)*10000+0.5)) / 10000)
	}
	return []any{Yuan(alloc), Yuan(disb), Yuan(alloc - disb), share}
}

// departments is section seven: how fresh each unit's data is, and what
// was refused.
func (b *builder) departments() Section {
	t := &Table{Sheet: "部门更新", Title: "责任单位数据更新与拒收",
		Header: []string{"单位", "单位名称", "累计发布", "本季度发布", "累计被拒", "本季度被拒", "被拒占比", "最近发布", "未更新天数", "超期未更新(R18)"},
		Note:   fmt.Sprintf("超期未更新: 超过 %d 天未发布, R18 预警未解除。被拒占比 = 被拒 / (发布 + 被拒)。", b.v.FreshnessDays())}
	silent := map[string]bool{}
	for _, w := range b.v.Warnings(view.WarningQuery{Rule: "R18"}) {
		silent[w.EntityID] = true
	}
	before := map[string]view.DepartmentSummary{}
	if b.prev != nil {
		for _, d := range b.prev.Departments() {
			before[d.Code] = d
		}
	}
	n := 0
	for _, d := range b.v.Departments() {
		if b.county != "" && d.Code != "county/"+b.county {
			continue
		}
		var pubQ, rejQ, share any
		if b.prev != nil {
			pubQ, rejQ = d.Published-before[d.Code].Published, d.Rejected-before[d.Code].Rejected
		}
		if d.Published+d.Rejected > 0 {
			share = Rate(float64(int64(float64(d.Rejected)/float64(d.Published+d.Rejected)*10000+0.5)) / 10000)
		}
		last, days := "", any(nil)
		if !d.LastPublication.IsZero() {
			last, days = d.LastPublication.In(view.ChinaTime()).Format("2006-01-02 15:04"), d.DaysSilent
		}
		flag := ""
		if silent[d.Code] {
			flag, n = "是", n+1
		}
		t.Rows = append(t.Rows, []any{d.Code, d.Name, d.Published, pubQ, d.Rejected, rejQ, share, last, days, flag})
	}
	return Section{Title: "七、部门数据更新", Tables: []*Table{t}, Summary: []string{
		fmt.Sprintf("%d 个单位超过 %d 天未更新共享数据 (R18)。", n, b.v.FreshnessDays())}}
}

// assessment is section eight: each county's score, line by line, against
// last quarter.
func (b *builder) assessment() Section {
	sum := &Table{Sheet: "考核汇总", Title: "县(市、区)后续扶持工作考核",
		Header: []string{"排名", "区域代码", "区域", "得分", "上季度得分", "变化", "后续扶持权重", "权重依据", "折合分值", "考核方案问题(R19)"},
		Note:   "得分满分 100, 各项权重见 board.json; 折合分值 = 得分 × 后续扶持工作在县级考核中的权重。"}
	lines := &Table{Sheet: "考核明细", Title: "考核得分明细", Header: []string{"区域代码", "区域", "考核项", "考核项名称", "当前值", "目标", "权重", "得分", "依据"}}
	before := map[string]view.AssessmentView{}
	if b.prev != nil {
		for _, a := range b.prev.Assessments() {
			before[a.County] = a
		}
	}
	var chart []Bar
	for _, a := range b.v.Assessments() {
		if b.county != "" && a.County != b.county {
			continue
		}
		var was, change any
		if p, ok := before[a.County]; ok {
			was, change = Points(p.Score), Delta(round2(a.Score-p.Score))
		}
		from := a.WeightFrom
		if from == "default" {
			from = "未发布考核方案, 按默认权重"
		}
		sum.Rows = append(sum.Rows, []any{a.Rank, a.County, a.Name, Points(a.Score), was, change, Rate(a.Weight), from, Points(a.Contribution), a.Finding})
		for _, l := range a.Lines {
			lines.Rows = append(lines.Rows, []any{a.County, a.Name, l.Line, label(indicatorLabels, l.Line), Rate(l.Value), Rate(l.Target),
				Rate(l.Weight), Points(l.Points), l.Basis})
		}
		chart = append(chart, Bar{Label: a.Name, Value: a.Score})
	}
	return Section{Title: "八、考核", Tables: []*Table{sum, lines}, Charts: []Chart{{Title: "考核得分", Bars: chart}}}
}

func round2(x float64) float64 {
	if x < 0 {
		return -round2(-x)
	}
	return float64(int64(x*100+0.5)) / 100
}
