package ledger_test

import (
	"context"
	"math"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/exchange/ledger"
)

// position is one strategy's matched position on one runner side: the
// size and the size x price summed over its price levels (or its bets).
type position struct{ size, value float64 }

// positionKey is a strategy's runner side.
type positionKey struct {
	strategy  string
	selection int64
	side      string // B or L
}

// TestStrategyPositions subscribes the order stream with
// partitionMatchedByStrategyRef (and without the overall position), as a
// client running several strategies on one account does, while two
// strategies place on the same runners of a real market in lockstep: each
// strategy's matched backs and lays ("smc") as the stream leaves them are
// what the Betting API's listClearedOrders settles for that strategy's
// bets, and the stream sends no overall position.
func TestStrategyPositions(t *testing.T) {
	l := serve(t, exchange.Config{Lockstep: true}, ledger.Config{Balance: 1e6}, "1.197931750")
	s := l.stream(t, `,"orderFilter":{"includeOverallPosition":false,"partitionMatchedByStrategyRef":true}`)
	// ladders[key][price] is the matched size at price as the stream says.
	ladders := map[positionKey]map[float64]float64{}
	apply := func(key positionKey, levels []esa.PriceSize) {
		if ladders[key] == nil {
			ladders[key] = map[float64]float64{}
		}
		for _, lv := range levels {
			if lv.Size == 0 {
				delete(ladders[key], lv.Price)
			} else {
				ladders[key][lv.Price] = lv.Size
			}
		}
	}
	s.onRunner = func(_ string, rc *esa.OrderRunnerChange) {
		if rc.HasMB || rc.HasML {
			t.Errorf("runner %d: an overall position, not asked for", rc.ID)
		}
		for _, smc := range rc.SMC {
			if rc.FullImage {
				delete(ladders, positionKey{smc.Ref, rc.ID, "B"})
				delete(ladders, positionKey{smc.Ref, rc.ID, "L"})
			}
			apply(positionKey{smc.Ref, rc.ID, "B"}, smc.MB)
			apply(positionKey{smc.Ref, rc.ID, "L"}, smc.ML)
		}
	}
	errs := make(chan error, 2)
	placed := false
	// sides are the runner sides each strategy placed on.
	sides := map[positionKey]bool{}
	s.drive(1, func(bk *book.Market, _ int64) int {
		if placed || bk.Status() != esa.MarketOpen || len(bk.Runners) < 2 {
			return 0
		}
		placed = true
		r0, r1 := bk.Runners[0].SelectionID, bk.Runners[1].SelectionID
		// Backs at 1.01 and lays at 1000 take what is offered at once; the
		// two strategies share both runners, so only the partition tells
		// whose fill is whose.
		limit := func(sel int64, side string, price, size float64, ref string) betting.PlaceInstruction {
			return betting.PlaceInstruction{OrderType: "LIMIT", SelectionID: sel, Side: side, CustomerOrderRef: ref,
				LimitOrder: &betting.LimitOrder{Price: price, Size: size, PersistenceType: "LAPSE"}}
		}
		for _, req := range []betting.PlaceRequest{
			{MarketID: bk.ID, CustomerRef: "alpha-req", CustomerStrategyRef: "alpha", Instructions: []betting.PlaceInstruction{
				limit(r0, "BACK", 1.01, 2, "alpha-1"), limit(r1, "LAY", 1000, 3, "alpha-2")}},
			{MarketID: bk.ID, CustomerRef: "beta-req", CustomerStrategyRef: "beta", Instructions: []betting.PlaceInstruction{
				limit(r0, "BACK", 1.01, 5, "beta-1"), limit(r1, "BACK", 1.01, 4, "beta-2"), limit(r0, "LAY", 1000, 2, "beta-3")}},
		} {
			for _, in := range req.Instructions {
				sides[positionKey{req.CustomerStrategyRef, in.SelectionID, in.Side[:1]}] = true
			}
			go func() {
				_, err := l.bc.PlaceOrders(context.Background(), req)
				errs <- err
			}()
		}
		return 2
	}, nil)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// What the Betting API settled, per strategy and runner side.
	want := map[positionKey]position{}
	cleared, err := l.bc.ListClearedOrders(context.Background(), betting.ClearedOrdersFilter{BetStatus: "SETTLED", MarketIDs: []string{"1.197931750"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cleared {
		k := positionKey{c.CustomerStrategyRef, c.SelectionID, c.Side[:1]}
		p := want[k]
		want[k] = position{p.size + c.SizeSettled, p.value + c.SizeSettled*c.PriceMatched}
	}
	got := map[positionKey]position{}
	for k, lv := range ladders {
		var p position
		for price, size := range lv {
			p.size += size
			p.value += size * price
		}
		if p.size > 0 {
			got[k] = p
		}
	}
	for k, w := range want {
		g := got[k]
		if math.Abs(g.size-w.size) > 0.005 || math.Abs(g.value-w.value) > 0.01*w.size {
			t.Errorf("%s, runner %d, %s: the stream's position %.2f matched worth %.4f; the settled bets %.2f worth %.4f",
				k.strategy, k.selection, k.side, g.size, g.value, w.size, w.value)
		}
		t.Logf("%s, runner %d, %s: %.2f matched, average %.3f", k.strategy, k.selection, k.side, w.size, w.value/w.size)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s, runner %d, %s: a position in the stream, no settled bet", k.strategy, k.selection, k.side)
		}
	}
	// Every order took what was offered: each strategy has a position on
	// each runner side it placed on, and on no other.
	if len(want) != len(sides) {
		t.Errorf("settled positions on %d runner sides, placed on %d: %v", len(want), len(sides), want)
	}
	for k := range want {
		if !sides[k] {
			t.Errorf("%s, runner %d, %s: settled, never placed", k.strategy, k.selection, k.side)
		}
	}
}
