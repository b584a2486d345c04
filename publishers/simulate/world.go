package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/xianyang/anzhi/schemas"
)

// Scales of the simulated world.
const (
	ScaleXianyang = "xianyang" // Xianyang's 14 counties: ≈15k households, ≈50k persons, ≈150 sites
	ScaleShaanxi  = "shaanxi"  // Shaanxi's 10 cities: ≈2.5 million persons
	ScaleNational = "national" // 22 provinces: ≈9.6 million persons in ≈35,000 sites
)

// scale is the size of a world.
type scale struct {
	persons, sites int
}

var scales = map[string]scale{
	ScaleXianyang: {persons: 50_000, sites: 150},
	ScaleShaanxi:  {persons: 2_500_000, sites: 7_500},
	ScaleNational: {persons: 9_600_000, sites: 35_000},
}

// personsPerHousehold is the mean household size.
const personsPerHousehold = 3.3

// county is a county of the world.
type county struct {
	code, name string
	prov       string  // one-character province abbreviation (陕) for certificate numbers
	weight     float64 // share of the relocated population
	persons    int
	sites      []*siteSkel
}

// siteSkel is what is decided about a site before it is generated: enough
// to number households and persons without generating anything.
type siteSkel struct {
	index      int // in the whole world
	county     *county
	serial     int // within the county
	persons    int
	households int
	hhBase     int // serial of the site's first household within the county
	personBase int // counter of the site's first person within the county
}

// xianyangWeights are the shares of relocated persons of Xianyang's counties:
// the mountainous north (旬邑, 淳化, 彬州, 永寿, 长武) moved most people.
var xianyangWeights = map[string]float64{
	"610402": 2, "610403": 1, "610404": 2, "610422": 4, "610423": 5, "610424": 8, "610425": 7,
	"610426": 12, "610428": 10, "610429": 14, "610430": 14, "610431": 4, "610481": 3, "610482": 14,
}

// shaanxiCities: city code, name, counties, relocated persons (10k). Xianyang
// (6104) uses the registry's real counties.
var shaanxiCities = []struct {
	code, name string
	counties   int
	weight     float64
}{
	{"6101", "西安", 13, 5}, {"6102", "铜川", 4, 2}, {"6103", "宝鸡", 12, 10}, {"6104", "咸阳", 14, 5},
	{"6105", "渭南", 11, 9}, {"6106", "延安", 13, 12}, {"6107", "汉中", 11, 47}, {"6108", "榆林", 12, 11},
	{"6109", "安康", 10, 93}, {"6110", "商洛", 7, 40},
}

// provinces: code, abbreviation, relocated persons (10k) — the national
// programme of 2016-2020.
var provinces = []struct {
	code, abbr string
	weight     float64
}{
	{"52", "贵", 192}, {"51", "川", 136}, {"61", "陕", 124}, {"53", "云", 100}, {"42", "鄂", 89},
	{"45", "桂", 71}, {"43", "湘", 69}, {"62", "甘", 50}, {"14", "晋", 47}, {"13", "冀", 30},
	{"54", "藏", 27}, {"41", "豫", 26}, {"50", "渝", 25}, {"65", "新", 16}, {"36", "赣", 13},
	{"15", "蒙", 12}, {"64", "宁", 8}, {"34", "皖", 8}, {"63", "青", 5}, {"22", "吉", 1}, {"23", "黑", 1}, {"46", "琼", 1},
}

// buildCounties lays out the counties of a scale.
func buildCounties(sc string, cat *schemas.Catalog) []*county {
	var out []*county
	xianyang := func(share float64) {
		for _, k := range cat.Counties() {
			out = append(out, &county{code: k.Code, name: k.Name, prov: "陕", weight: share * xianyangWeights[k.Code] / 100})
		}
	}
	switch sc {
	case ScaleXianyang:
		xianyang(1)
	case ScaleShaanxi:
		total := 0.0
		for _, c := range shaanxiCities {
			total += c.weight
		}
		for _, c := range shaanxiCities {
			if c.code == "6104" {
				xianyang(c.weight / total)
				continue
			}
			for i := 0; i < c.counties; i++ {
				code := fmt.Sprintf("%s%02d", c.code, 21+i)
				out = append(out, &county{code: code, name: c.name + "市" + code, prov: "陕", weight: c.weight / total / float64(c.counties)})
			}
		}
	case ScaleNational:
		total := 0.0
		for _, p := range provinces {
			total += p.weight
		}
		// About one county for every 10,000 relocated persons, at least 2.
		for _, p := range provinces {
			n := max(2, int(math.Round(p.weight)))
			for i := 0; i < n; i++ {
				code := fmt.Sprintf("%s%02d%02d", p.code, 1+i/12, 21+i%12)
				out = append(out, &county{code: code, name: p.abbr + "县" + code, prov: p.abbr, weight: p.weight / total / float64(n)})
			}
		}
	}
	return out
}

// apportion splits total into len(weights) whole parts by largest remainder.
func apportion(total int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	parts := make([]int, len(weights))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		parts[i] = int(exact)
		given += parts[i]
		rems[i] = rem{i, exact - float64(parts[i])}
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return a.i - b.i
	})
	for k := 0; given < total; k++ {
		parts[rems[k%len(rems)].i]++
		given++
	}
	return parts
}

// buildSites decides every site's county, size and numbering. Sizes are
// log-normal (many small sites, a few of more than 800 persons and 300
// households), scaled so that each county has its share of the persons.
func buildSites(counties []*county, persons, sites int, rng *rand.Rand) []*siteSkel {
	weights := make([]float64, len(counties))
	for i, c := range counties {
		weights[i] = c.weight
	}
	perCounty := apportion(persons, weights)
	sitesPer := apportion(sites, weights)
	var all []*siteSkel
	for i, c := range counties {
		c.persons = perCounty[i]
		n := min(max(1, sitesPer[i]), max(1, c.persons/8))
		if c.persons == 0 {
			continue
		}
		raw := make([]float64, n)
		sum := 0.0
		for j := range raw {
			raw[j] = math.Exp(1.05 * rng.NormFloat64())
			sum += raw[j]
		}
		floor := min(8, c.persons/n)
		sizes := make([]float64, n)
		for j := range raw {
			sizes[j] = float64(floor) + raw[j]/sum*float64(c.persons-floor*n)
		}
		counts := apportion(c.persons, sizes)
		hh, pb := 1, 0
		for _, p := range counts {
			if p == 0 {
				continue
			}
			s := &siteSkel{index: len(all), county: c, serial: len(c.sites) + 1, persons: p,
				households: max(1, min(p, int(math.Round(float64(p)/personsPerHousehold)))), hhBase: hh, personBase: pb}
			hh += s.households
			pb += p
			c.sites = append(c.sites, s)
			all = append(all, s)
		}
	}
	return all
}

// townships are made-up township names for sites and origins.
var townships = []string{"城关街道", "峰阳镇", "马栏镇", "监军街道", "巨家镇", "太峪镇", "土桥镇", "张洪镇", "职田镇", "底庙镇",
	"常宁镇", "店头镇", "亭口镇", "北极镇", "永乐镇", "阳峪镇", "新民镇", "安吴镇", "城隍镇", "方里镇", "东庄镇", "赵镇"}

// siteID is the id of a site: S + county + '-' + serial.
func (s *siteSkel) id() string { return fmt.Sprintf("S%s-%04d", s.county.code, s.serial) }

// householdID is the id of the n-th household of a county.
func householdID(countyCode string, n int) string { return fmt.Sprintf("H%s-%06d", countyCode, n) }
