package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xianyang/anzhi/idcard"
)

// errEmpty marks an empty cell.
var errEmpty = errors.New("empty")

var (
	reDate    = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$`)
	reCompact = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	reSerial  = regexp.MustCompile(`^\d{1,6}(?:\.\d+)?$`)
	reAmount  = regexp.MustCompile(`^\d+(?:\.\d+)?$`)
)

// excelEpoch is day 0 of Excel's 1900 date system as spreadsheets compute
// it (serial 60 is the fictitious 1900-02-29, so later serials count from
// 1899-12-30).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// parseDate reads a date as ledgers write it: 2020-09-01, 2020/9/1,
// 2020.9.1, 2020年9月1日, 20200901, with an optional time of day, or an
// Excel serial date. It returns YYYY-MM-DD.
func parseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	var y, m, d int
	switch {
	case reDate.MatchString(s):
		p := reDate.FindStringSubmatch(s)
		y, _ = strconv.Atoi(p[1])
		m, _ = strconv.Atoi(p[2])
		d, _ = strconv.Atoi(p[3])
	case reCompact.MatchString(s):
		p := reCompact.FindStringSubmatch(s)
		y, _ = strconv.Atoi(p[1])
		m, _ = strconv.Atoi(p[2])
		d, _ = strconv.Atoi(p[3])
	case reSerial.MatchString(s):
		f, _ := strconv.ParseFloat(s, 64)
		if f < 1 || f > 2958465 {
			return "", fmt.Errorf("%q is not a date", s)
		}
		days := int(math.Floor(f))
		if days < 60 {
			days++ // before the fictitious 1900-02-29
		}
		return excelEpoch.AddDate(0, 0, days).Format(time.DateOnly), nil
	default:
		return "", fmt.Errorf("%q is not a date (write 2020-09-01, 2020/9/1 or 2020年9月1日)", s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || t.Day() != d || y < 1900 || y > 2100 {
		return "", fmt.Errorf("%q is not a valid date", s)
	}
	return t.Format(time.DateOnly), nil
}

// parseInt reads an integer (3, 3.0, "3 人").
func parseInt(s string) (int64, error) {
	t := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), "人户个名岁年级"))
	t = strings.ReplaceAll(t, ",", "")
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return int64(f), nil
	}
	return 0, fmt.Errorf("%q is not a whole number", s)
}

// parseYear reads a year (2020, 2020年) or the year of a date.
func parseYear(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if len(t) >= 4 && len(t) <= 7 && !strings.ContainsAny(t, "-/.") {
		if n, err := parseInt(t); err == nil && n >= 1900 && n <= 2100 {
			return n, nil
		}
	}
	switch {
	case strings.HasSuffix(t, "月"):
		t += "1日" // a month: 1978年5月
	case len(t) >= 6 && strings.Count(t, "-")+strings.Count(t, "/")+strings.Count(t, ".") == 1:
		t += "-01" // a month: 1978-05
	}
	d, err := parseDate(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a year or a date", s)
	}
	n, _ := strconv.ParseInt(d[:4], 10, 64)
	return n, nil
}

// parseAmount reads an amount of yuan (1,234.50, ¥1234.5, 1234.5元) as a
// JSON number with at most two decimals, exactly as written.
func parseAmount(s string) (json.Number, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "¥"), "¥")
	t = strings.TrimSpace(strings.TrimSuffix(t, "元"))
	t = strings.ReplaceAll(t, ",", "")
	if !reAmount.MatchString(t) {
		// Spreadsheets store 0.1+0.2 as 0.30000000000000004: round
		// binary noise, but not a real third decimal.
		if f, err := strconv.ParseFloat(t, 64); err == nil && f >= 0 {
			r := math.Round(f*100) / 100
			if math.Abs(f-r) < 1e-9 {
				return json.Number(strconv.FormatFloat(r, 'f', -1, 64)), nil
			}
		}
		return "", fmt.Errorf("%q is not an amount of yuan", s)
	}
	if _, frac, ok := strings.Cut(t, "."); ok && len(strings.TrimRight(frac, "0")) > 2 {
		f, _ := strconv.ParseFloat(t, 64)
		r := math.Round(f*100) / 100
		if math.Abs(f-r) >= 1e-9 {
			return "", fmt.Errorf("%q has more than two decimals", s)
		}
		return json.Number(strconv.FormatFloat(r, 'f', -1, 64)), nil
	}
	t = strings.TrimLeft(t, "0")
	if t == "" || t[0] == '.' {
		t = "0" + t
	}
	return json.Number(t), nil
}

// boolLabels are the labels a bool column accepts without a values map.
var boolLabels = map[string]bool{
	"是": true, "否": false, "有": true, "无": false, "y": true, "n": false, "yes": true, "no": false,
	"true": true, "false": false, "1": true, "0": false, "√": true, "×": false, "✓": true, "✗": false,
	"合格": true, "不合格": false,
}

// parseBool reads a bool with the column's labels, then the common ones.
func parseBool(s string, labels map[string]any) (bool, error) {
	t := strings.TrimSpace(s)
	if v, ok := labels[t]; ok {
		return v.(bool), nil
	}
	if v, ok := boolLabels[strings.ToLower(t)]; ok {
		return v, nil
	}
	return false, fmt.Errorf("%q is not 是 or 否", s)
}

// parseEnum maps a label to its value; the values themselves are accepted.
func parseEnum(s string, labels map[string]any) (any, error) {
	t := strings.TrimSpace(s)
	if v, ok := labels[t]; ok {
		return v, nil
	}
	var allowed []string
	for label, v := range labels {
		allowed = append(allowed, label)
		if fmt.Sprint(v) == t {
			return v, nil
		}
	}
	slices.Sort(allowed)
	return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, "、"))
}

// readCell converts one cell of a column. The error is for the report: it
// never holds a raw ID-card number.
func (imp *importer) readCell(c *Column, raw string) (any, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errEmpty
	}
	if c.Role == RoleIDNumber {
		return imp.personKey(s)
	}
	switch c.Type {
	case TypeDate:
		return parseDate(s)
	case TypeInt:
		return parseInt(s)
	case TypeYear:
		return parseYear(s)
	case TypeAmount:
		return parseAmount(s)
	case TypeBool:
		return parseBool(s, c.Values)
	case TypeEnum:
		return parseEnum(s, c.Values)
	}
	if idcard.Contains([]byte(s)) {
		return nil, fmt.Errorf("holds an ID-card number (%s); ID numbers are never published", maskAll(s))
	}
	return s, nil
}

// personKey checks an ID-card number and returns its person key.
func (imp *importer) personKey(s string) (string, error) {
	n := idcard.Normalize(s)
	if strings.ContainsAny(n, "eE.+") {
		return "", fmt.Errorf("ID-card number %s was stored as a number and lost digits; format the column as text", idcard.Mask(n))
	}
	if err := idcard.Check(n); err != nil {
		return "", fmt.Errorf("ID-card number %s: %w", idcard.Mask(n), err)
	}
	return idcard.PersonKey(imp.key, n)
}

// maskAll masks every ID-card number in s.
func maskAll(s string) string {
	b, _ := idcard.Redact([]byte(s))
	return string(b)
}
