package tradecli_test

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
	"github.com/tapedeck/tapedeck/engine/journal"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli"
	"github.com/tapedeck/tapedeck/tradecli/report"
	"github.com/tapedeck/tapedeck/tradecli/tradeclitest"
)

// The bundled tapes the fault tests trade: passive-back places 12 orders
// in them, 10 of which match.
var faultMarkets = []string{"1.197931750", "1.197931751"}

func faultTapes(t *testing.T) []string {
	return []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751")}
}

// runLive runs trade live --lockstep with args against the exchange of
// info file info until markets close, into dir, and returns its output.
func runLive(t *testing.T, info, dir string, markets []string, args ...string) string {
	t.Helper()
	cmd := tradecli.LiveCommand(strategies.Builtins())
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--lockstep", "-o", dir, "--exchange-info", info, "--market-ids", strings.Join(markets, ",")}, args...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("trade live: %v\n%s", err, out.String())
	}
	return out.String()
}

// cleared is what the exchange settled of one bet, from listClearedOrders.
type cleared struct {
	matched, price, profit                float64
	lapsed, cancelled, voided, sizeOfBets float64
}

// exchangeLedger logs in to ex and returns, by market and
// customerOrderRef (the order's number in its market), what
// listClearedOrders says of every bet in the fault markets.
func exchangeLedger(t *testing.T, ex *exchange.Exchange, markets []string) map[string]*cleared {
	t.Helper()
	info := ex.Info()
	bc, err := betting.New(betting.Config{Endpoints: betting.Local(info.Identity, info.Betting, info.Stream), AppKey: "ledger-check",
		Username: "local", Password: "local", CAFile: ex.CAFile()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bc.Login(ctx); err != nil {
		t.Fatal(err)
	}
	out := map[string]*cleared{}
	for _, status := range []string{"SETTLED", "LAPSED", "CANCELLED", "VOIDED"} {
		rows, err := bc.ListClearedOrders(ctx, betting.ClearedOrdersFilter{BetStatus: status, MarketIDs: markets})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			k := r.MarketID + " " + r.CustomerOrderRef
			if seen[k] {
				t.Errorf("%s: two bets %s", status, k)
			}
			seen[k] = true
			c := out[k]
			if c == nil {
				c = &cleared{}
				out[k] = c
			}
			switch status {
			case "SETTLED":
				c.matched, c.price, c.profit = r.SizeSettled, r.PriceMatched, r.Profit
			case "LAPSED":
				c.lapsed = r.SizeSettled
			case "CANCELLED":
				c.cancelled = r.SizeCancelled
			case "VOIDED":
				c.voided = r.SizeSettled
			}
		}
	}
	return out
}

// sameAsLedger fails t unless the orders trade live wrote in dir are the
// exchange's bets, one for one by customerOrderRef, with the same matched
// size and price (so no fill counted twice), lapsed, cancelled and voided
// sizes and profit.
func sameAsLedger(t *testing.T, dir string, ex *exchange.Exchange, markets []string) []report.Order {
	t.Helper()
	var d report.Data
	if err := report.Complete(dir, &d); err != nil {
		t.Fatal(err)
	}
	ledger := exchangeLedger(t, ex, markets)
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.005 }
	mine := map[string]bool{}
	for _, o := range d.Orders {
		k := o.MarketID + " " + o.CustomerRef
		if mine[k] {
			t.Errorf("two engine orders %s", k)
		}
		mine[k] = true
		c := ledger[k]
		if c == nil {
			if o.SizeMatched+o.SizeLapsed+o.SizeCancelled+o.SizeVoided > 0 {
				t.Errorf("order %s %s matched %g lapsed %g cancelled %g: the exchange has no such bet", o.CustomerRef, o.Status, o.SizeMatched, o.SizeLapsed, o.SizeCancelled)
			}
			continue
		}
		if !near(o.SizeMatched, c.matched) || o.SizeMatched > 0 && !near(o.AveragePriceMatched, c.price) || !near(o.Profit, c.profit) ||
			!near(o.SizeLapsed, c.lapsed) || !near(o.SizeCancelled, c.cancelled) || !near(o.SizeVoided, c.voided) {
			t.Errorf("order %s: engine matched %g@%g profit %g lapsed %g cancelled %g voided %g; exchange %g@%g profit %g lapsed %g cancelled %g voided %g",
				o.CustomerRef, o.SizeMatched, o.AveragePriceMatched, o.Profit, o.SizeLapsed, o.SizeCancelled, o.SizeVoided,
				c.matched, c.price, c.profit, c.lapsed, c.cancelled, c.voided)
		}
		if o.Status != "EXECUTION_COMPLETE" {
			t.Errorf("order %s is %s after its market settled", o.CustomerRef, o.Status)
		}
	}
	for ref := range ledger {
		if !mine[ref] {
			t.Errorf("the exchange has bet %s, the engine no order of it", ref)
		}
	}
	if len(ledger) == 0 {
		t.Error("the exchange has no bet: the comparison shows nothing")
	}
	return d.Orders
}

// journalNotes returns the statuses of the journal's notes.
func journalNotes(t *testing.T, dir string) []string {
	t.Helper()
	var notes []string
	if _, err := journal.Read(filepath.Join(dir, "journal.jsonl"), func(e journal.Entry) error {
		if e.Kind == "note" {
			notes = append(notes, e.Status)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return notes
}

// TestLiveOrderStreamDropped (issue 9, test 5): the order stream dropped
// mid-fill, once resumed by its clock and once refused and so started
// again from a fresh image: the engine's orders equal the exchange's
// ledger, with no fill counted twice.
func TestLiveOrderStreamDropped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		refuse bool
		images int // fresh order images the run saw
	}{
		{"resumed by clk", false, 1},
		{"fresh image", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, info := tradeclitest.Exchange(t, exchange.Config{Tapes: faultTapes(t), Betting: ledger.New(ledger.Config{}), Lockstep: true,
				Faults: exchange.Faults{DropOrdersAfter: 6, RefuseOrderResume: tc.refuse}})
			dir := t.TempDir()
			runLive(t, info, dir, faultMarkets, "--strategy", "passive-back")
			if st := ex.Stats(); st.Dropped != 1 || st.Connections < 2 {
				t.Errorf("exchange stats %+v: want the order stream dropped once and a reconnection", st)
			}
			images := 0
			for _, n := range journalNotes(t, dir) {
				if n == "fresh order image" {
					images++
				}
			}
			if images != tc.images {
				t.Errorf("%d fresh order images journaled, want %d", images, tc.images)
			}
			sameAsLedger(t, dir, ex, faultMarkets)
		})
	}
}

// TestLiveStreamBeforeReply (issue 9, test 7): with every order change on
// the stream before the HTTP answer of the request that made it, no
// order moves backwards and the engine's orders equal the ledger's; for
// passive-back, and for lowest-layer, which cancels its orders in play
// (the flumine in-play input): a placement's late answer must not undo
// the cancel asked meanwhile.
func TestLiveStreamBeforeReply(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		tapes    []string
		markets  []string
	}{
		{"passive-back", faultTapes(t), faultMarkets},
		{"lowest-layer", []string{testenv.Testdata(t, "golden/flumine/inputs/1.200806927.zst")}, []string{"1.200806927"}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			ex, info := tradeclitest.Exchange(t, exchange.Config{Tapes: tc.tapes, Betting: ledger.New(ledger.Config{}), Lockstep: true,
				Faults: exchange.Faults{StreamBeforeReply: true}})
			dir := t.TempDir()
			runLive(t, info, dir, tc.markets, "--strategy", tc.strategy)
			sameAsLedger(t, dir, ex, tc.markets)
			forwardOnly(t, dir)
		})
	}
}

// forwardOnly fails t if an order's journaled states ever go backwards.
// (A cancel the exchange refused would rightly leave its order
// EXECUTABLE again; no cancel fails in these runs.)
func forwardOnly(t *testing.T, dir string) {
	t.Helper()
	rank := map[string]int{"PENDING": 0, "UNKNOWN": 1, "EXECUTABLE": 2, "CANCELLING": 3, "UPDATING": 3, "REPLACING": 3, "EXECUTION_COMPLETE": 4, "EXPIRED": 4}
	last := map[string]string{}
	if _, err := journal.Read(filepath.Join(dir, "journal.jsonl"), func(e journal.Entry) error {
		if e.Kind != "order" {
			return nil
		}
		k := e.MarketID + " " + e.OrderRef
		if was, ok := last[k]; ok && rank[e.Status] < rank[was] {
			t.Errorf("order %s went from %s back to %s", k, was, e.Status)
		}
		last[k] = e.Status
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(last) == 0 {
		t.Error("no order state journaled")
	}
}

// TestLiveSettlement (issue 9, test 12): after each market settles, trade
// live asks listClearedOrders and compares each matched order's profit
// with the exchange's: none differs, and the exchange's profit equals the
// engine's order by order.
func TestLiveSettlement(t *testing.T) {
	ex, info := tradeclitest.Exchange(t, exchange.Config{Tapes: faultTapes(t), Betting: ledger.New(ledger.Config{}), Lockstep: true})
	dir := t.TempDir()
	out := runLive(t, info, dir, faultMarkets, "--strategy", "passive-back")
	if want := "settlement      10 orders in 2 markets checked with listClearedOrders: 0 differ, 0 markets unchecked\n"; !strings.Contains(out, want) {
		t.Errorf("summary:\n%s\nwant the line %q", out, want)
	}
	orders := sameAsLedger(t, dir, ex, faultMarkets)
	matched := 0
	for _, o := range orders {
		if o.SizeMatched > 0 {
			matched++
		}
	}
	if matched != 10 {
		t.Errorf("%d matched orders, want passive-back's 10", matched)
	}
	checked := 0
	for _, n := range journalNotes(t, dir) {
		if n == "settlement checked" {
			checked++
		}
	}
	if checked != 2 {
		t.Errorf("%d settlement checks journaled, want one a market", checked)
	}
}
