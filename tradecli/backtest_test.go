package tradecli_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// TestBacktestCommand runs trade backtest on the recorded streams and reads
// both tables back, from CSV and from Parquet, against flumine's totals.
func TestBacktestCommand(t *testing.T) {
	out := t.TempDir()
	cmd := tradecli.BacktestCommand(strategies.Builtins())
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"--strategy", "passive-back", "-o", out, "--workers", "1",
		testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"markets         2", "orders          12 (10 matched", "profit          39.30", "commission      1.97", "net             37.33"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	orders, err := parquet.ReadFile[tradecli.OrderRow](filepath.Join(out, "orders.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	markets, err := parquet.ReadFile[tradecli.MarketRow](filepath.Join(out, "markets.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 12 || len(markets) != 2 {
		t.Fatalf("%d orders, %d markets", len(orders), len(markets))
	}
	if o := orders[0]; o.MarketID != "1.197931750" || o.SelectionID != 44331354 || o.Price != 75 || o.QueueAheadAtPlace != 6.59 || o.Profit != -2 {
		t.Errorf("first order %+v", o)
	}
	f, err := os.Open(filepath.Join(out, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 13 || rows[0][0] != "market_id" || rows[1][0] != "1.197931750" {
		t.Errorf("orders.csv: %d rows, first %v", len(rows), rows[:min(2, len(rows))])
	}
}

func TestBacktestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-o", "x", "in"},                                                    // no strategy
		{"--strategy", "nope", "-o", "x", "in"},                              // unknown strategy
		{"--strategy", "passive-back", "in"},                                 // no -o
		{"--strategy", "passive-back", "--param", "within", "-o", "x", "in"}, // bad param
		{"--strategy", "passive-back", "--model", "fast", "-o", "x", "in"},   // bad model
	} {
		cmd := tradecli.BacktestCommand(strategies.Builtins())
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(args)
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
