package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
)

//go:embed report.html.tmpl
var pageTemplate string

//go:embed report.css
var pageCSS string

//go:embed report.js
var pageJS string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"money": money,
	"stamp": func(ms int64) string {
		if ms == 0 {
			return ""
		}
		return stamp(ms)
	},
}).Parse(pageTemplate))

// Render writes d's report: one self-contained HTML page (styles, script
// and data inside; no network needed to open it).
func Render(w io.Writer, d *Data) error {
	p := page{Title: "strategy report", Run: d.Run, Figures: figures(d), Recorded: d.Info != nil,
		Breakdowns: breakdowns(d), Fill: fills(d), CSS: template.CSS(pageCSS), Script: template.JS(pageJS)}
	if d.Run != nil && d.Run.Strategy != "" {
		p.Title = d.Run.Strategy + " — strategy report"
	}
	pnl(&p, d, settleTimes(d))
	p.Best, p.Worst = bestWorst(d, 5)
	js, err := dataJSON(d)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// The data travels gzipped and base64-encoded, which the browser's
	// DecompressionStream undoes: a fifth of the bytes of the JSON, so a
	// 10,000-market report stays well under 20 MB.
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.DefaultCompression)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if _, err := zw.Write(js); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	p.Data = template.HTML(base64.StdEncoding.EncodeToString(z.Bytes()))
	if err := tmpl.Execute(w, &p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteFile renders the report of results directory dir into file path,
// which appears only when whole.
func WriteFile(dir, path string) error {
	d, err := Load(dir)
	if err != nil {
		return err
	}
	return WriteHTML(d, path)
}

// WriteHTML renders d's report into file path, which appears only when
// whole.
func WriteHTML(d *Data, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := Render(tmp, d); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}
