package tradecli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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

	tb, err := openLiveTables(dir, nil)
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
		if err := tb.Market(m, nil); err != nil {
			t.Fatal(err)
		}
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
			if _, err := openLiveTables(dir, nil); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v; want %q", err, c.want)
			}
			if b, _ := os.ReadFile(path); string(b) != c.markets {
				t.Errorf("the file was changed:\n%s", b)
			}
		})
	}
}
