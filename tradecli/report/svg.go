package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// The charts are SVG written here, so the report needs no script to show
// them and no charting library to vet (docs/architecture.md says why). Each
// chart is an <svg class="chart"> whose drawn marks have class "mark"; a
// chart with nothing to draw is not made at all, the page says so instead.

const (
	chartW = 720
	chartH = 220
	padL   = 64
	padR   = 12
	padT   = 12
	padB   = 26
)

// series is one line of a line chart; area fills between it and zero.
type series struct {
	ys    []float64
	class string
	area  bool
}

// lineChart draws series over times xs (epoch ms) with a zero line, the
// y range's ends labelled and the first and last time on the x axis.
func lineChart(label string, xs []int64, ss ...series) template.HTML {
	if len(xs) == 0 {
		return ""
	}
	x0, x1 := float64(xs[0]), float64(xs[len(xs)-1])
	if x1 == x0 {
		x0, x1 = x0-1, x1+1
	}
	lo, hi := 0.0, 0.0
	for _, s := range ss {
		for _, y := range s.ys {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	px := func(x float64) float64 { return padL + (x-x0)/(x1-x0)*(chartW-padL-padR) }
	py := func(y float64) float64 { return padT + (hi-y)/(hi-lo)*(chartH-padT-padB) }
	var b strings.Builder
	open(&b, label)
	axes(&b, py(0), fmt.Sprintf("%.2f", hi), fmt.Sprintf("%.2f", lo), stamp(xs[0]), stamp(xs[len(xs)-1]))
	for _, s := range ss {
		var d strings.Builder
		for i, y := range s.ys {
			// A step line: the value holds until the next market settles.
			if i == 0 {
				fmt.Fprintf(&d, "M%.1f %.1f", px(float64(xs[0])), py(0))
			}
			fmt.Fprintf(&d, "V%.1fH%.1f", py(y), px(float64(xs[min(i+1, len(xs)-1)])))
		}
		path := d.String()
		if s.area {
			path += fmt.Sprintf("V%.1fZ", py(0))
		}
		fmt.Fprintf(&b, `<path class="mark %s" d="%s"/>`, s.class, path)
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// barChart draws one horizontal bar per label, signed, labelled with its
// value.
func barChart(label string, labels []string, vals []float64) template.HTML {
	if len(labels) == 0 {
		return ""
	}
	const row = 22
	h := padT + row*len(labels) + 8
	lo, hi := 0.0, 0.0
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		hi = lo + 1
	}
	const left = 180
	px := func(v float64) float64 { return left + (v-lo)/(hi-lo)*(chartW-left-90) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d">`,
		template.HTMLEscapeString(label), chartW, h, chartW, h)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, px(0), px(0), padT-4, h-4)
	for i, l := range labels {
		y := padT + i*row
		x0, x1 := px(0), px(vals[i])
		cls := "pos"
		if vals[i] < 0 {
			cls, x0, x1 = "neg", x1, x0
		}
		// A zero value still gets a hairline, so every bar is drawn.
		fmt.Fprintf(&b, `<text class="lab" x="%d" y="%d">%s</text><rect class="mark %s" x="%.1f" y="%d" width="%.1f" height="%d"/><text class="val" x="%.1f" y="%d">%s</text>`,
			left-6, y+15, template.HTMLEscapeString(clip(l, 26)), cls, x0, y+3, math.Max(x1-x0, 1), row-6,
			math.Max(px(0), px(vals[i]))+4, y+15, num(vals[i]))
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// columnChart draws one vertical bar per label (counts per day, a
// histogram).
func columnChart(label string, labels []string, vals []float64) template.HTML {
	if len(labels) == 0 {
		return ""
	}
	hi := 0.0
	for _, v := range vals {
		hi = math.Max(hi, v)
	}
	if hi == 0 {
		hi = 1
	}
	w := float64(chartW-padL-padR) / float64(len(labels))
	py := func(y float64) float64 { return padT + (hi-y)/hi*(chartH-padT-padB) }
	var b strings.Builder
	open(&b, label)
	axes(&b, py(0), num(hi), "0", "", "")
	for i, v := range vals {
		x := padL + float64(i)*w
		fmt.Fprintf(&b, `<rect class="mark col" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
			x+w*0.1, py(v)-0.5, w*0.8, py(0)-py(v)+0.5, template.HTMLEscapeString(labels[i]), num(v))
		if len(labels) <= 16 || i%((len(labels)+15)/16) == 0 {
			fmt.Fprintf(&b, `<text class="lab x" x="%.1f" y="%d">%s</text>`, x+w/2, chartH-8, template.HTMLEscapeString(labels[i]))
		}
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

func open(b *strings.Builder, label string) {
	fmt.Fprintf(b, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d">`,
		template.HTMLEscapeString(label), chartW, chartH, chartW, chartH)
}

// axes draws the frame, the zero line at y0 and the end labels.
func axes(b *strings.Builder, y0 float64, top, bottom, left, right string) {
	fmt.Fprintf(b, `<rect class="frame" x="%d" y="%d" width="%d" height="%d"/>`, padL, padT, chartW-padL-padR, chartH-padT-padB)
	fmt.Fprintf(b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y0, y0)
	fmt.Fprintf(b, `<text class="lab" x="%d" y="%d">%s</text>`, padL-6, padT+10, top)
	fmt.Fprintf(b, `<text class="lab" x="%d" y="%d">%s</text>`, padL-6, chartH-padB, bottom)
	if left != "" {
		fmt.Fprintf(b, `<text class="lab x0" x="%d" y="%d">%s</text>`, padL, chartH-8, left)
		fmt.Fprintf(b, `<text class="lab x1" x="%d" y="%d">%s</text>`, chartW-padR, chartH-8, right)
	}
}

// stamp formats epoch ms as a UTC minute.
func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04Z") }

// num formats a value with two decimals, or none when it is whole.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return money(v)
}

// money formats an amount to the cent, as the summary prints it.
func money(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func itoa(i int64) string { return fmt.Sprint(i) }
