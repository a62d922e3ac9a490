package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// chromium returns Debian's chromium (or another Chrome), skipping the test
// with a message when none is installed, failing it under CI, where
// scripts/test.sh installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium: scripts/test.sh installs it (apt-get install -y chromium)")
	}
	t.Skip("no chromium installed (apt-get install -y chromium); the report's browser test is skipped")
	return ""
}

// browse runs headless chromium on url with extra flags and returns what
// it wrote to stdout and the page's console messages from its log.
func browse(t *testing.T, bin, url string, flags ...string) (stdout string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--window-size=1280,3000",
		// The page unpacks its data asynchronously: let it finish (virtual
		// time runs as fast as the page allows, this is no wait).
		"--virtual-time-budget=30000"}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, errb.String())
	}
	for _, l := range strings.Split(errb.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return out.String(), console
}

// readCSV reads a results table as maps from column to value.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func sum(t *testing.T, rows []map[string]string, col string) float64 {
	var s float64
	for _, r := range rows {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("%s %q: %v", col, r[col], err)
		}
		s += v
	}
	return s
}

func cents(v float64) string { return fmt.Sprintf("%.2f", math.Round(v*100)/100+0) }

var (
	figureRE = regexp.MustCompile(`data-figure="(\w+)">([^<]*)<`)
	svgRE    = regexp.MustCompile(`(?s)<svg class="chart"[^>]*aria-label="([^"]*)".*?</svg>`)
	markRE   = regexp.MustCompile(`<(path|rect|polygon|circle)\b[^>]*class="mark[^"]*"[^>]*>`)
	pathRE   = regexp.MustCompile(`\bd="([^"]*)"`)
	widthRE  = regexp.MustCompile(`\bwidth="([\d.]+)"`)
	orderRE  = regexp.MustCompile(`<tr data-order="([^"]+)"`)
)

// drawn says whether a chart's SVG has a mark with extent: a path that
// moves and draws, a rect with width, a polygon or circle.
func drawn(svg string) bool {
	for _, m := range markRE.FindAllStringSubmatch(svg, -1) {
		switch m[1] {
		case "path":
			if d := pathRE.FindStringSubmatch(m[0]); d != nil && strings.ContainsAny(d[1], "HVL") {
				return true
			}
		case "rect":
			if w := widthRE.FindStringSubmatch(m[0]); w != nil {
				if v, _ := strconv.ParseFloat(w[1], 64); v > 0 {
					return true
				}
			}
		default:
			return true
		}
	}
	return false
}

// TestReportInBrowser runs trade backtest --report on the bundled samples
// and on the shared greyhound archive, opens each report in headless
// chromium at the market with the most orders, and checks what a reader
// sees: no console message or script error, every chart drawn, the
// summary's figures equal to markets.csv and orders.csv to the cent, and
// the chosen market's view listing exactly that market's orders.
// Screenshots (the page's top, and the chosen market alone) land in the
// test's temp dir; set TAPEDECK_REPORT_SCREENSHOT to a path to keep the
// greyhound ones (docs/report.png and docs/report-market.png are made so).
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	cases := []struct {
		name, strategy string
		inputs         func(t *testing.T) []string
	}{
		{"samples", "passive-back", func(t *testing.T) []string { return []string{testenv.Testdata(t, "tapes")} }},
		{"greyhounds", "passive-back", func(t *testing.T) []string {
			testenv.Long(t)
			return []string{testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")}
		}},
		// lowest-layer lays in play; these two markets never turn in play.
		{"no orders", "lowest-layer", func(t *testing.T) []string {
			return []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751")}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "report.html")
			cmd := tradecli.NewCommand(strategies.Builtins())
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetArgs(append([]string{"backtest", "--strategy", c.strategy, "-o", dir, "--report", file}, c.inputs(t)...))
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			markets := readCSV(t, filepath.Join(dir, "markets.csv"))
			orders := readCSV(t, filepath.Join(dir, "orders.csv"))
			if len(orders) == 0 {
				// The page must still open cleanly and say so.
				dom, console := browse(t, bin, "file://"+file, "--dump-dom")
				if len(console) > 0 || strings.Contains(dom, "data-errors=") || !strings.Contains(dom, `data-ready="1"`) ||
					!strings.Contains(dom, `data-figure="orders">0<`) || !strings.Contains(dom, "placed no orders") {
					t.Errorf("the report of a run without orders: console %q, errors %s", console,
						regexp.MustCompile(`<div id="errors"[^>]*>[^<]*`).FindString(dom))
				}
				if c.name != "no orders" {
					t.Error("the backtest placed no orders: nothing to see in a report")
				}
				return
			}
			// The market with the most orders, not the worst one the page
			// opens at, so that choosing a market is what is tested.
			count := map[string]int{}
			for _, o := range orders {
				count[o["market_id"]]++
			}
			chosen := ""
			for id, n := range count {
				if chosen == "" || n > count[chosen] || n == count[chosen] && id < chosen {
					chosen = id
				}
			}
			dom, console := browse(t, bin, "file://"+file+"#market="+chosen, "--dump-dom")
			if len(console) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(console, "\n"))
			}
			if strings.Contains(dom, "data-errors=") || !strings.Contains(dom, `data-ready="1"`) {
				t.Errorf("the page's script failed or did not finish: %s", regexp.MustCompile(`<div id="errors"[^>]*>[^<]*`).FindString(dom))
			}

			charts := svgRE.FindAllStringSubmatch(dom, -1)
			runnerCharts := 0
			for _, ch := range charts {
				if !drawn(ch[0]) {
					t.Errorf("chart %q has nothing drawn", ch[1])
				}
				if strings.Contains(ch[1], "in market "+chosen) {
					runnerCharts++
				}
			}
			runners := map[string]bool{}
			for _, o := range orders {
				if o["market_id"] == chosen {
					runners[o["selection_id"]+"/"+o["handicap"]] = true
				}
			}
			if len(charts) < 10 || runnerCharts != len(runners) {
				t.Errorf("%d charts, %d of them of market %s; want 10 or more and one per runner traded there (%d)", len(charts), runnerCharts, chosen, len(runners))
			}

			fig := map[string]string{}
			for _, m := range figureRE.FindAllStringSubmatch(dom, -1) {
				fig[m[1]] = m[2]
			}
			matched := 0
			for _, o := range orders {
				if v, _ := strconv.ParseFloat(o["size_matched"], 64); v > 0 {
					matched++
				}
			}
			want := map[string]string{
				"markets":         strconv.Itoa(len(markets)),
				"orders":          strconv.Itoa(len(orders)),
				"orders_matched":  strconv.Itoa(matched),
				"size_matched":    cents(sum(t, markets, "size_matched")),
				"profit":          cents(sum(t, markets, "profit")),
				"commission":      cents(sum(t, markets, "commission")),
				"net":             cents(sum(t, markets, "net")),
				"strategy_errors": strconv.Itoa(int(sum(t, markets, "strategy_errors"))),
			}
			// The orders table must add up to the same money.
			if a, b := cents(sum(t, orders, "size_matched")), want["size_matched"]; a != b {
				t.Errorf("orders.csv matched %s, markets.csv %s", a, b)
			}
			if a, b := cents(sum(t, orders, "profit")), want["profit"]; a != b {
				t.Errorf("orders.csv profit %s, markets.csv %s", a, b)
			}
			for k, v := range want {
				if fig[k] != v {
					t.Errorf("figure %s: page %q, tables %q", k, fig[k], v)
				}
			}

			view := dom[strings.Index(dom, `id="market-view"`):]
			view = view[:strings.Index(view, `id="market-search"`)]
			if !strings.Contains(view, `data-market="`+chosen+`"`) {
				t.Fatalf("the market view does not show %s", chosen)
			}
			var got, wantOrders []string
			for _, m := range orderRE.FindAllStringSubmatch(view, -1) {
				got = append(got, m[1])
			}
			for _, o := range orders {
				if o["market_id"] == chosen {
					wantOrders = append(wantOrders, chosen+"/"+o["order_id"])
				}
			}
			slices.Sort(got)
			slices.Sort(wantOrders)
			if !slices.Equal(got, wantOrders) {
				t.Errorf("market %s lists orders %v, orders.csv has %v", chosen, got, wantOrders)
			}

			shot := filepath.Join(t.TempDir(), "report.png")
			browse(t, bin, "file://"+file, "--screenshot="+shot, "--hide-scrollbars")
			if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
				t.Fatalf("screenshot %s: %v", shot, err)
			}
			marketShot := filepath.Join(filepath.Dir(shot), "market.png")
			browse(t, bin, "file://"+file+"#market="+chosen+"&focus", "--screenshot="+marketShot, "--hide-scrollbars", "--window-size=1280,1400")
			if st, err := os.Stat(marketShot); err != nil || st.Size() < 10000 {
				t.Fatalf("screenshot %s: %v (a blank page is smaller)", marketShot, err)
			}
			if keep := os.Getenv("TAPEDECK_REPORT_SCREENSHOT"); keep != "" && c.name == "greyhounds" {
				for from, to := range map[string]string{shot: keep, marketShot: strings.TrimSuffix(keep, ".png") + "-market.png"} {
					b, err := os.ReadFile(from)
					if err == nil {
						err = os.WriteFile(to, b, 0o644)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Logf("report %s, screenshot %s", file, shot)
		})
	}
}
