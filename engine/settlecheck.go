package engine

import (
	"math"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/internal/backoff"
)

// This file checks a live run's settlement against the exchange's: when a
// market closes, the engine settles its orders by its model's rules
// (bettingExecutor.Settle), and listClearedOrders is asked, for that
// market and strategy, what the exchange paid. Each matched order's profit
// is compared with the exchange's; a difference, or an order one side has
// and the other lacks, is logged and counted (Result.Settlement). Betfair
// lists a market's bets some time after it settles, so the question is
// asked again every SettleEvery until every matched order is listed, for
// at most SettleWait.

// SettlementCheck counts what the comparison of a live run's profit with
// listClearedOrders found.
type SettlementCheck struct {
	// Markets is how many markets' cleared orders were compared; Orders
	// how many matched orders were; Differences how many of those differ
	// in profit by a cent or more, or are listed on one side only.
	Markets, Orders, Differences int
	// Unchecked counts markets whose cleared orders did not all come
	// within SettleWait, or could not be asked for.
	Unchecked int
}

// The defaults of BettingConfig.SettleEvery and SettleWait.
const (
	DefaultSettleEvery = 10 * time.Second
	DefaultSettleWait  = 5 * time.Minute
)

// clearedRequest is the kind of a settlement check's answer.
const clearedRequest RequestKind = 254

// settled is one matched order as the engine settled it, for the check's
// goroutine (which must not read the loop's orders).
type settled struct {
	betID, ref string
}

// checkSettlement starts the settlement check of the market, called when
// the engine has settled it (by a model: Config.NewExecution). Only matched orders are paid or charged, so
// only they are compared; a market with none is not asked about.
func (x *bettingExecutor) checkSettlement() {
	if x.cfg.Client == nil || x.cfg.settlement == nil {
		return // not a run that checks
	}
	want := x.matchedOrders()
	if len(want) == 0 {
		return
	}
	every, wait := x.cfg.SettleEvery, x.cfg.SettleWait
	if every <= 0 {
		every = DefaultSettleEvery
	}
	if wait <= 0 {
		wait = DefaultSettleWait
	}
	filter := betting.ClearedOrdersFilter{BetStatus: "SETTLED", MarketIDs: []string{x.st.id}, CustomerStrategyRefs: []string{x.st.sl.ref}}
	if x.cfg.InFlight != nil {
		x.cfg.InFlight.Add(1)
	}
	ctx, end := x.cfg.Ctx, x.cfg.settleEnd
	if end == nil {
		end = ctx
	}
	go func() {
		if x.cfg.InFlight != nil {
			defer x.cfg.InFlight.Done()
		}
		a := answer{kind: clearedRequest}
		deadline := time.Now().Add(wait)
		for {
			// Asked outside the request queue: one question a market, now
			// and then, must not hold a worker while it waits to ask again.
			a.cleared, a.err = x.cfg.Client.ListClearedOrders(ctx, filter)
			if a.err == nil && listsAll(a.cleared, want) || end.Err() != nil || !time.Now().Add(every).Before(deadline) {
				break
			}
			// A run asked to stop asks no more: its stop is bounded.
			if backoff.Wait(end, every) != nil {
				break
			}
		}
		x.hand(a)
	}()
}

// listsAll reports whether rows list every order of want.
func listsAll(rows []betting.ClearedOrder, want []settled) bool {
	for _, w := range want {
		if clearedRow(rows, w.betID, w.ref) == nil {
			return false
		}
	}
	return true
}

// clearedRow is the row of the bet with id betID, or, when the engine
// never learnt its bet id, with customerOrderRef ref.
func clearedRow(rows []betting.ClearedOrder, betID, ref string) *betting.ClearedOrder {
	for i := range rows {
		if betID != "" && rows[i].BetID == betID || betID == "" && ref != "" && rows[i].CustomerOrderRef == ref {
			return &rows[i]
		}
	}
	return nil
}

// compareSettlement compares the market's matched orders' profit with the
// exchange's rows, on the loop's goroutine, logging and counting each
// difference.
func (x *bettingExecutor) compareSettlement(a answer) {
	sc := x.cfg.settlement
	if a.err != nil || !listsAll(a.cleared, x.matchedOrders()) {
		sc.Unchecked++
		if x.cfg.Log != nil {
			x.cfg.Log.Warn("live: settlement not checked: listClearedOrders did not list every matched order", "market", x.st.id, "err", a.err)
		}
	}
	if a.err != nil {
		return
	}
	sc.Markets++
	type diff struct {
		OrderRef string  `json:"order_ref"`
		BetID    string  `json:"bet_id"`
		Engine   float64 `json:"engine_profit"`
		Exchange float64 `json:"exchange_profit"`
		Listed   bool    `json:"listed"`
	}
	var diffs []diff
	used := map[*betting.ClearedOrder]bool{}
	for _, o := range x.st.orders {
		if o.s.SizeMatched <= 0 {
			continue
		}
		sc.Orders++
		r := clearedRow(a.cleared, o.s.BetID, o.s.CustomerRef)
		if r != nil {
			used[r] = true
		}
		if r == nil || math.Abs(r.Profit-o.s.Profit) >= 0.005 {
			d := diff{OrderRef: o.s.CustomerRef, BetID: o.s.BetID, Engine: o.s.Profit, Listed: r != nil}
			if r != nil {
				d.Exchange = r.Profit
			}
			diffs = append(diffs, d)
		}
	}
	for i := range a.cleared {
		if r := &a.cleared[i]; !used[r] && r.MarketID == x.st.id {
			// A bet of this strategy the engine has no matched order of.
			sc.Orders++
			diffs = append(diffs, diff{OrderRef: r.CustomerOrderRef, BetID: r.BetID, Exchange: r.Profit, Listed: true})
		}
	}
	sc.Differences += len(diffs)
	for _, d := range diffs {
		if x.cfg.Log != nil {
			x.cfg.Log.Warn("live: settlement differs from listClearedOrders", "market", x.st.id, "order_ref", d.OrderRef, "bet_id", d.BetID,
				"engine_profit", d.Engine, "exchange_profit", d.Exchange, "listed", d.Listed)
		}
	}
	x.cfg.journalNote(x.st.id, "settlement checked", map[string]any{"orders": len(a.cleared), "differences": diffs})
}

// matchedOrders are the market's matched orders, for listsAll.
func (x *bettingExecutor) matchedOrders() []settled {
	var out []settled
	for _, o := range x.st.orders {
		if o.s.SizeMatched > 0 {
			out = append(out, settled{o.s.BetID, o.s.CustomerRef})
		}
	}
	return out
}
