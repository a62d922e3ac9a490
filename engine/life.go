package engine

import "github.com/tapedeck/tapedeck/engine/book"

// This file is the order life cycle: how the event loop turns an
// executor's reports into order state. The rules hold for every executor:
//
//   - PENDING → EXECUTABLE → EXECUTION_COMPLETE (or EXPIRED); a request sent
//     without an answer leaves the order UNKNOWN until the exchange's view
//     of it (a Changed report) arrives, and nothing is ever sent twice;
//   - a finished order (complete, expired, stopped by a control) never goes
//     back to live, whatever arrives late: an HTTP reply overtaken by the
//     order stream, say;
//   - a fill is the increase of the exchange's cumulative matched size for
//     the order's bet id: never negative, never counted twice.

// newMarket starts strategy instance sl's state of a market first seen
// with book bk.
func (u *unit) newMarket(sl *slot, bk *book.Market) *marketState {
	st := &marketState{sl: sl, id: bk.ID, bk: bk}
	if u.bet != nil {
		x := newBettingExecutor(u.bet, st)
		if u.cfg.NewExecution != nil {
			x.settle = u.cfg.NewExecution()
		}
		st.x = x
	} else {
		st.x = &simExecutor{st: st, model: u.cfg.NewExecution(), lat: u.lat}
	}
	st.report = func(r Report) { u.apply(st, r) }
	if u.adopted != nil {
		u.adoptInto(st)
	}
	return st
}

// add appends a new order to the market's orders.
func (st *marketState) add(o *Order) {
	st.orders = append(st.orders, o)
	st.states = append(st.states, &o.s)
}

// finished reports whether an order's life is over.
func (s Status) finished() bool {
	return s == ExecutionComplete || s == Expired || s == Violation
}

// apply turns an executor's report into the order's next state.
func (u *unit) apply(st *marketState, r Report) {
	o := r.Order
	st.reports++
	if u.bet != nil && u.bet.Journal != nil {
		was := markOf(o)
		defer func() { u.bet.journalOrder(o, &was); u.bet.journalOrder(r.New, nil) }()
	}
	if r.Kind == Changed {
		u.changed(st, o, r)
		return
	}
	if o.s.Status.finished() {
		// A late answer about an order already over: keep what it adds
		// to the record, never its status.
		if r.Kind == Placed && o.s.BetID == "" {
			o.s.BetID = r.BetID
		}
		return
	}
	switch r.Kind {
	case Placed, PlaceFailed:
		u.placed(st, o, r)
	case Cancelled:
		if o.s.SizeRemaining() == 0 {
			u.complete(st, o)
		} else {
			o.s.Status = Executable
		}
	case CancelFailed, UpdateFailed, ReplaceFailed:
		o.s.Status = Executable
	case Updated:
		o.s.Persistence = o.newPersistence
		o.s.Status = Executable
	case Replaced:
		u.complete(st, o)
		n := r.New
		if !u.placed(st, n, r) {
			// flumine leaves the original with its remainder cancelled; it
			// is complete here, as it is on the exchange.
			return
		}
		// As in flumine, the new order belongs to the original's trade: it
		// takes no trade-count or live-trade slot, and it joins the
		// market's orders only if the exchange accepts it.
		st.nextID++
		o.replacedBy = n
		st.add(n)
		st.live = append(st.live, n)
	case NoAnswer:
		o.s.Status = Unknown
	}
}

// placed sets an order's status from its placement's outcome (r.BetID
// set when the exchange accepted it) and reports whether it was accepted.
func (u *unit) placed(st *marketState, o *Order, r Report) bool {
	if o.s.PlacedAt == 0 {
		// The order stream may have told first.
		o.s.PlacedAt = u.now
	}
	o.s.QueueAheadAtPlace = o.s.QueueAhead
	if r.BetID == "" {
		if o.s.BetID != "" {
			// The exchange's own view (the order stream) has the bet: a
			// failure reported after it is stale, and the bet is live.
			return true
		}
		if r.ErrorCode != "" {
			o.s.ErrorCode = r.ErrorCode
		}
		u.complete(st, o)
		return false
	}
	o.s.BetID = r.BetID
	if o.s.Status == Pending || o.s.Status == Unknown {
		// Only a placement still waiting for its answer moves on: when the
		// order stream told first, the strategy may already have asked to
		// cancel, update or replace it, and a late reply must not undo that.
		o.s.Status = Executable
	}
	return true
}

// changed applies the exchange's cumulative view of an order (the order
// stream, or a listCurrentOrders row).
func (u *unit) changed(st *marketState, o *Order, r Report) {
	if r.BetID != "" {
		if o.s.BetID != "" && o.s.BetID != r.BetID {
			return // another bet's news: the order has one bet id
		}
		o.s.BetID = r.BetID
	}
	if o.s.PlacedAt == 0 && o.s.Status != Violation {
		o.s.PlacedAt = u.now
	}
	if d := Round2(r.SizeMatched - o.s.SizeMatched); d > 0 {
		// What matched since the last view, at the price that moves the
		// average from the old to the new one.
		p := r.AvgPriceMatched
		if o.s.SizeMatched > 0 {
			if q := Round2((r.AvgPriceMatched*r.SizeMatched - o.s.AvgPriceMatched*o.s.SizeMatched) / d); q >= 1.01 {
				p = q
			}
		}
		o.s.Matched = append(o.s.Matched, Fill{Pt: r.At, Price: p, Size: d})
		o.s.SizeMatched, o.s.AvgPriceMatched = Round2(r.SizeMatched), r.AvgPriceMatched
	} else if d == 0 && len(o.s.Matched) > 0 && r.AvgPriceMatched >= 1.01 && r.AvgPriceMatched != o.s.AvgPriceMatched {
		// The exchange corrected the average price of what had matched
		// (the same size, a new average): its number is the one paid, so
		// it is taken, and the last fill takes the price that gives it.
		fills := o.s.Matched
		last := &fills[len(fills)-1]
		var rest float64 // price x size of the earlier fills
		for _, f := range fills[:len(fills)-1] {
			rest += f.Price * f.Size
		}
		if q := Round2((r.AvgPriceMatched*o.s.SizeMatched - rest) / last.Size); q >= 1.01 {
			last.Price = q
		}
		o.s.AvgPriceMatched = r.AvgPriceMatched
	}
	o.s.SizeCancelled = max(o.s.SizeCancelled, r.SizeCancelled)
	o.s.SizeLapsed = max(o.s.SizeLapsed, r.SizeLapsed)
	o.s.SizeVoided = max(o.s.SizeVoided, r.SizeVoided)
	switch {
	case o.s.Status.finished():
	case r.Complete:
		u.complete(st, o)
	case o.s.Status == Pending || o.s.Status == Unknown:
		// The exchange has it: an unanswered placement is resolved.
		o.s.Status = Executable
	}
}
