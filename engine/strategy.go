// Package engine runs trading strategies: one event loop calls a Strategy's
// hooks with a read-only view of each market book, checks the orders the
// strategy places against its controls, and hands them to an Execution
// (engine/sim simulates the exchange for backtests). Replay drives the loop
// over tapes, one market at a time and many markets in parallel.
package engine

// Strategy is a trading strategy: the engine calls its hooks from one event
// loop, never concurrently for one instance. Embed BaseStrategy to get
// no-op hooks and implement only the ones needed.
//
// In a backtest each market (or, with event grouping, each event) gets its
// own instance from the strategy's factory, so an instance never sees two
// replays at once; Start and Finish bracket that instance's work. Several
// instances (Config.NewStrategies) may share one market's replay, each with
// its own orders, limits and execution.
type Strategy interface {
	// Name is the strategy's name; it prefixes every customer order
	// reference.
	Name() string
	// Start is called once before the first book.
	Start()
	// ProcessNewMarket is called with a market's first book.
	ProcessNewMarket(m *Market)
	// CheckMarketBook says whether ProcessMarketBook should see this book.
	CheckMarketBook(m *Market) bool
	// ProcessMarketBook is where a strategy places orders.
	ProcessMarketBook(m *Market)
	// ProcessOrders is called after each book, once the market has orders
	// of this strategy, with all of them (live and complete) in placement
	// order.
	ProcessOrders(m *Market, orders []*Order)
	// ProcessClosedMarket is called once when the market closes, after
	// settlement.
	ProcessClosedMarket(m *Market)
	// Finish is called once after the last book.
	Finish()
}

// Limits are a strategy's exposure and trade-count limits; zero means no
// limit. Exposure is the worst-case loss (a back's stake, a lay's
// liability).
type Limits struct {
	// MaxOrderExposure limits one order's exposure.
	MaxOrderExposure float64
	// MaxSelectionExposure limits the summed exposure of one runner's
	// placed orders (pending ones not counted, as flumine does).
	MaxSelectionExposure float64
	// MaxMarketExposure limits the summed exposure of a market's orders.
	MaxMarketExposure float64
	// MaxTradeCount limits the orders placed on one runner in one market;
	// MaxLiveTradeCount the ones still live there.
	MaxTradeCount     int
	MaxLiveTradeCount int
}

// Limited is implemented by strategies that set their own limits.
type Limited interface {
	Limits() Limits
}

// BaseStrategy has a no-op implementation of every hook but Name and
// ProcessMarketBook's work; CheckMarketBook returns false. Embed it.
type BaseStrategy struct{}

// Start does nothing.
func (BaseStrategy) Start() {}

// ProcessNewMarket does nothing.
func (BaseStrategy) ProcessNewMarket(*Market) {}

// CheckMarketBook returns false: a strategy that wants books says so.
func (BaseStrategy) CheckMarketBook(*Market) bool { return false }

// ProcessMarketBook does nothing.
func (BaseStrategy) ProcessMarketBook(*Market) {}

// ProcessOrders does nothing.
func (BaseStrategy) ProcessOrders(*Market, []*Order) {}

// ProcessClosedMarket does nothing.
func (BaseStrategy) ProcessClosedMarket(*Market) {}

// Finish does nothing.
func (BaseStrategy) Finish() {}
