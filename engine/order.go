package engine

import (
	"fmt"
	"math"
	"strconv"

	"github.com/tapedeck/tapedeck/engine/esa"
)

// Side is the side of a bet: backing a selection to win, or laying it.
type Side uint8

// The two sides.
const (
	Back Side = iota
	Lay
)

// String returns Betfair's name of the side.
func (s Side) String() string {
	if s == Lay {
		return "LAY"
	}
	return "BACK"
}

// OrderType is Betfair's order type.
type OrderType uint8

// Order types: a limit order (price and size), a limit-on-close order (a BSP
// bet with a price limit and a liability) and a market-on-close order (a BSP
// bet with a liability).
const (
	Limit OrderType = iota
	LimitOnClose
	MarketOnClose
)

// String returns Betfair's name of the order type.
func (t OrderType) String() string {
	switch t {
	case LimitOnClose:
		return "LIMIT_ON_CLOSE"
	case MarketOnClose:
		return "MARKET_ON_CLOSE"
	}
	return "LIMIT"
}

// Persistence is what happens to a limit order's unmatched part when the
// market turns in play: LAPSE it, PERSIST it, or take the starting price
// (MARKET_ON_CLOSE).
type Persistence uint8

// The three persistence types.
const (
	Lapse Persistence = iota
	Persist
	PersistMarketOnClose
)

// String returns Betfair's name of the persistence type.
func (p Persistence) String() string {
	switch p {
	case Persist:
		return "PERSIST"
	case PersistMarketOnClose:
		return "MARKET_ON_CLOSE"
	}
	return "LAPSE"
}

// Status is an order's life-cycle status, flumine's OrderStatus.
type Status uint8

// Order statuses. Pending: accepted by the controls, waiting for its
// placement to run; Executable: on the exchange with a part unmatched;
// Cancelling, Updating, Replacing: a request is on its way; Unknown: a
// request was sent and no answer came (a timeout, a lost reply), so the
// order may or may not be on the exchange: it is never treated as failed
// nor sent again, and the order stream or a lookup by its customerOrderRef
// resolves it; ExecutionComplete: nothing left to match; Expired: ended by
// its time in force; Violation: stopped by a control, never sent.
const (
	Pending Status = iota
	Executable
	Cancelling
	Updating
	Replacing
	Unknown
	ExecutionComplete
	Expired
	Violation
)

var statusNames = [...]string{"PENDING", "EXECUTABLE", "CANCELLING", "UPDATING", "REPLACING", "UNKNOWN", "EXECUTION_COMPLETE", "EXPIRED", "VIOLATION"}

// String returns the status's upper-case name, as flumine's enum names it.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Live reports whether the order is still in play on the exchange or on its
// way there (flumine's LIVE_STATUS).
func (s Status) Live() bool { return s <= Unknown }

// Fill is one match: when (publish time of the book it came from, epoch ms),
// at what price, for what size.
type Fill struct {
	Pt    int64
	Price float64
	Size  float64
}

// OrderState is an order's ledger: what the strategy asked for, what
// controls and execution made of it, and its settlement. Execution models
// (engine/sim, the local exchange) change it through the pointer the event
// loop hands them; a strategy never gets one and reads its orders through
// Order's methods.
type OrderState struct {
	// ID is the order's number within its market, from 0 in placement order.
	ID int
	// Slot is which of the replay's strategy instances placed it (its
	// index in Config.NewStrategies' slice; 0 with one strategy).
	Slot int
	// CustomerRef is the customer order reference sent with it: the
	// strategy's name and the order id, at most 32 characters.
	CustomerRef string
	Strategy    string
	MarketID    string
	SelectionID int64
	Handicap    float64

	Side Side
	Type OrderType
	// Price is the limit order's price, or the limit-on-close price limit.
	Price float64
	// Size is the limit order's stake.
	Size float64
	// Liability is a limit-on-close or market-on-close order's liability.
	Liability   float64
	Persistence Persistence
	// MinFillSize, when > 0, is the smallest size that may match at once;
	// FillOrKill makes the order match what it can at placement and cancel
	// the rest.
	MinFillSize float64
	FillOrKill  bool

	Status Status
	// Violation says which control stopped the order (Status Violation).
	Violation string
	// BetID is the (simulated) exchange's bet id; ErrorCode the placement's
	// error code when it failed (ERROR_IN_ORDER, RUNNER_REMOVED...).
	BetID     string
	ErrorCode string

	// CreatedAt is the clock (epoch ms) when the strategy placed it;
	// PlacedAt when the exchange accepted it (0 while pending); CompletedAt
	// when it became ExecutionComplete.
	CreatedAt, PlacedAt, CompletedAt int64

	// Matched is every fill in order; SizeMatched and AvgPriceMatched are
	// their total and volume-weighted price, both rounded to 2 decimals.
	Matched         []Fill
	SizeMatched     float64
	AvgPriceMatched float64
	SizeCancelled   float64
	SizeLapsed      float64
	SizeVoided      float64

	// QueueAhead is the size ahead of the order at its price;
	// QueueAheadAtPlace its value right after placement.
	QueueAhead        float64
	QueueAheadAtPlace float64

	// RunnerStatus is the runner's status at settlement (WINNER, LOSER,
	// REMOVED, PLACED), DeadHeat the number of dead-heat winners (1 without
	// a dead heat), Profit the order's settled profit before commission.
	RunnerStatus esa.RunnerStatus
	DeadHeat     int
	Profit       float64
	Settled      bool

	// MarketVersion is the market version the order last saw; execution
	// models use it to lapse orders on a material change.
	MarketVersion int64
	// PlaceVersion, when not 0, is the market version the placement was
	// made for (OrderRequest.MarketVersion): the placement fails if the
	// market is at another version when it runs.
	PlaceVersion int64
	// BSPReconciled is set once the order has seen a reconciled book.
	BSPReconciled bool
}

// Order is one order of one strategy in one market, as the strategy sees
// it: every method reads, none changes it. The event loop owns its state
// (one goroutine per loop), so strategy code needs no locks.
type Order struct {
	s OrderState

	// newPersistence is the persistence a pending update asks for.
	newPersistence Persistence
	replacedBy     *Order
	// holdsLive says the order counts in its runner's live trades.
	holdsLive bool
}

// SizeRemaining is a limit order's unmatched, uncancelled, unlapsed,
// unvoided size, rounded to 2 decimals; 0 for the BSP order types.
func (o *Order) SizeRemaining() float64 { return o.s.SizeRemaining() }

// SizeRemaining is a limit order's unmatched, uncancelled, unlapsed,
// unvoided size, rounded to 2 decimals; 0 for the BSP order types.
func (o *OrderState) SizeRemaining() float64 {
	if o.Type != Limit {
		return 0
	}
	return Round2(o.Size - o.SizeMatched - o.SizeCancelled - o.SizeLapsed - o.SizeVoided)
}

// AddFill records a match and recomputes size matched and average price.
func (o *OrderState) AddFill(f Fill) {
	o.Matched = append(o.Matched, f)
	o.RecomputeMatched()
}

// RecomputeMatched recomputes SizeMatched and AvgPriceMatched from Matched
// (after a reduction factor changed its prices, say).
func (o *OrderState) RecomputeMatched() {
	o.SizeMatched, o.AvgPriceMatched = WAP(o.Matched)
}

// ElapsedSeconds is the time since the exchange accepted the order, by the
// clock now (epoch ms); 0 while it is pending.
func (o *Order) ElapsedSeconds(now int64) float64 {
	if o.s.PlacedAt == 0 {
		return 0
	}
	return float64(now-o.s.PlacedAt) / 1000
}

// Exposure is the most the order can lose: its stake for a back, its
// liability for a lay.
func (o *Order) Exposure() float64 { return o.s.Exposure() }

// Exposure is the most the order can lose: its stake for a back, its
// liability for a lay.
func (o *OrderState) Exposure() float64 {
	switch o.Type {
	case Limit:
		if o.Side == Lay {
			return (o.Price - 1) * o.Size
		}
		return o.Size
	default:
		return o.Liability
	}
}

// ReplacedBy is the order a replace created in this order's place, or nil.
func (o *Order) ReplacedBy() *Order { return o.replacedBy }

// String describes the order for logs.
func (o *Order) String() string {
	return o.s.String()
}

// String describes the order for logs.
func (o *OrderState) String() string {
	return fmt.Sprintf("%s %s/%d %s %s %g@%g %s", o.CustomerRef, o.MarketID, o.SelectionID, o.Side, o.Type, o.Size, o.Price, o.Status)
}

// Complete marks the order ExecutionComplete at clock now (epoch ms);
// execution models call it when an order can match no more.
func (o *OrderState) Complete(now int64) {
	if o.Status != ExecutionComplete {
		o.Status = ExecutionComplete
		o.CompletedAt = now
	}
}

// WAP returns the total size and the volume-weighted average price of fills,
// each rounded to 2 decimals as flumine's wap does; (0, 0) when there are no
// fills or they sum to nothing.
func WAP(fills []Fill) (size, price float64) {
	var a, b float64
	for _, f := range fills {
		a += f.Price * f.Size
		b += f.Size
	}
	if a == 0 || b == 0 {
		return 0, 0
	}
	return Round2(b), Round2(a / b)
}

// Round2 rounds x to 2 decimals as Python's round(x, 2) does (correctly
// rounded from x's binary value, ties to even), which is what flumine's
// arithmetic gives.
func Round2(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	// Fast path: away from a tie, the nearest hundredth k/100 is what the
	// decimal route gives, and k/100 (both exact) divides correctly
	// rounded to the float64 that parsing "k/100" gives.
	if y := x * 100; math.Abs(y) < 1e15 {
		if d := y - math.Floor(y); math.Abs(d-0.5) > 1e-6 {
			return math.Round(y) / 100
		}
	}
	var buf [40]byte
	v, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], x, 'f', 2, 64)), 64)
	if err != nil {
		return x
	}
	return v
}
