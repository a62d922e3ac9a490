package ledger

import (
	"encoding/json"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// pageParams are the paging parameters of the list methods.
type pageParams struct {
	FromRecord  int `json:"fromRecord"`
	RecordCount int `json:"recordCount"`
}

// currentOrder is a bet as listCurrentOrders shows it.
func currentOrder(b *bet) betting.CurrentOrder {
	s := &b.s
	status := "EXECUTABLE"
	switch {
	case s.Status == engine.Pending:
		status = "PENDING"
	case s.Status == engine.ExecutionComplete:
		status = "EXECUTION_COMPLETE"
	}
	c := betting.CurrentOrder{BetID: b.id, MarketID: b.m.id, SelectionID: s.SelectionID, Handicap: s.Handicap,
		PriceSize: betting.PriceSize{Price: s.Price, Size: s.Size}, Side: s.Side.String(), Status: status,
		PersistenceType: s.Persistence.String(), OrderType: s.Type.String(), PlacedDate: date(b.placedAt),
		MatchedDate: date(b.matchedAt), AveragePriceMatched: s.AvgPriceMatched, SizeMatched: s.SizeMatched,
		SizeRemaining: s.SizeRemaining(), SizeLapsed: s.SizeLapsed, SizeCancelled: s.SizeCancelled, SizeVoided: s.SizeVoided,
		RegulatorCode: "GIBRALTAR REGULATOR", CustomerOrderRef: b.rfo, CustomerStrategyRef: b.st.ref}
	if s.Type != engine.Limit {
		c.BspLiability = s.Liability
	}
	if s.Status == engine.Pending {
		c.SizeRemaining = s.Size
		c.PlacedDate = date(s.CreatedAt)
	}
	return c
}

// listCurrentOrders answers with the bets of markets not yet settled that
// the filter selects, in placement order, a page at a time.
func (l *Ledger) listCurrentOrders(params json.RawMessage) (any, error) {
	var p struct {
		betting.CurrentOrdersFilter
		pageParams
	}
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	switch p.OrderProjection {
	case "", "ALL", "EXECUTABLE", "EXECUTION_COMPLETE":
	default:
		return nil, inputError("orderProjection %q", p.OrderProjection)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	bets := l.sortedBets(func(b *bet) bool {
		if b.failed || b.m.closed || !in(p.BetIDs, b.id) || !in(p.MarketIDs, b.m.id) ||
			!in(p.CustomerOrderRefs, b.rfo) || !in(p.CustomerStrategyRefs, b.st.ref) {
			return false
		}
		complete := b.s.Status == engine.ExecutionComplete
		return p.OrderProjection == "EXECUTABLE" && !complete || p.OrderProjection == "EXECUTION_COMPLETE" && complete ||
			p.OrderProjection == "" || p.OrderProjection == "ALL"
	})
	lo, hi, more := page(len(bets), p.FromRecord, p.RecordCount)
	out := struct {
		CurrentOrders []betting.CurrentOrder `json:"currentOrders"`
		MoreAvailable bool                   `json:"moreAvailable"`
	}{CurrentOrders: []betting.CurrentOrder{}, MoreAvailable: more}
	for _, b := range bets[lo:hi] {
		out.CurrentOrders = append(out.CurrentOrders, currentOrder(b))
	}
	return out, nil
}

// listClearedOrders answers with the bets of settled markets by their
// outcome (betStatus SETTLED: matched bets with their profit; VOIDED,
// LAPSED, CANCELLED: the bets with such a size), a page at a time.
func (l *Ledger) listClearedOrders(params json.RawMessage) (any, error) {
	var p struct {
		betting.ClearedOrdersFilter
		pageParams
	}
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	switch p.BetStatus {
	case "SETTLED", "VOIDED", "LAPSED", "CANCELLED":
	default:
		return nil, inputError("betStatus %q (SETTLED, VOIDED, LAPSED or CANCELLED)", p.BetStatus)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	bets := l.sortedBets(func(b *bet) bool {
		s := &b.s
		if !b.m.closed || !b.placed || !in(p.MarketIDs, b.m.id) || !in(p.BetIDs, b.id) ||
			!in(p.CustomerOrderRefs, b.rfo) || !in(p.CustomerStrategyRefs, b.st.ref) {
			return false
		}
		if d := b.m.bk.Def; d != nil && (!in(p.EventIDs, d.EventID) || !in(p.EventTypeIDs, d.EventTypeID)) {
			return false
		}
		switch p.BetStatus {
		case "SETTLED":
			return s.SizeMatched > 0
		case "VOIDED":
			return s.SizeVoided > 0
		case "LAPSED":
			return s.SizeLapsed > 0
		}
		return s.SizeCancelled > 0
	})
	lo, hi, more := page(len(bets), p.FromRecord, p.RecordCount)
	out := struct {
		ClearedOrders []betting.ClearedOrder `json:"clearedOrders"`
		MoreAvailable bool                   `json:"moreAvailable"`
	}{ClearedOrders: []betting.ClearedOrder{}, MoreAvailable: more}
	for _, b := range bets[lo:hi] {
		out.ClearedOrders = append(out.ClearedOrders, clearedOrder(b, p.BetStatus))
	}
	return out, nil
}

// clearedOrder is a settled bet as listClearedOrders shows it.
func clearedOrder(b *bet, status string) betting.ClearedOrder {
	s := &b.s
	c := betting.ClearedOrder{MarketID: b.m.id, SelectionID: s.SelectionID, Handicap: s.Handicap, BetID: b.id,
		PlacedDate: date(b.placedAt), PersistenceType: s.Persistence.String(), OrderType: s.Type.String(), Side: s.Side.String(),
		PriceRequested: s.Price, SettledDate: date(b.m.settledAt), LastMatchedDate: date(b.matchedAt), BetCount: 1,
		CustomerOrderRef: b.rfo, CustomerStrategyRef: b.st.ref}
	if d := b.m.bk.Def; d != nil {
		c.EventTypeID, c.EventID = d.EventTypeID, d.EventID
	}
	switch status {
	case "SETTLED":
		c.PriceMatched, c.SizeSettled, c.Profit = s.AvgPriceMatched, s.SizeMatched, s.Profit
		c.BetOutcome = "LOST"
		if s.Profit > 0 || s.Profit == 0 && s.RunnerStatus == esa.RunnerWinner {
			c.BetOutcome = "WON"
		}
		for _, f := range s.Matched {
			if f.Price != s.Price && s.Type == engine.Limit && (s.Side == engine.Back && f.Price < s.Price || s.Side == engine.Lay && f.Price > s.Price) {
				c.PriceReduced = true // a removal's reduction factor
			}
		}
	case "VOIDED":
		c.SizeSettled = s.SizeVoided
	case "LAPSED":
		c.SizeSettled = s.SizeLapsed
	case "CANCELLED":
		c.SizeCancelled = s.SizeCancelled
	}
	return c
}

// listMarketBook answers with each market's book (the book as the replay
// has it, shaped as Betfair's MarketBook) and, with an orderProjection,
// the runners' bets.
func (l *Ledger) listMarketBook(params json.RawMessage) (any, error) {
	var p struct {
		MarketIDs       []string `json:"marketIds"`
		OrderProjection string   `json:"orderProjection"`
	}
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	if len(p.MarketIDs) == 0 {
		return nil, inputError("listMarketBook needs marketIds")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []map[string]json.RawMessage{}
	for _, id := range p.MarketIDs {
		m := l.markets[id]
		if m == nil || m.bk == nil {
			continue
		}
		var mb map[string]json.RawMessage
		if err := json.Unmarshal(m.bk.AppendLightweightJSON(nil, book.JSONOptions{}), &mb); err != nil {
			return nil, err
		}
		// What betfairlightweight adds to Betfair's MarketBook.
		for _, k := range []string{"marketDefinition", "streaming_update", "streaming_unique_id", "streaming_snap",
			"publishTime", "priceLadderDefinition", "keyLineDescription"} {
			delete(mb, k)
		}
		mb["isMarketDataDelayed"] = json.RawMessage("false")
		var runners []map[string]json.RawMessage
		if err := json.Unmarshal(mb["runners"], &runners); err != nil {
			return nil, err
		}
		for i, r := range runners {
			if p.OrderProjection == "" {
				continue
			}
			rb := m.bk.Runners[i]
			var orders []marketBookOrder
			for _, b := range l.order {
				if b.m != m || b.failed || b.s.SelectionID != rb.SelectionID || b.s.Handicap != rb.Handicap {
					continue
				}
				complete := b.s.Status == engine.ExecutionComplete
				if p.OrderProjection == "EXECUTABLE" && complete || p.OrderProjection == "EXECUTION_COMPLETE" && !complete {
					continue
				}
				c := currentOrder(b)
				orders = append(orders, marketBookOrder{BetID: c.BetID, OrderType: c.OrderType, Status: c.Status,
					PersistenceType: c.PersistenceType, Side: c.Side, Price: c.PriceSize.Price, Size: c.PriceSize.Size,
					BspLiability: c.BspLiability, PlacedDate: c.PlacedDate, AvgPriceMatched: c.AveragePriceMatched,
					SizeMatched: c.SizeMatched, SizeRemaining: c.SizeRemaining, SizeLapsed: c.SizeLapsed,
					SizeCancelled: c.SizeCancelled, SizeVoided: c.SizeVoided, CustomerOrderRef: c.CustomerOrderRef,
					CustomerStrategyRef: c.CustomerStrategyRef})
			}
			if orders == nil {
				orders = []marketBookOrder{}
			}
			r["orders"], _ = json.Marshal(orders)
		}
		mb["runners"], _ = json.Marshal(runners)
		out = append(out, mb)
	}
	return out, nil
}

// marketBookOrder is a bet as listMarketBook's runners show it (Betfair's
// Order type).
type marketBookOrder struct {
	BetID               string  `json:"betId"`
	OrderType           string  `json:"orderType"`
	Status              string  `json:"status"`
	PersistenceType     string  `json:"persistenceType"`
	Side                string  `json:"side"`
	Price               float64 `json:"price"`
	Size                float64 `json:"size"`
	BspLiability        float64 `json:"bspLiability"`
	PlacedDate          string  `json:"placedDate"`
	AvgPriceMatched     float64 `json:"avgPriceMatched"`
	SizeMatched         float64 `json:"sizeMatched"`
	SizeRemaining       float64 `json:"sizeRemaining"`
	SizeLapsed          float64 `json:"sizeLapsed"`
	SizeCancelled       float64 `json:"sizeCancelled"`
	SizeVoided          float64 `json:"sizeVoided"`
	CustomerOrderRef    string  `json:"customerOrderRef,omitempty"`
	CustomerStrategyRef string  `json:"customerStrategyRef,omitempty"`
}
