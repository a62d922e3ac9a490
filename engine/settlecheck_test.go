package engine

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
)

// TestSettlementCheck compares a market's matched orders' profit with
// Betfair's real listClearedOrders answer (six settled bets of market
// 1.180076044): equal profits count no difference; a profit a cent or more
// off counts one; a matched order the exchange never lists is asked about
// until SettleWait, then counts as unchecked and as a difference.
func TestSettlementCheck(t *testing.T) {
	profits := map[string]float64{"226125004209": -20, "226125004212": -20, "226125004213": -20, "226127299089": 250, "226127312595": 50, "226127366823": -50}
	for _, tc := range []struct {
		name    string
		change  map[string]float64 // engine profits that differ
		extra   bool               // a matched order the exchange does not list
		want    SettlementCheck
		queries int // listClearedOrders requests at least
	}{
		{name: "same", want: SettlementCheck{Markets: 1, Orders: 6}, queries: 1},
		{name: "a profit differs", change: map[string]float64{"226127299089": 249.99}, want: SettlementCheck{Markets: 1, Orders: 6, Differences: 1}, queries: 1},
		{name: "an order never listed", extra: true, want: SettlementCheck{Markets: 1, Orders: 7, Differences: 1, Unchecked: 1}, queries: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &betFake{bodies: map[string]string{betting.MethodListClearedOrders: "betting/list_cleared_orders.json"}}
			woke := make(chan struct{}, 16)
			cfg := &BettingConfig{Ctx: context.Background(), Client: fakeClient(t, f), Seq: new(atomic.Uint64), Wake: func() { woke <- struct{}{} },
				SettleEvery: time.Millisecond, SettleWait: 50 * time.Millisecond, settlement: &SettlementCheck{}}
			u := &unit{bet: cfg}
			st := &marketState{sl: &slot{name: "betfair", ref: "betfair"}, id: "1.180076044"}
			x := newBettingExecutor(cfg, st)
			st.x, st.report = x, func(r Report) { u.apply(st, r) }
			for bet, p := range profits {
				if q, ok := tc.change[bet]; ok {
					p = q
				}
				st.add(&Order{s: OrderState{MarketID: st.id, BetID: bet, SizeMatched: 1, Profit: p, Status: ExecutionComplete}})
			}
			if tc.extra {
				st.add(&Order{s: OrderState{MarketID: st.id, CustomerRef: "betfair-7", SizeMatched: 2, Profit: 3, Status: ExecutionComplete}})
			}
			st.add(&Order{s: OrderState{MarketID: st.id, BetID: "9", Status: ExecutionComplete}}) // unmatched: not compared
			x.checkSettlement()
			await(t, u, st, woke)
			if *cfg.settlement != tc.want {
				t.Errorf("check %+v, want %+v", *cfg.settlement, tc.want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.calls) < tc.queries || tc.queries == 1 && len(f.calls) != 1 {
				t.Errorf("%d listClearedOrders requests, want %d", len(f.calls), tc.queries)
			}
			var filter betting.ClearedOrdersFilter
			b, _ := json.Marshal(f.calls[0].Params)
			json.Unmarshal(b, &filter)
			if filter.BetStatus != "SETTLED" || len(filter.MarketIDs) != 1 || filter.MarketIDs[0] != st.id || len(filter.CustomerStrategyRefs) != 1 || filter.CustomerStrategyRefs[0] != "betfair" {
				t.Errorf("listClearedOrders %s", b)
			}
		})
	}
}
