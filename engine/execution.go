package engine

import (
	"fmt"

	"github.com/tapedeck/tapedeck/engine/book"
)

// Execution is a matching model: it carries out a market's order requests
// against recorded books as the exchange would, by changing the orders'
// ledgers. engine/sim has the models; the simulated Executor (and the local
// exchange) runs them. It is called from one goroutine only; one value
// serves one strategy instance in one market, so strategies sharing a
// replay never see each other's orders.
type Execution interface {
	// Place runs a placement against b, the book as it stood before the
	// update that released the request, at clock now. It sets the order's
	// fills, queue-ahead, ErrorCode, and sizes voided, lapsed or cancelled,
	// and reports whether the exchange accepted it.
	Place(o *OrderState, b *book.Market, now int64) bool
	// Cancel cancels size of o's remainder (all of it when size is 0) and
	// reports success.
	Cancel(o *OrderState, size float64, b *book.Market, now int64) bool
	// Update changes o's persistence and reports success.
	Update(o *OrderState, p Persistence, b *book.Market, now int64) bool
	// Book runs after an update (not CLOSED) is applied to b: passive fills,
	// lapses, non-runners, starting prices, on orders (the market's orders
	// of every strategy, in placement order).
	Book(b *book.Market, orders []*OrderState, now int64)
	// Settle sets runner status, dead heats and profit on every order at
	// the market's CLOSED update b.
	Settle(b *book.Market, orders []*OrderState)
}

// Latency is how long each request takes to reach the exchange, in
// seconds; place and replace add the market's bet delay. A request runs at
// the first later update of its market more than that after it was made.
type Latency struct {
	Place, Cancel, Update, Replace float64
}

// Delay is how long a request of kind k waits before it runs, in seconds,
// in a market with betDelay seconds of bet delay (in play): the one rule of
// the simulated executor and the local exchange (trade serve --betting).
func (l Latency) Delay(k RequestKind, betDelay int) float64 {
	switch k {
	case PlaceRequest:
		return l.Place + float64(betDelay)
	case CancelRequest:
		return l.Cancel
	case UpdateRequest:
		return l.Update
	case ReplaceRequest:
		return l.Replace + float64(betDelay)
	}
	return 0
}

// Due reports whether a request made at clock at (epoch ms) that waits
// delay seconds runs at an update of its market at clock now: only once
// more than its delay has passed. flumine compares
// timedelta.total_seconds() with the delay in floating point; so does
// this.
func Due(at, now int64, delay float64) bool {
	return float64((now-at)*1000)/1e6 > delay
}

// FlumineLatency are flumine 2.13's simulated latencies (config.py).
var FlumineLatency = Latency{Place: 0.120, Cancel: 0.170, Update: 0.150, Replace: 0.280}

// RequestKind says what a Request asks of the exchange.
type RequestKind uint8

// The four requests a strategy can make.
const (
	PlaceRequest RequestKind = iota
	CancelRequest
	UpdateRequest
	ReplaceRequest
)

var requestNames = [...]string{"place", "cancel", "update", "replace"}

// String names the request kind.
func (k RequestKind) String() string {
	if int(k) < len(requestNames) {
		return requestNames[k]
	}
	return fmt.Sprintf("RequestKind(%d)", uint8(k))
}

// Request is one instruction the event loop hands an Executor. The order is
// the loop's: an executor reads it and reports on it, and only the loop
// changes it (simulated executors excepted, whose model keeps the ledger).
type Request struct {
	Kind  RequestKind
	Order *Order
	// At is the clock (epoch ms) when the strategy made the request.
	At int64
	// SizeReduction is a cancel's size (0: all of the remainder);
	// Persistence an update's new persistence; Price a replace's new price.
	SizeReduction float64
	Persistence   Persistence
	Price         float64
}

// ReportKind says what a Report tells.
type ReportKind uint8

// The outcomes an executor reports. Each request ends in exactly one of
// success or Failed reports, or in NoAnswer when it was sent and no answer
// came (a timeout, a lost reply): the order's status becomes Unknown and the
// loop waits for the order stream or a lookup by reference, and never
// resends it. Changed carries the
// exchange's current view of an order (the order stream's change or a
// listCurrentOrders row).
const (
	Placed ReportKind = iota
	PlaceFailed
	Cancelled
	CancelFailed
	Updated
	UpdateFailed
	Replaced
	ReplaceFailed
	NoAnswer
	Changed
)

var reportNames = [...]string{"placed", "place failed", "cancelled", "cancel failed", "updated", "update failed", "replaced", "replace failed", "no answer", "changed"}

// String names the report kind.
func (k ReportKind) String() string {
	if int(k) < len(reportNames) {
		return reportNames[k]
	}
	return fmt.Sprintf("ReportKind(%d)", uint8(k))
}

// Report is an executor's answer about one order.
type Report struct {
	Kind  ReportKind
	Order *Order
	// At is the exchange's clock (epoch ms) when it happened.
	At int64
	// BetID comes with Placed; ErrorCode with the Failed kinds.
	BetID     string
	ErrorCode string
	// New is, with Replaced, the order that took the remainder (nil when
	// its placement failed).
	New *Order
	// Request is the kind of request a NoAnswer report is about.
	Request RequestKind
	// The exchange's cumulative view of the order, with Changed: sizes
	// matched, cancelled, lapsed and voided, the average matched price,
	// and whether the order is complete on the exchange.
	SizeMatched, AvgPriceMatched          float64
	SizeCancelled, SizeLapsed, SizeVoided float64
	Complete                              bool
}

// Executor carries out the requests of one market's orders, as simulated
// execution, the Betting API or the local exchange does. Submit never
// blocks; outcomes come back as Reports through the report function the
// loop passes, always on the loop's goroutine, so the loop alone changes
// order state.
type Executor interface {
	// Submit sends a request on its way.
	Submit(r Request)
	// Advance is called with the market's clock before each of its
	// updates is applied; an executor reports what has happened since.
	Advance(now int64, report func(Report))
	// Observe is called after an update (not CLOSED) is applied to b; a
	// simulated executor matches resting orders against it.
	Observe(b *book.Market, now int64, report func(Report))
	// Settle is called at the market's CLOSED update b; a simulated
	// executor settles every order there.
	Settle(b *book.Market)
	// Flush is called at the end of each cycle of the market: what was
	// submitted during it may go out together (one request per kind, as
	// Betfair's instruction limits allow).
	Flush()
}

// simRequest is a request waiting out its simulated latency.
type simRequest struct {
	Request
	delay float64 // seconds
}

// simExecutor is the Executor of backtests and paper trading: an
// Execution model behind a latency queue. A request runs at the first
// update of its market more than its latency after it was made, against
// the book as it stood before that update (flumine's rule).
type simExecutor struct {
	st      *marketState
	model   Execution
	lat     Latency
	pending []simRequest
	due     []simRequest
}

var _ Executor = (*simExecutor)(nil)

func (x *simExecutor) Submit(r Request) {
	x.pending = append(x.pending, simRequest{r, x.lat.Delay(r.Kind, x.betDelay())})
}

func (x *simExecutor) betDelay() int {
	if d := x.st.bk.Def; d != nil {
		return d.BetDelay
	}
	return 0
}

// Advance runs every request whose latency has passed, in the order they
// were made, against the book as it stands (the previous one).
func (x *simExecutor) Advance(now int64, report func(Report)) {
	if len(x.pending) == 0 {
		return
	}
	keep := x.pending[:0]
	due := x.due[:0]
	for _, r := range x.pending {
		if Due(r.At, now, r.delay) {
			due = append(due, r)
		} else {
			keep = append(keep, r)
		}
	}
	x.pending = keep
	for _, r := range due {
		x.run(r.Request, now, report)
	}
	clear(due)
	x.due = due[:0]
}

func (x *simExecutor) run(r Request, now int64, report func(Report)) {
	o, bk, m := r.Order, x.st.bk, x.model
	switch r.Kind {
	case PlaceRequest:
		report(x.place(o, now))
	case CancelRequest:
		if m.Cancel(&o.s, r.SizeReduction, bk, now) {
			report(Report{Kind: Cancelled, Order: o, At: now})
		} else {
			report(Report{Kind: CancelFailed, Order: o, At: now})
		}
	case UpdateRequest:
		if m.Update(&o.s, r.Persistence, bk, now) {
			report(Report{Kind: Updated, Order: o, At: now})
		} else {
			report(Report{Kind: UpdateFailed, Order: o, At: now})
		}
	case ReplaceRequest:
		before := o.s.SizeCancelled
		if !m.Cancel(&o.s, 0, bk, now) {
			report(Report{Kind: ReplaceFailed, Order: o, At: now})
			return
		}
		size := Round2(o.s.SizeCancelled - before)
		n := &Order{s: OrderState{ID: x.st.nextID, Slot: o.s.Slot, Strategy: o.s.Strategy, MarketID: o.s.MarketID, SelectionID: o.s.SelectionID,
			Handicap: o.s.Handicap, Side: o.s.Side, Type: Limit, Price: r.Price, Size: size,
			Persistence: o.s.Persistence, CreatedAt: r.At, DeadHeat: 1, Status: Pending}}
		n.s.CustomerRef = OrderRef(x.st.sl.ref, n.s.ID)
		rep := Report{Kind: Replaced, Order: o, At: now, New: n}
		if p := x.place(n, now); p.Kind == Placed {
			rep.BetID = p.BetID
		} else {
			rep.ErrorCode = p.ErrorCode
		}
		report(rep)
	}
}

// place runs a placement through the model; the simulated bet id is the
// market id and the order's number.
func (x *simExecutor) place(o *Order, now int64) Report {
	if !x.model.Place(&o.s, x.st.bk, now) {
		return Report{Kind: PlaceFailed, Order: o, At: now, ErrorCode: o.s.ErrorCode}
	}
	return Report{Kind: Placed, Order: o, At: now, BetID: fmt.Sprintf("%s-%d", x.st.id, o.s.ID)}
}

func (x *simExecutor) Observe(b *book.Market, now int64, _ func(Report)) {
	x.model.Book(b, x.st.states, now)
}

func (x *simExecutor) Settle(b *book.Market) {
	x.model.Settle(b, x.st.states)
}

// Flush does nothing: each simulated request waits out its own latency.
func (x *simExecutor) Flush() {}
