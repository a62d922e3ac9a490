package tradecli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// openLiveTables keeps what a killed run left: its finished markets (the
// markets.csv rows), their orders, and nothing cut off: a torn last line,
// or the orders of a market whose row was never written. A market written
// again by the new run is not written twice; the final files hold both
// runs' markets.
func TestLiveTablesKeepEarlierRun(t *testing.T) {
	dir := t.TempDir()
	header := func(h []string) string { return strings.Join(h, ",") + "\n" }
	order := func(market, ref string) string {
		return market + ",7,0,passive-back,1," + ref + ",BACK,LIMIT,LAPSE,2.5,2,0,2022-04-19T18:00:00.123Z,EXECUTION_COMPLETE,,,2,2.5,0,0,0,WINNER,3,0\n"
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// 1.1 finished (orders, then its row); 1.2's orders were written but
	// the crash came before its row, in the middle of a line.
	write("orders.csv", header(orderHeader)+order("1.1", "a")+order("1.2", "b")+"1.2,7,0,passive")
	write("markets.csv", header(marketHeader)+"1.1,31,WIN,CLOSED,166,1,1,2,3,0.15,2.85,0\n1.2,31,WI")

	tb, err := openLiveTables(dir, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tb.carried != 1 || tb.totals.Markets != 1 || tb.totals.Net != 2.85 {
		t.Errorf("carried %d markets, totals %+v; want the one finished market", tb.carried, tb.totals)
	}
	// The files as they stand now: the torn lines and the unfinished
	// market's order are gone.
	for name, want := range map[string]string{
		"orders.csv":  header(orderHeader) + order("1.1", "a"),
		"markets.csv": header(marketHeader) + "1.1,31,WIN,CLOSED,166,1,1,2,3,0.15,2.85,0\n",
	} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want {
			t.Errorf("%s after open:\n%s\nwant\n%s", name, b, want)
		}
	}
	// 1.1 again (the new run saw it close too): not written twice; 1.3 is.
	for _, m := range []engine.MarketResult{{MarketID: "1.1", Status: esa.MarketClosed}, {MarketID: "1.3", EventID: "32", MarketType: "PLACE", Status: esa.MarketClosed, Updates: 9}} {
		tb.Market(m, nil)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "markets.csv")); !strings.HasSuffix(string(b), "1.3,32,PLACE,CLOSED,9,0,0,0,0,0,0,0\n") {
		t.Errorf("markets.csv during the run:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "markets.parquet")); err == nil {
		t.Error("markets.parquet exists before the run's end")
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	markets, err := readRows[MarketRow](filepath.Join(dir, "markets.csv"), marketHeader)
	if err != nil || len(markets) != 2 || markets[0].MarketID != "1.1" || markets[1].MarketID != "1.3" {
		t.Errorf("final markets.csv: %+v, %v", markets, err)
	}
	orders, err := readRows[OrderRow](filepath.Join(dir, "orders.csv"), orderHeader)
	if err != nil || len(orders) != 1 || orders[0].CustomerRef != "a" || orders[0].PlacedAt != 1650391200123 {
		t.Errorf("final orders.csv: %+v, %v", orders, err)
	}
	for _, f := range []string{"orders.parquet", "markets.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A file that is not trade's results is an error naming it and the line,
// never overwritten.
func TestLiveTablesRefuseOtherFiles(t *testing.T) {
	for _, c := range []struct{ name, markets, want string }{
		{"another header", "id,name\n1,x\n", "markets.csv: line 1: the header is not trade's"},
		{"a bad number", strings.Join(marketHeader, ",") + "\n1.1,31,WIN,CLOSED,many,1,1,2,3,0.15,2.85,0\n", "markets.csv: line 2: column updates"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "markets.csv")
			if err := os.WriteFile(path, []byte(c.markets), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := openLiveTables(dir, nil, 1); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v; want %q", err, c.want)
			}
			if b, _ := os.ReadFile(path); string(b) != c.markets {
				t.Errorf("the file was changed:\n%s", b)
			}
		})
	}
}

// A run of several strategies writes a market once its last instance is
// handed over, all instances' rows in one write (markets.csv has no
// strategy column: a kill between two instances' rows would leave a market
// that looks whole and is not).
func TestLiveTablesWriteAMarketWhole(t *testing.T) {
	dir := t.TempDir()
	tb, err := openLiveTables(dir, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	lines := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "markets.csv"))
		return strings.Count(string(b), "\n")
	}
	for _, c := range []struct {
		m    engine.MarketResult
		want int // markets.csv's lines after it, header included
	}{
		{engine.MarketResult{Slot: 0, MarketID: "1.1", Status: esa.MarketClosed}, 1},
		{engine.MarketResult{Slot: 1, MarketID: "1.1", Status: esa.MarketClosed}, 3},
		{engine.MarketResult{Slot: 0, MarketID: "1.2", Status: esa.MarketClosed}, 3},
		{engine.MarketResult{Slot: 1, MarketID: "1.2", Status: esa.MarketClosed}, 5},
	} {
		tb.Market(c.m, nil)
		if got := lines(); got != c.want {
			t.Errorf("after %s slot %d: markets.csv has %d lines, want %d", c.m.MarketID, c.m.Slot, got, c.want)
		}
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	// Started again, both markets are the earlier run's: neither instance
	// writes them again, and the summary counts markets, not rows.
	tb, err = openLiveTables(dir, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if tb.carried != 2 || tb.totals.Markets != 4 {
		t.Errorf("carried %d markets, %d market rows; want 2 and 4", tb.carried, tb.totals.Markets)
	}
	for slot := range 2 {
		tb.Market(engine.MarketResult{Slot: slot, MarketID: "1.2", Status: esa.MarketClosed}, nil)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if got := lines(); got != 5 || tb.skipped != 1 {
		t.Errorf("markets.csv has %d lines, %d markets skipped; want 5 and 1", got, tb.skipped)
	}
}

// A write that fails (here the file is closed under the writer, as a full
// disk would fail it) does not stop the run or lose a row: that market
// and the later ones are held and written by Close, each once.
func TestLiveTablesHoldAfterAFailedWrite(t *testing.T) {
	dir := t.TempDir()
	tb, err := openLiveTables(dir, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"1.1", "1.2", "1.3"}
	tb.Market(engine.MarketResult{MarketID: ids[0], Status: esa.MarketClosed}, nil)
	tb.markets.f.Close()
	for _, id := range ids[1:] {
		tb.Market(engine.MarketResult{MarketID: id, Status: esa.MarketClosed}, nil)
	}
	if tb.failed == nil || len(tb.held.markets) != 2 {
		t.Fatalf("failed %v, %d markets held; want a failure and 2", tb.failed, len(tb.held.markets))
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"markets.csv", "markets.parquet"} {
		var got []string
		if name == "markets.csv" {
			rows, err := readRows[MarketRow](filepath.Join(dir, name), marketHeader)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				got = append(got, r.MarketID)
			}
		} else {
			rows, err := parquet.ReadFile[MarketRow](filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				got = append(got, r.MarketID)
			}
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s holds markets %v, want %v", name, got, ids)
		}
	}
}
