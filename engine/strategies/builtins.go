package strategies

import (
	"sort"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/esa"
)

// Stake is the built-ins' stake per order (GBP).
const Stake = 2.0

// LowestLayer is flumine's example strategy: on each book while the market
// is OPEN and in play, it takes the ACTIVE runners with a last traded
// price, sorted ascending by it (ties keep book order); if the lowest is at
// most MaxPrice and that runner has no live trade, it lays Stake at the
// best available-to-lay price (none: skip). It cancels any of its orders
// still executable more than CancelAfter seconds after placement.
type LowestLayer struct {
	engine.BaseStrategy
	MaxPrice    float64
	CancelAfter float64
	Stake       float64
	prices      []ltp
}

type ltp struct {
	i     int
	price float64
}

// LowestLayerInfo registers LowestLayer as "lowest-layer".
func LowestLayerInfo() Info {
	return Info{
		Name:        "lowest-layer",
		Description: "in play, lay the runner with the lowest last traded price (<= 3) at the best lay; cancel after 2 s (flumine's example)",
		Params:      map[string]string{"max_price": "highest last traded price to lay (3)", "cancel_after": "seconds before an unmatched order is cancelled (2)", "stake": "stake per order (2)"},
		New: func(p Params) (engine.Strategy, error) {
			s := &LowestLayer{MaxPrice: 3, CancelAfter: 2, Stake: Stake}
			var err error
			if s.MaxPrice, err = p.Float("max_price", 3); err != nil {
				return nil, err
			}
			if s.CancelAfter, err = p.Float("cancel_after", 2); err != nil {
				return nil, err
			}
			if s.Stake, err = p.Float("stake", Stake); err != nil {
				return nil, err
			}
			return s, nil
		},
	}
}

// Name implements engine.Strategy.
func (*LowestLayer) Name() string { return "lowest-layer" }

// Limits implements engine.Limited.
func (*LowestLayer) Limits() engine.Limits { return ReferenceLimits }

// CheckMarketBook implements engine.Strategy: OPEN and in play.
func (*LowestLayer) CheckMarketBook(m *engine.Market) bool {
	return m.Status() == esa.MarketOpen && m.InPlay()
}

// ProcessMarketBook implements engine.Strategy.
func (s *LowestLayer) ProcessMarketBook(m *engine.Market) {
	s.prices = s.prices[:0]
	runners := m.Runners()
	for i, r := range runners {
		if r.Status() == esa.RunnerActive && r.HasLastPriceTraded && r.LastPriceTraded != 0 {
			s.prices = append(s.prices, ltp{i, r.LastPriceTraded})
		}
	}
	if len(s.prices) == 0 {
		return
	}
	sort.SliceStable(s.prices, func(i, j int) bool { return s.prices[i].price < s.prices[j].price })
	if s.prices[0].price > s.MaxPrice {
		return
	}
	r := runners[s.prices[0].i]
	if m.LiveTradeCount(r.SelectionID, r.Handicap) != 0 {
		return
	}
	lay, _, ok := engine.BestLay(r, 0)
	if !ok {
		return
	}
	m.PlaceLimit(r.SelectionID, r.Handicap, engine.Lay, lay, s.Stake)
}

// ProcessOrders implements engine.Strategy: cancel what is still executable
// CancelAfter seconds after placement.
func (s *LowestLayer) ProcessOrders(m *engine.Market, orders []*engine.Order) {
	for _, o := range orders {
		if o.Status() == engine.Executable && o.ElapsedSeconds(m.Now()) > s.CancelAfter {
			m.Cancel(o, 0)
		}
	}
}

// PassiveBack backs every ACTIVE runner once, shortly before the off: on
// each book while the market is OPEN, not in play and at most Within
// seconds to the scheduled start, for each ACTIVE runner with both a best
// back and a best lay price and no order yet, it backs Stake at the best
// lay price, where the order rests in the queue. It never cancels.
type PassiveBack struct {
	engine.BaseStrategy
	Within float64
	Stake  float64
}

// PassiveBackInfo registers PassiveBack as "passive-back".
func PassiveBackInfo() Info {
	return Info{
		Name:        "passive-back",
		Description: "pre-off (<= 180 s), back each ACTIVE runner once at the best lay price, resting in the queue",
		Params:      map[string]string{"within": "seconds to the start from which to place (180)", "stake": "stake per order (2)"},
		New: func(p Params) (engine.Strategy, error) {
			s := &PassiveBack{}
			var err error
			if s.Within, err = p.Float("within", 180); err != nil {
				return nil, err
			}
			if s.Stake, err = p.Float("stake", Stake); err != nil {
				return nil, err
			}
			return s, nil
		},
	}
}

// Name implements engine.Strategy.
func (*PassiveBack) Name() string { return "passive-back" }

// Limits implements engine.Limited.
func (*PassiveBack) Limits() engine.Limits { return ReferenceLimits }

// CheckMarketBook implements engine.Strategy: OPEN, not in play, close to
// the start.
func (s *PassiveBack) CheckMarketBook(m *engine.Market) bool {
	secs, ok := m.SecondsToStart()
	return m.Status() == esa.MarketOpen && !m.InPlay() && ok && secs <= s.Within
}

// ProcessMarketBook implements engine.Strategy.
func (s *PassiveBack) ProcessMarketBook(m *engine.Market) {
	for _, r := range m.Runners() {
		if r.Status() != esa.RunnerActive {
			continue
		}
		_, _, okb := engine.BestBack(r, 0)
		lay, _, okl := engine.BestLay(r, 0)
		if !okb || !okl || m.TradeCount(r.SelectionID, r.Handicap) != 0 {
			continue
		}
		m.PlaceLimit(r.SelectionID, r.Handicap, engine.Back, lay, s.Stake)
	}
}
