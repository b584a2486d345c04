package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The printable page: A4, a page a section, each ledger a table whose
// header repeats on every printed page, the charts as inline SVG. It
// loads nothing: no script, no font, no image from anywhere.

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"text":    Text,
	"numeric": numeric,
	"chart":   chartSVG,
	"quarter": QuarterName,
	"wide":    func(t *Table) bool { return len(t.Header) > 11 },
	"inc":     func(i int) int { return i + 1 },
	"short":   func(c any) bool { s, ok := c.(string); return ok && utf8.RuneCountInString(s) <= 8 },
}).Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{quarter .Quarter}}</title>
<style>
@page { size: A4; margin: 14mm 10mm 14mm 10mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif;
  font-size: 10pt; color: #111; margin: 0 auto; max-width: 190mm; line-height: 1.45; }
h1 { font-size: 17pt; margin: 8mm 0 2mm; }
h2 { font-size: 13pt; border-bottom: 2px solid #345; padding-bottom: 1mm; margin: 0 0 3mm; }
h3 { font-size: 10.5pt; margin: 5mm 0 1.5mm; }
p.quarter { font-size: 13pt; margin: 0 0 5mm; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; }
table.wide { font-size: 6.5pt; }
th, td { border: 1px solid #999; padding: 1px 3px; vertical-align: top; }
th { background: #dde4ee; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.short { white-space: nowrap; }
td.none { text-align: center; color: #666; }
table.facts { width: auto; font-size: 10pt; margin-bottom: 5mm; }
table.facts th { text-align: left; width: 22mm; }
p.summary { margin: 1mm 0; }
p.note { font-size: 7.5pt; color: #444; margin: 1mm 0 3mm; }
figure { margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 9pt; font-weight: bold; }
section { break-before: page; page-break-before: always; padding-top: 2mm; }
@media print { nav a { color: inherit; text-decoration: none; } }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="quarter">{{quarter .Quarter}}</p>
<table class="facts">
{{- range slice .Facts 1}}
<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{- end}}
</table>
<nav><ol>
{{- range $i, $s := .Sections}}
<li><a href="#s{{inc $i}}">{{$s.Title}}</a></li>
{{- end}}
</ol></nav>
</header>
{{- range $i, $s := .Sections}}
<section id="s{{inc $i}}">
<h2>{{$s.Title}}</h2>
{{- range $s.Summary}}
<p class="summary">{{.}}</p>
{{- end}}
{{- range $s.Charts}}
<figure><figcaption>{{.Title}}</figcaption>{{chart .}}</figure>
{{- end}}
{{- range $s.Tables}}
<h3>{{.Title}}</h3>
<table class="ledger{{if wide .}} wide{{end}}" data-sheet="{{.Sheet}}">
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- $n := len .Header}}
{{- range .Rows}}
<tr>{{range .}}<td{{if numeric .}} class="num"{{else if short .}} class="short"{{end}}>{{text .}}</td>{{end}}</tr>
{{- else}}
<tr><td class="none" colspan="{{$n}}">无</td></tr>
{{- end}}
</tbody>
</table>
{{- if .Note}}
<p class="note">说明: {{.Note}}</p>
{{- end}}
{{- end}}
</section>
{{- end}}
</body>
</html>
`))

// WriteHTML writes the report as a printable page.
func (r *Report) WriteHTML(w io.Writer) error {
	return pageTemplate.Execute(w, r)
}

// Colours of the charts' bars by grade.
var barColours = map[string]string{"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "": "#4a6fa5"}

// chartSVG draws a chart as horizontal bars, one a label, in inline SVG.
func chartSVG(c Chart) template.HTML {
	if len(c.Bars) == 0 {
		return template.HTML(`<p class="note">无数据</p>`)
	}
	const (
		width, valueW, rowH, top = 680, 90, 18, 6
	)
	// The labels' column is as wide as the widest label (11 px a wide
	// character, 6 a narrow one), within limits.
	labelW := 60
	for _, b := range c.Bars {
		labelW = max(labelW, min(textWidth(b.Label)*6+12, 300))
	}
	barW := float64(width - labelW - valueW)
	scale := 0.0
	for _, b := range c.Bars {
		scale = math.Max(scale, b.Value)
	}
	if c.Rate {
		scale = math.Max(scale, math.Max(c.Target, 1))
	}
	if scale <= 0 {
		scale = 1
	}
	height := top*2 + rowH*len(c.Bars)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="100%%" viewBox="0 0 %d %d" role="img" aria-label="%s" font-size="11">`,
		width, height, template.HTMLEscapeString(c.Title))
	for i, b := range c.Bars {
		y := top + i*rowH
		w := barW * math.Max(b.Value, 0) / scale
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+13, template.HTMLEscapeString(b.Label))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%s" height="%d" fill="%s"/>`, labelW, y+3, num(w), rowH-6, barColours[b.Grade])
		value := barValue(c, b.Value)
		if b.Note != "" {
			value = b.Note
		}
		fmt.Fprintf(&s, `<text x="%s" y="%d">%s</text>`, num(float64(labelW)+w+4), y+13, template.HTMLEscapeString(value))
	}
	if c.Rate && c.Target > 0 {
		x := float64(labelW) + barW*c.Target/scale
		fmt.Fprintf(&s, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#333" stroke-dasharray="3,2"/>`, num(x), top, num(x), height-top)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// barValue writes a bar's value as its table writes it.
func barValue(c Chart, v float64) string {
	switch {
	case c.Rate:
		return Text(Rate(v))
	case c.Money:
		return Text(Yuan(math.Round(v * 100)))
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return Text(int64(v))
	}
	return Text(Points(v))
}

// num writes a coordinate with one decimal.
func num(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
