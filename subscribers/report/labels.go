package report

// The report's Chinese labels. Indicators are named as the dashboard's
// message catalog names them (a test holds the two together); rules by
// their titles in rules.json.

// indicatorLabels name the rates of indicators.json and the computed
// lines of the assessment (board.json).
var indicatorLabels = map[string]string{
	"secure":                    "两不愁三保障户占比",
	"employment":                "有劳动力家庭就业率",
	"insured":                   "基本医保与大病保险参保率",
	"enrolled":                  "适龄儿童入学率",
	"pension":                   "基本养老保险参保率",
	"deeds":                     "不动产登记率",
	"hukou":                     "户籍迁移或居住证办理率",
	"reclamation":               "旧宅基地复垦复绿率",
	"training_to_employment_6m": "培训后6个月内就业率",
	"infrastructure_complete":   "八项配套全部到位的安置点",
	"project_jobs_relocated":    "政府投资项目吸纳搬迁群众岗位占比",
	"tasks_on_time":             "责任清单任务按期推进率",
	"warnings_supervised":       "预警按期签收办理率",
}

// gradeLabels say how a value stands against its target.
var gradeLabels = map[string]string{"green": "达标", "amber": "接近目标", "red": "未达标"}

// boardLabels name the task board's statuses.
var boardLabels = map[string]string{
	"overdue": "逾期", "at_risk": "有风险", "on_track": "正常推进", "ongoing": "长期推进", "done": "已完成", "withdrawn": "已撤销",
}

// targetLabels name a milestone's target as the annex does.
var targetLabels = map[string]string{
	"complete": "完成", "basically_complete": "基本完成", "significant_progress": "取得显著成效", "long_term": "长期坚持",
}

// progressLabels name a unit's progress on a task (task.progress).
var progressLabels = map[string]string{
	"not_started": "未启动", "in_progress": "推进中", "done": "已完成", "blocked": "受阻",
}

// supervisionLabels name a warning's supervision state.
var supervisionLabels = map[string]string{"open": "待签收", "acknowledged": "已签收", "escalated": "已升级"}

// handlingLabels name how a problem fed back was handled, and answerLabels
// the kinds of answer.
var (
	handlingLabels = map[string]string{"none": "未回应", "acknowledged": "已签收", "action": "整改中", "rectified": "已整改"}
	answerLabels   = map[string]string{"acknowledgement": "签收", "action": "整改措施", "rectified": "已整改"}
)

// severityLabels name a problem's severity.
var severityLabels = map[string]string{"low": "一般", "medium": "较重", "high": "严重"}

// aboutLabels name what a problem is about.
var aboutLabels = map[string]string{"warning": "预警", "task": "任务", "household": "搬迁户", "site": "安置点"}

// label returns a key's label, or the key itself when it has none.
func label(m map[string]string, key string) string {
	if s, ok := m[key]; ok {
		return s
	}
	return key
}
