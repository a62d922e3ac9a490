package tradecli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
)

// TestLiveCurrency runs trade live against a local exchange whose account
// is in a currency (trade serve --betting --currency): live asks it with
// getAccountDetails and holds the strategy's stakes to that currency's
// minimum bet. Under AUD (a stake of 5, or a payout of 30) a stake of 4 at
// a price under 7.5 is refused before it is sent, and the exchange books
// none of them; a stake of 5 goes, and a stake of 4 under the GBP default
// goes too. A flag given overrides the table's figure (a stricter one
// here: a looser one would let through what the exchange refuses).
func TestLiveCurrency(t *testing.T) {
	for _, tc := range []struct {
		name, currency string
		args           []string
		// refused: a placement is refused iff its size is under size
		// and its payout under payout; the summary names the minimums.
		size, payout float64
		summary      string
		someRefused  bool
	}{
		{"AUD stake 4", "AUD", []string{"--param", "stake=4"}, 5, 30, "minimum bet     AUD: stake 5, payout 30, BSP liability 30", true},
		{"AUD stake 5", "AUD", []string{"--param", "stake=5"}, 5, 30, "minimum bet     AUD: stake 5, payout 30, BSP liability 30", false},
		{"GBP stake 4", "", []string{"--param", "stake=4"}, 1, 10, "minimum bet     GBP: stake 1, payout 10, BSP liability 10", false},
		{"AUD stake 5, --min-bet-size 6", "AUD", []string{"--param", "stake=5", "--min-bet-size", "6"}, 6, 30, "minimum bet     AUD: stake 6, payout 30, BSP liability 30", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, info, bc := serveBetting(t, exchange.Config{Lockstep: true, Betting: ledger.New(ledger.Config{Currency: tc.currency})})
			out := filepath.Join(t.TempDir(), "live")
			cmd := tradecli.LiveCommand(strategies.Builtins())
			var stdout, stderr bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&stderr)
			cmd.SetArgs(append([]string{"--strategy", "passive-back", "--param", "within=86400", "--lockstep", "--exchange-info", info,
				"--market-ids", "1.197931750", "-o", out}, tc.args...))
			if err := cmd.Execute(); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.summary) {
				t.Errorf("summary, want %q:\n%s", tc.summary, stdout.String())
			}
			rows := orderRows(t, out)
			refused, sent := 0, 0
			for _, r := range rows {
				price, _ := strconv.ParseFloat(r["price"], 64)
				size, _ := strconv.ParseFloat(r["size"], 64)
				small := size < tc.size && price*size < tc.payout
				if got := r["status"] == "VIOLATION"; got != small {
					t.Errorf("order %s at %s: status %s (%s), want refused %v", r["size"], r["price"], r["status"], r["violation"], small)
				}
				if small {
					refused++
					if !strings.Contains(r["violation"], "below the minimum bet") {
						t.Errorf("order %s at %s refused for %q", r["size"], r["price"], r["violation"])
					}
				} else {
					sent++
				}
			}
			if len(rows) == 0 || sent == 0 || (refused > 0) != tc.someRefused {
				t.Errorf("%d orders, %d refused, %d sent", len(rows), refused, sent)
			}
			// The exchange booked exactly the orders sent: none refused
			// by the controls reached it.
			got := booked(t, bc, "1.197931750")
			for _, r := range rows {
				if ref := r["customer_order_ref"]; got[ref] != (r["status"] != "VIOLATION") {
					t.Errorf("order %s (%s at %s, %s): booked by the exchange %v", ref, r["size"], r["price"], r["status"], got[ref])
				}
			}
			if len(got) != sent {
				t.Errorf("the exchange booked %d bets, trade live sent %d", len(got), sent)
			}
			t.Logf("%d orders, %d refused by the controls, %d booked by the exchange", len(rows), refused, len(got))
		})
	}
}

// TestCurrencyUsage: an unknown currency stops trade paper and trade
// backtest before anything runs, naming the currency and the flags that
// set its minimums by hand; with all three given it runs.
func TestCurrencyUsage(t *testing.T) {
	tape := testenv.Testdata(t, "tapes/1.197931750")
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"backtest JPY", []string{"--currency", "JPY"}, false},
		{"backtest JPY, two figures", []string{"--currency", "JPY", "--min-bet-size", "100", "--min-bet-payout", "1000"}, false},
		{"backtest JPY, all figures", []string{"--currency", "JPY", "--min-bet-size", "100", "--min-bet-payout", "1000", "--min-bsp-liability", "1000"}, true},
		{"backtest AUD", []string{"--currency", "AUD"}, true},
		{"backtest a zero figure", []string{"--min-bet-size", "0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := tradecli.BacktestCommand(strategies.Builtins())
			var stdout bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&stdout)
			cmd.SetArgs(append([]string{"--strategy", "passive-back", "-o", t.TempDir(), tape}, tc.args...))
			err := cmd.Execute()
			if tc.ok != (err == nil) {
				t.Fatalf("err %v\n%s", err, stdout.String())
			}
			if err != nil && !strings.Contains(err.Error(), "--min-bet-size") {
				t.Errorf("the error names no flag: %v", err)
			}
			if tc.name == "backtest JPY" && !strings.Contains(err.Error(), `"JPY"`) {
				t.Errorf("the error names no currency: %v", err)
			}
		})
	}
}

// booked returns the customerOrderRefs of the bets the exchange booked in
// a settled market, whatever became of them.
func booked(t *testing.T, bc *betting.Client, market string) map[string]bool {
	t.Helper()
	refs := map[string]bool{}
	for _, status := range []string{"SETTLED", "VOIDED", "LAPSED", "CANCELLED"} {
		cleared, err := bc.ListClearedOrders(context.Background(), betting.ClearedOrdersFilter{BetStatus: status, MarketIDs: []string{market}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cleared {
			refs[c.CustomerOrderRef] = true
		}
	}
	return refs
}

// orderRows reads the orders.csv of a run's directory, one map per row.
func orderRows(t *testing.T, dir string) []map[string]string {
	t.Helper()
	hdr, recs := readCSV(t, dirStore(t, dir), "orders.csv")
	var rows []map[string]string
	for _, rec := range recs {
		m := map[string]string{}
		for i, h := range hdr {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}
