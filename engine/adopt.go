package engine

import (
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
)

// adopt takes the orders an earlier run left on the exchange
// (listCurrentOrders, asked for this process's customerStrategyRefs at
// start-up, before any strategy runs) into the loop: each becomes its
// strategy's order in its market when that market is first seen, counted
// in trade counts, live trade counts and exposure like any other, and the
// market's order numbers continue after the highest adopted one, so no
// customerOrderRef is used twice. It returns the orders no strategy of the
// loop owns.
func (u *unit) adopt(orders []betting.CurrentOrder) (others []betting.CurrentOrder) {
	for _, c := range orders {
		owned := false
		for _, sl := range u.slots {
			if c.CustomerStrategyRef == sl.ref {
				owned = true
				break
			}
		}
		if !owned {
			others = append(others, c)
			continue
		}
		if u.adopted == nil {
			u.adopted = map[string][]betting.CurrentOrder{}
		}
		u.adopted[c.MarketID] = append(u.adopted[c.MarketID], c)
	}
	return others
}

// adoptInto gives a new market state its strategy's adopted orders.
func (u *unit) adoptInto(st *marketState) {
	for _, c := range u.adopted[st.id] {
		if c.CustomerStrategyRef != st.sl.ref {
			continue
		}
		o := adopted(st, c)
		if ref, id, ok := ParseOrderRef(c.CustomerOrderRef); ok && ref == st.sl.ref {
			o.s.ID = id
		} else {
			o.s.ID = st.nextID
		}
		st.nextID = max(st.nextID, o.s.ID+1)
		cx := st.ctx(o.s.SelectionID, o.s.Handicap)
		cx.trades++
		if o.s.Status.Live() {
			cx.live++
			o.holdsLive = true
			st.live = append(st.live, o)
		}
		st.add(o)
	}
}

// adopted is the Order a listCurrentOrders row describes.
func adopted(st *marketState, c betting.CurrentOrder) *Order {
	s := OrderState{Slot: st.sl.idx, Strategy: st.sl.name, MarketID: c.MarketID, SelectionID: c.SelectionID, Handicap: c.Handicap,
		CustomerRef: c.CustomerOrderRef, BetID: c.BetID, Price: c.PriceSize.Price, Size: c.PriceSize.Size, Liability: c.BspLiability,
		SizeMatched: c.SizeMatched, AvgPriceMatched: c.AveragePriceMatched, SizeCancelled: c.SizeCancelled,
		SizeLapsed: c.SizeLapsed, SizeVoided: c.SizeVoided, DeadHeat: 1, Status: Executable}
	if c.Side == "LAY" {
		s.Side = Lay
	}
	switch c.OrderType {
	case "LIMIT_ON_CLOSE":
		s.Type = LimitOnClose
	case "MARKET_ON_CLOSE":
		s.Type = MarketOnClose
	}
	switch c.PersistenceType {
	case "PERSIST":
		s.Persistence = Persist
	case "MARKET_ON_CLOSE":
		s.Persistence = PersistMarketOnClose
	}
	if t, err := time.Parse(time.RFC3339Nano, c.PlacedDate); err == nil {
		s.CreatedAt, s.PlacedAt = t.UnixMilli(), t.UnixMilli()
	}
	if c.SizeMatched > 0 {
		at := s.PlacedAt
		if t, err := time.Parse(time.RFC3339Nano, c.MatchedDate); err == nil {
			at = t.UnixMilli()
		}
		// What matched before the restart, as one fill; the order stream
		// adds what matches from now on.
		s.Matched = []Fill{{Pt: at, Price: c.AveragePriceMatched, Size: c.SizeMatched}}
	}
	if c.Status == "EXECUTION_COMPLETE" {
		s.Status = ExecutionComplete
		s.CompletedAt = s.PlacedAt
	}
	return &Order{s: s}
}
