package engine

import (
	"fmt"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// checkPlace runs the controls flumine runs when a strategy places an order
// (order validation, market validation, strategy exposure and trade counts)
// and returns the first violation's message, or "".
func (u *unit) checkPlace(st *marketState, o *Order) string {
	switch o.s.Type {
	case Limit:
		if !(o.s.Size > 0) || Round2(o.s.Size) != o.s.Size {
			return fmt.Sprintf("order size %g is not a positive amount of at most 2 decimals", o.s.Size)
		}
		if _, ok := book.Tick(o.s.Price); !ok {
			return fmt.Sprintf("price %g is not on the price ladder", o.s.Price)
		}
		if o.s.MinFillSize < 0 || o.s.MinFillSize > o.s.Size && !o.s.FillOrKill {
			return fmt.Sprintf("min fill size %g is outside 0..size", o.s.MinFillSize)
		}
	case LimitOnClose:
		if _, ok := book.Tick(o.s.Price); !ok {
			return fmt.Sprintf("price %g is not on the price ladder", o.s.Price)
		}
		fallthrough
	case MarketOnClose:
		if !(o.s.Liability > 0) || Round2(o.s.Liability) != o.s.Liability {
			return fmt.Sprintf("liability %g is not a positive amount of at most 2 decimals", o.s.Liability)
		}
	}
	if why := u.cfg.MinBet.TooSmall(&o.s); why != "" {
		return why
	}
	if st.bk.Runner(o.s.SelectionID, o.s.Handicap) == nil {
		return fmt.Sprintf("runner %d (handicap %g) is not in market %s", o.s.SelectionID, o.s.Handicap, st.id)
	}
	if s := st.bk.Status(); s != esa.MarketOpen {
		return "market is not open (" + string(s) + ")"
	}
	l := st.sl.limits
	c := st.ctx(o.s.SelectionID, o.s.Handicap)
	if l.MaxTradeCount > 0 && c.trades >= l.MaxTradeCount {
		return fmt.Sprintf("trade count %d reached the limit %d", c.trades, l.MaxTradeCount)
	}
	if l.MaxLiveTradeCount > 0 && c.live >= l.MaxLiveTradeCount {
		return fmt.Sprintf("live trade count %d reached the limit %d", c.live, l.MaxLiveTradeCount)
	}
	exp := o.Exposure()
	if l.MaxOrderExposure > 0 && exp > l.MaxOrderExposure {
		return fmt.Sprintf("order exposure %.2f is over the limit %g", exp, l.MaxOrderExposure)
	}
	if l.MaxSelectionExposure > 0 || l.MaxMarketExposure > 0 {
		var sel, mkt float64
		for _, x := range st.orders {
			if x.s.Status == Pending || x.s.Status == Violation {
				continue
			}
			e := x.openExposure()
			mkt += e
			if x.s.SelectionID == o.s.SelectionID && x.s.Handicap == o.s.Handicap {
				sel += e
			}
		}
		if l.MaxSelectionExposure > 0 && sel+exp > l.MaxSelectionExposure {
			return fmt.Sprintf("selection exposure %.2f is over the limit %g", sel+exp, l.MaxSelectionExposure)
		}
		if l.MaxMarketExposure > 0 && mkt+exp > l.MaxMarketExposure {
			return fmt.Sprintf("market exposure %.2f is over the limit %g", mkt+exp, l.MaxMarketExposure)
		}
	}
	// The run's controls come last: they count what they let go.
	return u.admit(1, true)
}

// openExposure is the exposure an order still carries: its matched part
// and its unmatched remainder at its own price.
func (o *Order) openExposure() float64 {
	if o.s.Type != Limit {
		return o.s.Liability
	}
	size := o.s.SizeMatched + o.SizeRemaining()
	if o.s.Side == Lay {
		p := o.s.Price
		if o.s.SizeMatched > 0 && o.s.AvgPriceMatched > p {
			p = o.s.AvgPriceMatched
		}
		return (p - 1) * size
	}
	return size
}
