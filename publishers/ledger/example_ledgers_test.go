package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// exampleLedgers builds every example ledger deterministically from the
// example world. Each also holds rows that are wrong on purpose, after the
// world's rows, with identities outside the world (households
// H610424-000390 and on): the import refuses them and says why.
func exampleLedgers() []sheet {
	w := exampleWorld()
	return []sheet{employmentLedger(w), trainingLedger(w), coverageLedger(w), deedsLedger(w), personLedger(w),
		householdLedger(w), enrolmentLedger(w), assistanceLedger(w)}
}

// exampleImport is how the README imports one example ledger.
type exampleImport struct{ dept, family, file string }

// exampleImports lists the example ledgers in the order they are best
// imported: the registers first, then what departments know of them.
var exampleImports = []exampleImport{
	{"poverty", "registry.household", "poverty-搬迁户台账.csv"},
	{"poverty", "registry.person", "poverty-搬迁人口台账.xlsx"},
	{"civil", "civil.assistance", "civil-低保台账.csv"},
	{"edu", "edu.enrolment", "edu-学生入学台账.csv"},
	{"hrss", "hr.employment", "hrss-就业台账.xlsx"},
	{"hrss", "hr.training", "hrss-培训台账.xlsx"},
	{"medins", "health.coverage", "medins-参保台账.xlsx"},
	{"resources", "resources.deeds", "resources-不动产登记台账.xlsx"},
}

// outside is the n-th household id outside the world, for rows refused on
// purpose.
func outside(n int) string { return hh(worldCounty, 390+n) }

func employmentLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(1, 1))}
	sh := sheet{file: "hrss-就业台账.xlsx", title: "乾县易地扶贫搬迁劳动力就业台账(2026年)",
		header: []string{"序号", "姓名", "身份证号", "户编号", "就业状态", "就业形式", "务工地点", "就业单位", "开始日期", "结束日期", "月收入(元)", "有组织输出", "备注"}}
	kinds := []string{"本地务工", "外出务工", "社区工厂", "公益岗位", "自主创业"}
	places := []string{"乾县", "江苏省苏州市", "乾县", "乾县", "西安市"}
	employers := []string{"乾县城关某食品有限公司", "苏州某电子有限公司", "乾县城关社区工厂", "城关街道公益岗位", "个体经营"}
	dates := []any{day(2026, 3, 2), "2026/4/15", "2026年5月6日", "2026-06-01", day(2025, 7, 20)}
	k := 0
	for i, h := range world {
		for _, m := range h.members {
			if !m.labour() {
				continue
			}
			if i == 3 { // a household with labour and nobody employed (零就业户): R4 warns
				sh.rows = append(sh.rows, []any{len(sh.rows) + 1, m.name, m.id, h.hh, "未就业", nil, nil, nil, "2026-09-01", nil, nil, nil, "有就业意愿"})
				continue
			}
			org := "否"
			if k%5 == 1 {
				org = "是"
			}
			sh.rows = append(sh.rows, []any{len(sh.rows) + 1, m.name, m.id, h.hh, "已就业",
				kinds[k%5], places[k%5], employers[k%5], dates[k%5], nil, 2300.5 + float64(k*100), org, nil})
			k++
		}
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		// an exact repetition of the first worker's row: a duplicate
		sh.rows[0],
		[]any{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}, // an empty row
		[]any{n + 2, s.name(), badCheck(s.id(worldCounty, 1979, true)), outside(0), "已就业", "本地务工", "乾县", "乾县某建材厂", "2026-05-11", nil, 2600, "否", nil},
		[]any{n + 3, s.name(), s.id(worldCounty, 1981, false), nil, "已就业", "本地务工", "乾县", "乾县某建材厂", "2026-05-11", nil, 2600, "否", nil},
		[]any{n + 4, s.name(), s.id(worldCounty, 1983, true), outside(2), "已就业", "本地务工", "乾县", "乾县某建材厂", "2026-13-01", nil, 2600, "否", nil},
		[]any{n + 5, s.name(), s.id(worldCounty, 1984, false), outside(3), "已就业", "打零工", "乾县", nil, "2026-05-11", nil, nil, "否", nil},
		[]any{n + 6, s.name(), s.id(worldCounty, 1986, true), outside(4), "已就业", nil, "乾县", nil, "2026-05-11", nil, nil, "否", nil},
		[]any{n + 7, s.name(), s.id(worldCounty, 1987, false), outside(5), "已就业", "本地务工", "乾县", nil, "2026-06-01", "2026-03-01", 2100, "否", nil},
		[]any{n + 8, s.name(), badCheck(s.id(worldCounty, 1988, true)), outside(6), "已就业", "本地务工", "乾县", nil, "2026年2月30日", nil, 2100, "否", nil},
		[]any{n + 9, s.name(), s.id(worldCounty, 1989, false), outside(7), "未就业", nil, nil, nil, "2026-09-01", nil, nil, nil,
			"户主身份证" + s.id(worldCounty, 1960, true) + "待核实"},
	)
	return sh
}

func trainingLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(2, 2))}
	sh := sheet{file: "hrss-培训台账.xlsx", title: "2026年度易地搬迁劳动力技能培训台账",
		header: []string{"序号", "姓名", "身份证号", "户编号", "培训项目", "培训类别", "培训机构", "开班日期", "结业日期", "是否合格", "证书编号", "培训补贴(元)"}}
	courses := []string{"中式烹调师(初级)", "家政服务员", "电子商务", "苹果栽培技术", "服装缝纫"}
	cats := []string{"职业技能培训", "职业技能培训", "创业培训", "实用技术培训", "以工代训"}
	i := 0
	for _, h := range world {
		for _, m := range h.members {
			if !m.labour() || i >= 9 {
				continue
			}
			passed, cert := "合格", fmt.Sprintf("QX2026-PX-%03d", 10+i)
			if i == 4 {
				passed, cert = "不合格", ""
			}
			sh.rows = append(sh.rows, []any{i + 1, m.name, m.id, h.hh, courses[i%5], cats[i%5],
				"乾县职业技术培训学校", day(2026, 1, 12), day(2026, 2, 10+i), passed, cert, 1200})
			i++
		}
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.id(worldCounty, 1980, true), outside(0), "中式烹调师(初级)", "职业技能培训", "乾县职业技术培训学校", "2026/1/12", nil, "合格", nil, 1200},
		[]any{n + 2, s.name(), s.id(worldCounty, 1982, false), outside(1), "家政服务员", "职业技能培训", "乾县职业技术培训学校", "2026/1/12", "2026/2/20", "良好", nil, 1200},
		[]any{n + 3, s.name(), s.id(worldCounty, 1983, true), outside(2), "家政服务员", "技能提升", nil, nil, "2026/2/20", "合格", nil, nil},
		[]any{n + 4, s.name(), s.id(worldCounty, 1984, false), outside(3), "家政服务员", "职业技能培训", nil, "2026-03-01", "2026-02-20", "合格", nil, 1200.555},
	)
	return sh
}

func coverageLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(3, 3))}
	sh := sheet{file: "medins-参保台账.xlsx",
		header: []string{"序号", "姓名", "身份证号", "户编号", "参保年度", "险种", "参保状态", "参保日期", "参保地", "资助金额(元)"}}
	lower := false
	for i, h := range world {
		for _, m := range h.members {
			id := m.id
			if strings.HasSuffix(id, "X") && !lower { // a lower-case x is fine as the check digit
				id, lower = strings.ToLower(id), true
			}
			for _, scheme := range []string{"城乡居民基本医疗保险", "大病保险"} {
				if i == 9 && scheme == "大病保险" { // one household lacks serious-illness cover: R7 warns
					continue
				}
				sh.rows = append(sh.rows, []any{len(sh.rows) + 1, m.name, id, h.hh, 2027, scheme, "已参保", day(2026, 11, 2+i), "乾县", 380})
			}
		}
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.id(worldCounty, 1990, true), outside(0), 2027, "城乡居民基本医疗保险", "已参保", nil, "乾县", 380},
		[]any{n + 2, s.name(), s.id(worldCounty, 1991, false), outside(1), 2027, "城乡居民基本医疗保险", "职工医保", nil, nil, nil},
		[]any{n + 3, s.name(), badCheck(s.id(worldCounty, 1992, true)), outside(2), 2027, "大病保险", "已参保", "2026-11-15", "乾县", 60},
		[]any{n + 4, s.name(), s.id(worldCounty, 1993, false), outside(3), "二〇二七", "大病保险", "已参保", "2026-11-15", "乾县", 60},
		[]any{n + 5, s.name(), s.id(worldCounty, 1994, true), outside(4), 2027, "商业保险", "已参保", "2026-11-15", "乾县", 60},
	)
	return sh
}

func deedsLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(4, 4))}
	sh := sheet{file: "resources-不动产登记台账.xlsx", title: "乾县易地扶贫搬迁安置房不动产登记台账",
		header: []string{"序号", "权利人", "权利人身份证号", "户编号", "安置点编号", "登记状态", "申请日期", "登记日期", "发证日期", "不动产权证号", "建筑面积(㎡)", "限制交易"}}
	for i, h := range world {
		row := []any{i + 1, h.head().name, h.head().id, h.hh, h.site, "已发证",
			day(2020, 3, 2), day(2020, 5, 18), day(2020, 5, 25), fmt.Sprintf("陕(2020)乾县不动产权第%07d号", 1234+i), 60 + 20*float64(len(h.members)) - 0.14, "是"}
		switch i {
		case 8: // registered, the certificate still to come
			row[5], row[8], row[9] = "已登记", nil, nil
		case 9: // applied for only: R9 warns
			row[5], row[6], row[7], row[8], row[9] = "已申请", day(2026, 10, 12), nil, nil, nil
		}
		sh.rows = append(sh.rows, row)
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.id(worldCounty, 1970, true), outside(0), site(worldCounty, 3), "已发证", "2020-03-02", "2020-05-18", "2020-05-25", nil, 80, "是"},
		[]any{n + 2, s.name(), s.id(worldCounty, 1971, false), outside(1), "S61042-03", "已申请", "2026-10-12", nil, nil, nil, 100, "是"},
		[]any{n + 3, s.name(), s.id(worldCounty, 1972, true), nil, site(worldCounty, 3), "已申请", "2026-10-12", nil, nil, nil, 100, "是"},
		[]any{n + 4, s.name(), s.id(worldCounty, 1973, false), outside(3), site(worldCounty, 3), "已登记", "2026-10-12", nil, nil, nil, 100, "是"},
	)
	return sh
}

func personLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(5, 5))}
	sh := sheet{file: "poverty-搬迁人口台账.xlsx",
		header: []string{"序号", "姓名", "身份证号", "户编号", "与户主关系", "出生年份", "性别", "劳动能力", "残疾等级", "人员状态", "登记日期"}}
	sex := map[bool]string{true: "男", false: "女"}
	for _, h := range world {
		for j, m := range h.members {
			birth := any(m.year)
			switch j { // the ways ledgers write a birth year
			case 1:
				birth = fmt.Sprintf("%d年", m.year)
			case 2:
				birth = fmt.Sprintf("%d-05-02", m.year)
			}
			sh.rows = append(sh.rows, []any{len(sh.rows) + 1, m.name, m.id, h.hh, m.rel, birth, sex[m.male], m.capacity, m.disabled, "正常", day(2020, 1, 6)})
		}
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.id(worldCounty, 1950, true), outside(0), "户主", 1950, "未知", "无劳动能力", "无", "正常", "2020/1/6"},
		[]any{n + 2, s.name(), badCheck(s.id(worldCounty, 1952, true)), outside(1), "户主", 1952, "男", "无劳动能力", "无", "正常", "2020/1/6"},
		[]any{n + 3, s.name(), s.id(worldCounty, 1955, true), outside(2), "户主", 1955, "男", "无劳动能力", "无", "正常", nil},
		[]any{n + 4, s.name(), "61042419", outside(3), "户主", 1956, "男", "无劳动能力", "无", "正常", "2020/1/6"},
	)
	return sh
}

func householdLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(6, 6))}
	sh := sheet{file: "poverty-搬迁户台账.csv", encoding: "utf-8-bom",
		header: []string{"序号", "户主姓名", "户主身份证号", "户编号", "安置点编号", "家庭人口", "劳动力人数", "是否建档立卡", "搬迁日期", "迁出县", "迁出乡镇", "住房面积(㎡)"}}
	for i, h := range world {
		size := len(h.members)
		sh.rows = append(sh.rows, []any{i + 1, h.head().name, h.head().id, h.hh, h.site, size, h.labourCount(),
			map[bool]string{true: "是", false: "否"}[h.poor], h.relocated.Format("2006/1/2"), "乾县", h.township, 25 * size})
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.id(worldCounty, 1963, true), outside(0), site(worldCounty, 3), 2, 3, "是", "2019-11-15", "乾县", "梁山镇", 50},
		[]any{n + 2, s.name(), s.id(worldCounty, 1964, true), outside(1), site(worldCounty, 3), 2, 1, "也许", "2019-11-15", "乾县", "梁山镇", 50},
		[]any{n + 3, s.name(), s.id(worldCounty, 1965, true), outside(2), site(worldCounty, 3), nil, 1, "是", "2019-11-15", "乾县", "梁山镇", 50},
	)
	return sh
}

func enrolmentLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(7, 7))}
	sh := sheet{file: "edu-学生入学台账.csv", encoding: "gb18030", title: "乾县易地扶贫搬迁家庭学生入学台账(2026-2027学年)",
		header: []string{"序号", "学生姓名", "家长姓名", "学生身份证号", "户编号", "学校代码", "学校名称", "学段", "年级", "学年", "变动类型", "变动日期", "是否就近入学"}}
	for i, h := range world {
		for _, m := range h.members {
			if !m.pupil() || (i == 7 && m.rel == "女") { // one girl is not in school: R6 warns
				continue
			}
			grade := worldAsOf.Year() - m.year - 6
			level, school, name := "小学", "QX-CGXX", "乾县城关小学"
			if grade > 6 {
				level, school, name = "初中", "QX-CGZX", "乾县城关中学"
			}
			action, date := "入学", "2026-09-01"
			if i == 4 {
				action, date = "转入", "2026年9月7日"
			}
			sh.rows = append(sh.rows, []any{len(sh.rows) + 1, m.name, h.head().name, m.id, h.hh, school, name, level, grade, "2026-2027", action, date, "是"})
		}
	}
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.name(), s.id(worldCounty, 2011, true), outside(0), "QX-CGZX", "乾县城关中学", "初中", 12, "2026-2027", "入学", "2026-09-01", "是"},
		[]any{n + 2, s.name(), s.name(), s.id(worldCounty, 2004, false), outside(1), "QX-DX", "某大学", "大学", 1, "2026-2027", "入学", "2026-09-01", "否"},
		[]any{n + 3, s.name(), s.name(), s.id(worldCounty, 2015, true), outside(2), "QX-CGXX", "乾县城关小学", "小学", 5, "2026-2027", "入学", "2026.13.5", "是"},
		[]any{n + 4, s.name(), s.name(), s.id(worldCounty, 2016, false), outside(3), nil, "乾县城关小学", "小学", 4, "2026-2027", "入学", "2026-09-01", "是"},
		[]any{n + 5, s.name(), s.name(), badCheck(s.id(worldCounty, 2017, true)), outside(4), "QX-CGXX", "乾县城关小学", "小学", 3, "2026-2027", "入学", "2026-09-01", "是"},
	)
	return sh
}

func assistanceLedger(world []homestead) sheet {
	s := &synth{rand.New(rand.NewPCG(8, 8))}
	sh := sheet{file: "civil-低保台账.csv", encoding: "gb18030",
		header: []string{"序号", "户主姓名", "户主身份证号", "户编号", "救助类别", "变动类型", "生效日期", "保障人数", "月保障金额(元)", "救助金额(元)", "审批文号", "备注"}}
	row := func(h homestead, kind, action, date string, covered, monthly, amount, doc, note any) {
		sh.rows = append(sh.rows, []any{len(sh.rows) + 1, h.head().name, h.head().id, h.hh, kind, action, date, covered, monthly, amount, doc, note})
	}
	row(world[2], "农村低保", "纳入", "2020/1/1", len(world[2].members), "420.00", nil, "乾民发〔2020〕10号", nil)
	row(world[3], "农村低保", "纳入", "2020/3/1", len(world[3].members), "620.00", nil, "乾民发〔2020〕12号", nil)
	row(world[7], "农村低保", "纳入", "2020/6/1", len(world[7].members), "620.00", nil, "乾民发〔2020〕15号", nil)
	row(world[7], "农村低保", "退出", "2026-03-31", nil, nil, nil, nil, "家庭收入超过低保标准")
	row(world[4], "临时救助", "纳入", "2026/8/1", nil, nil, "1500", "乾民发〔2026〕8号", "因病临时救助")
	n := len(sh.rows)
	sh.rows = append(sh.rows,
		[]any{n + 1, s.name(), s.id(worldCounty, 1951, false), outside(0), "农村低保", "纳入", "2026-06-01", nil, nil, nil, nil, nil},
		[]any{n + 2, s.name(), s.id(worldCounty, 1952, true), outside(1), "农村低保", "调整", "2026-06-01", 2, "560.345", nil, nil, nil},
		[]any{n + 3, s.name(), s.id(worldCounty, 1953, false), "H610424-12", "农村低保", "纳入", "2026-06-01", 2, "560", nil, nil, nil},
		[]any{n + 4, s.name(), s.id(worldCounty, 1954, true), outside(3), "五保", "纳入", "2026-06-01", 1, "700", nil, nil, nil},
	)
	return sh
}
