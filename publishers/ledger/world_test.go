package ledger_test

import (
	"math/rand/v2"
	"time"
)

// The example world: the relocated households of one resettlement site of
// 乾县 and their members. Every department's example ledger names them by
// the same ID-card numbers and household ids, as real ledgers of one
// county do, so importing all the ledgers gives a view in which they
// connect: households with labour and someone employed, children of
// school age enrolled, everyone insured, titles registered.
const worldCounty = "610424"

// worldAsOf is the day the example world describes: every date in the
// ledgers is before it, and the pupils' ages and the insurance year are
// reckoned from it.
var worldAsOf = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// resident is a member of a world household.
type resident struct {
	name, id string
	rel      string // 与户主关系: 户主, 配偶, 子, 女, 母亲
	year     int    // birth year
	male     bool
	capacity string // 劳动能力: 有劳动能力, 弱劳动力, 在校生, 无劳动能力
	disabled string // 残疾等级: 无, 二级, ...
}

// labour reports whether the resident counts as labour (R4).
func (r resident) labour() bool {
	return r.capacity == "有劳动能力" || r.capacity == "弱劳动力"
}

// pupil reports whether the resident is of compulsory-school age at
// worldAsOf (born 2011 to 2019).
func (r resident) pupil() bool { return r.capacity == "在校生" && r.year >= 2011 && r.year <= 2019 }

// homestead is a world household.
type homestead struct {
	hh, site  string
	members   []resident // the head first
	poor      bool       // 建档立卡
	relocated time.Time
	township  string
}

func (h homestead) head() resident { return h.members[0] }

func (h homestead) labourCount() int {
	n := 0
	for _, m := range h.members {
		if m.labour() {
			n++
		}
	}
	return n
}

// exampleWorld builds the world deterministically: ten households of site
// S610424-0003, from five family shapes.
func exampleWorld() []homestead {
	s := &synth{rand.New(rand.NewPCG(2026, 3))}
	type shape struct {
		rel, capacity, disabled string
		year                    int
		male                    bool
	}
	shapes := [][]shape{
		{{"户主", "有劳动能力", "无", 1978, true}, {"配偶", "弱劳动力", "无", 1980, false}, {"子", "在校生", "无", 2014, true}, {"女", "在校生", "无", 2017, false}},
		{{"户主", "有劳动能力", "无", 1985, false}, {"配偶", "有劳动能力", "无", 1983, true}, {"子", "在校生", "无", 2012, true}},
		{{"户主", "无劳动能力", "无", 1950, true}, {"配偶", "无劳动能力", "二级", 1953, false}},
		{{"户主", "有劳动能力", "无", 1990, true}, {"母亲", "弱劳动力", "无", 1962, false}, {"女", "在校生", "无", 2019, false}},
		{{"户主", "有劳动能力", "无", 1975, true}, {"子", "在校生", "无", 2011, true}},
	}
	townships := []string{"梁山镇", "阳洪镇", "峰阳镇"}
	var world []homestead
	for i := 0; i < 10; i++ {
		h := homestead{hh: hh(worldCounty, 301+i), site: site(worldCounty, 3), poor: i%3 != 2,
			relocated: day(2019, 10+i%3, 8+i), township: townships[i%len(townships)]}
		for _, sh := range shapes[[]int{0, 1, 2, 3, 4, 0, 1, 3, 0, 1}[i]] {
			year := sh.year + i%2 // neighbours differ by a year
			if sh.capacity == "在校生" && year > 2019 {
				year = 2019
			}
			h.members = append(h.members, resident{name: s.name(), id: s.id(worldCounty, year, sh.male), rel: sh.rel,
				year: year, male: sh.male, capacity: sh.capacity, disabled: sh.disabled})
		}
		world = append(world, h)
	}
	return world
}
