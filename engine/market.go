package engine

import (
	"time"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// Market is a strategy's view of one market at one book: the book itself
// (read it, never change it), the simulated clock, the strategy's orders,
// and the calls that place and change orders. It is valid only during the
// hook it was passed to.
type Market struct {
	st *marketState
	u  *unit
}

// ID returns the market id.
func (m *Market) ID() string { return m.st.id }

// Book returns the market's current book: definition, runners, ladders.
// It is shared with the engine: read it only.
func (m *Market) Book() *book.Market { return m.st.bk }

// Definition returns the latest market definition, nil before the first.
func (m *Market) Definition() *esa.MarketDefinition { return m.st.bk.Def }

// Status returns the market status (OPEN, SUSPENDED, CLOSED...).
func (m *Market) Status() esa.MarketStatus { return m.st.bk.Status() }

// InPlay reports whether the latest definition says the market is in play.
func (m *Market) InPlay() bool { return m.st.bk.Def != nil && m.st.bk.Def.InPlay }

// Version returns the market definition's version.
func (m *Market) Version() int64 {
	if m.st.bk.Def == nil {
		return 0
	}
	return m.st.bk.Def.Version
}

// BetDelay returns the market's bet delay in seconds (in-play delay).
func (m *Market) BetDelay() int {
	if m.st.bk.Def == nil {
		return 0
	}
	return m.st.bk.Def.BetDelay
}

// Now returns the simulated clock: the publish time (epoch ms) of the
// update being processed.
func (m *Market) Now() int64 { return m.u.now }

// PublishTime returns the publish time (epoch ms) of the market's book.
func (m *Market) PublishTime() int64 { return m.st.bk.PublishTime }

// SecondsToStart returns the seconds from the clock to the market's
// scheduled start (the definition's marketTime; negative once past it), and
// false when the definition has no readable marketTime.
func (m *Market) SecondsToStart() (float64, bool) {
	d := m.st.bk.Def
	if d == nil || d.MarketTime == "" {
		return 0, false
	}
	if d.MarketTime != m.st.marketTimeRaw {
		t, err := time.Parse(time.RFC3339Nano, d.MarketTime)
		if err != nil {
			return 0, false
		}
		m.st.marketTimeRaw, m.st.marketTime = d.MarketTime, t.UnixMicro()
	}
	return float64(m.st.marketTime-m.u.now*1000) / 1e6, true
}

// Runners returns the market's runners in the order first seen.
func (m *Market) Runners() []*book.Runner { return m.st.bk.Runners }

// Runner returns one runner, or nil.
func (m *Market) Runner(selectionID int64, handicap float64) *book.Runner {
	return m.st.bk.Runner(selectionID, handicap)
}

// Orders returns the strategy's orders in this market in placement order.
// The slice is the engine's: do not change it.
func (m *Market) Orders() []*Order { return m.st.orders }

// TradeCount is how many orders the strategy has placed (passed controls)
// on a runner in this market; LiveTradeCount how many of them are not yet
// complete.
func (m *Market) TradeCount(selectionID int64, handicap float64) int {
	return m.st.ctx(selectionID, handicap).trades
}

// LiveTradeCount is how many of the runner's orders are not yet complete.
func (m *Market) LiveTradeCount(selectionID int64, handicap float64) int {
	return m.st.ctx(selectionID, handicap).live
}

// OrderRequest describes an order to place. Type defaults to Limit and
// Persistence to Lapse.
type OrderRequest struct {
	SelectionID int64
	Handicap    float64
	Side        Side
	Type        OrderType
	Price       float64
	Size        float64
	Liability   float64
	Persistence Persistence
	MinFillSize float64
	FillOrKill  bool
	// MarketVersion, when not 0, is the market version the placement is
	// meant for (m.Version() when the strategy decided): Betfair's
	// marketVersion. If the market has moved to another version by the
	// time the placement reaches the exchange, it is refused and its size
	// voided (ERROR_IN_ORDER, flumine's model), so a bet meant for the
	// pre-off market never lands in play.
	MarketVersion int64
}

// Place checks an order against the controls and, if they pass, sends it
// to execution, which runs it after the placement latency. It always
// returns the order: a control's refusal is Status Violation with the
// reason in Violation, not an error.
func (m *Market) Place(req OrderRequest) *Order {
	st, u := m.st, m.u
	o := &Order{s: OrderState{
		ID: st.nextID, Slot: st.sl.idx, Strategy: st.sl.name, MarketID: st.id,
		SelectionID: req.SelectionID, Handicap: req.Handicap, Side: req.Side, Type: req.Type,
		Price: req.Price, Size: req.Size, Liability: req.Liability, Persistence: req.Persistence,
		MinFillSize: req.MinFillSize, FillOrKill: req.FillOrKill, PlaceVersion: req.MarketVersion,
		CreatedAt: u.now, DeadHeat: 1,
	}}
	st.nextID++
	o.s.CustomerRef = OrderRef(st.sl.ref, o.s.ID)
	if msg := u.checkPlace(st, o); msg != "" {
		o.s.Status, o.s.Violation = Violation, msg
		st.sl.violations++
		st.add(o)
		u.bet.journalOrder(o, nil)
		return o
	}
	c := st.ctx(o.s.SelectionID, o.s.Handicap)
	c.trades++
	c.live++
	o.s.Status, o.holdsLive = Pending, true
	st.add(o)
	st.live = append(st.live, o)
	st.x.Submit(Request{Kind: PlaceRequest, Order: o, At: u.now})
	return o
}

// PlaceLimit places a limit order with persistence LAPSE.
func (m *Market) PlaceLimit(selectionID int64, handicap float64, side Side, price, size float64) *Order {
	return m.Place(OrderRequest{SelectionID: selectionID, Handicap: handicap, Side: side, Price: price, Size: size})
}

// Cancel asks to cancel sizeReduction of an executable limit order, or all
// of its remainder when sizeReduction is 0. It reports whether the request
// was sent: only executable limit orders of an OPEN market can be
// cancelled.
func (m *Market) Cancel(o *Order, sizeReduction float64) bool {
	if !m.requestable(o) {
		return false
	}
	o.s.Status = Cancelling
	m.st.x.Submit(Request{Kind: CancelRequest, Order: o, At: m.u.now, SizeReduction: sizeReduction})
	return true
}

// Update asks to change an executable limit order's persistence.
func (m *Market) Update(o *Order, p Persistence) bool {
	if !m.requestable(o) || p != Lapse && m.u.admit(1, false) != "" {
		// Keeping a bet past the off adds exposure; lapsing it does not.
		return false
	}
	o.s.Status, o.newPersistence = Updating, p
	m.st.x.Submit(Request{Kind: UpdateRequest, Order: o, At: m.u.now, Persistence: p})
	return true
}

// Replace asks to move an executable limit order's remainder to a new
// price: a cancel, then a new order (with a new queue position). The new
// order is available from o.ReplacedBy once the request has run.
func (m *Market) Replace(o *Order, price float64) bool {
	if !m.requestable(o) {
		return false
	}
	if _, ok := book.Tick(price); !ok || m.u.admit(1, true) != "" {
		return false
	}
	o.s.Status = Replacing
	m.st.x.Submit(Request{Kind: ReplaceRequest, Order: o, At: m.u.now, Price: price})
	return true
}

// requestable reports whether a cancel, update or replace may be sent:
// an executable limit order with a bet id, the market OPEN (flumine's
// market validation control).
func (m *Market) requestable(o *Order) bool {
	return o != nil && o.s.MarketID == m.st.id && o.s.Status == Executable && o.s.Type == Limit && o.s.BetID != "" && m.Status() == esa.MarketOpen
}

// customerRef builds an order's customer order reference from the
// strategy name and the order id (OrderRef of StrategyRef).
func customerRef(name string, id int) string {
	return OrderRef(StrategyRef(name), id)
}

// Available returns a runner's available-to-back or -to-lay ladder, best
// price first. When the full ladder is empty it falls back to the best
// display and then the best levels (batb/bdatb), as betfairlightweight's
// book does, so strategies and execution see the same prices flumine does.
// buf is reused for the fallback.
func Available(r *book.Runner, side Side, buf []esa.PriceSize) []esa.PriceSize {
	full, display, best := &r.AvailableToBack, &r.BestDisplayAvailableToBack, &r.BestAvailableToBack
	if side == Lay {
		full, display, best = &r.AvailableToLay, &r.BestDisplayAvailableToLay, &r.BestAvailableToLay
	}
	if full.Len() > 0 {
		return full.Levels
	}
	lv := display.Levels
	if len(lv) == 0 {
		lv = best.Levels
	}
	buf = buf[:0]
	for _, l := range lv {
		buf = append(buf, esa.PriceSize{Price: l.Price, Size: l.Size})
	}
	return buf
}

// BestBack returns the price and size at depth (0 = best) of a runner's
// available-to-back ladder, and false when there is no such level.
func BestBack(r *book.Runner, depth int) (price, size float64, ok bool) {
	return at(Available(r, Back, nil), depth)
}

// BestLay returns the price and size at depth (0 = best) of a runner's
// available-to-lay ladder, and false when there is no such level.
func BestLay(r *book.Runner, depth int) (price, size float64, ok bool) {
	return at(Available(r, Lay, nil), depth)
}

func at(l []esa.PriceSize, depth int) (float64, float64, bool) {
	if depth < 0 || depth >= len(l) {
		return 0, 0, false
	}
	return l[depth].Price, l[depth].Size, true
}

// LadderWAP returns the volume-weighted average price and total size of the
// first depth levels of a ladder (all of them when depth <= 0).
func LadderWAP(levels []esa.PriceSize, depth int) (price, size float64) {
	if depth <= 0 || depth > len(levels) {
		depth = len(levels)
	}
	var a float64
	for _, l := range levels[:depth] {
		a += l.Price * l.Size
		size += l.Size
	}
	if size == 0 {
		return 0, 0
	}
	return a / size, size
}

// TicksAway returns the price n ticks above (n > 0) or below (n < 0) price
// on Betfair's standard ladder, and false when that leaves the ladder or
// price is not on it.
func TicksAway(price float64, n int) (float64, bool) {
	if n < 0 {
		return book.SubTicks(price, -n)
	}
	return book.AddTicks(price, n)
}
