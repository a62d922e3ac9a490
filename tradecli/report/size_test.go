package report_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
	"github.com/tapedeck/tapedeck/tradecli/report"
)

// greyhoundRun runs trade backtest --report on the shared greyhound
// archive and loads its results directory.
func greyhoundRun(tb testing.TB) *report.Data {
	tb.Helper()
	tar := testenv.Shared(tb, "data/historic/pro-greyhounds-2022-03-01.tar")
	dir := tb.TempDir()
	cmd := tradecli.NewCommand(strategies.Builtins())
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"backtest", "--strategy", "passive-back", "-o", dir, "--report", filepath.Join(dir, "report.html"), tar})
	if err := cmd.Execute(); err != nil {
		tb.Fatal(err)
	}
	d, err := report.Load(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// scale makes a run of at least n markets from d's real ones: copies with
// new market ids, each copy a day later, its prices moved up to a tick
// and its times stretched by up to 5% at random, so that no copy compresses
// against another better than different markets would.
func scale(d *report.Data, n int) *report.Data {
	// Sized up front: growing the price rows (millions) by appending cost
	// the test most of its time in copying and in the collector.
	copies := (n + len(d.Markets) - 1) / len(d.Markets)
	out := &report.Data{Run: d.Run,
		Markets: make([]report.Market, 0, copies*len(d.Markets)), Orders: make([]report.Order, 0, copies*len(d.Orders)),
		Info: make([]report.MarketInfo, 0, copies*len(d.Info)), Prices: make([]report.PriceRow, 0, copies*len(d.Prices)),
		Fills: make([]report.FillRow, 0, copies*len(d.Fills))}
	rnd := rand.New(rand.NewPCG(1, 2))
	jitter := func(p float64) float64 {
		if i, ok := book.Tick(p); ok {
			return book.PriceAt(min(max(i+rnd.IntN(3)-1, 0), book.NumTicks-1))
		}
		return p
	}
	for k := 0; len(out.Markets) < n; k++ {
		// The copy's number leads the id, so the copies' rows stay in the
		// order Recorder.Write gives a real run's (by market, runner,
		// time) and Render takes them as they are, as it does a real
		// run's.
		id := func(s string) string { return fmt.Sprintf("1.%05d%s", k, strings.TrimPrefix(s, "1.")) }
		shift := int64(k) * (24 * time.Hour).Milliseconds()
		stretch := rnd.Float64() / 20 // keeps each runner's times in order
		at := func(t int64) int64 {
			if t == 0 {
				return 0
			}
			return t + shift
		}
		for _, m := range d.Markets {
			m.MarketID = id(m.MarketID)
			out.Markets = append(out.Markets, m)
		}
		for _, o := range d.Orders {
			o.MarketID, o.PlacedAt = id(o.MarketID), at(o.PlacedAt)
			out.Orders = append(out.Orders, o)
		}
		for _, in := range d.Info {
			in.MarketID = id(in.MarketID)
			in.MarketTime, in.FirstAt, in.OffAt, in.SettledAt, in.LastAt = at(in.MarketTime), at(in.FirstAt), at(in.OffAt), at(in.SettledAt), at(in.LastAt)
			out.Info = append(out.Info, in)
		}
		for _, p := range d.Prices {
			p.MarketID, p.At = id(p.MarketID), at(p.At)+int64(float64(p.At-d.Prices[0].At)*stretch)
			p.Back, p.Lay, p.LTP = jitter(p.Back), jitter(p.Lay), jitter(p.LTP)
			out.Prices = append(out.Prices, p)
		}
		for _, f := range d.Fills {
			f.MarketID, f.At = id(f.MarketID), at(f.At)
			out.Fills = append(out.Fills, f)
		}
	}
	return out
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// TestReportSize checks the bound: the report of a 10,000-market
// run stays under 20 MB. The run is the greyhound archive's real backtest
// (five orders a market, on as many runners) copied to 10,000 markets.
// Set TAPEDECK_REPORT_10K to a path to keep the page (to time its opening).
func TestReportSize(t *testing.T) {
	testenv.Long(t) // renders a 10,000-market report from the greyhound archive
	d := scale(greyhoundRun(t), 10_000)
	var n counter
	if err := report.Render(&n, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d markets, %d orders, %d price points: %.1f MB", len(d.Markets), len(d.Orders), len(d.Prices), float64(n)/1e6)
	if n >= 20_000_000 {
		t.Errorf("a %d-market report is %d bytes, over 20 MB", len(d.Markets), n)
	}
	if keep := os.Getenv("TAPEDECK_REPORT_10K"); keep != "" {
		if err := report.WriteHTML(d, keep); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkRender10000 renders the 10,000-market report of TestReportSize.
func BenchmarkRender10000(b *testing.B) {
	d := scale(greyhoundRun(b), 10_000)
	var n counter
	for b.Loop() {
		n = 0
		if err := report.Render(&n, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/1e6, "MB")
}
