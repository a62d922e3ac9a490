// Command favourite is a user's own build of trade with one extra strategy,
// "favourite", next to the built-ins: the whole of what a strategy author
// writes to backtest their own Go strategy.
//
//	go build -o mytrade ./examples/favourite
//	./mytrade strategies
//	./mytrade backtest --strategy favourite --param stake=5 ../shared/data/streams -o out
package main

import (
	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/tradecli"
)

// Favourite backs the favourite (the ACTIVE runner with the lowest best
// back price) once per market, a minute before the scheduled start, taking
// the best back price; it lays the same stake back two ticks lower once
// the back has matched, to lock in a small green.
type Favourite struct {
	engine.BaseStrategy
	Stake float64
	back  *engine.Order
	lay   *engine.Order
}

// Name implements engine.Strategy.
func (*Favourite) Name() string { return "favourite" }

// Limits implements engine.Limited: a few orders a market, never much.
func (*Favourite) Limits() engine.Limits {
	return engine.Limits{MaxOrderExposure: 100, MaxSelectionExposure: 200, MaxTradeCount: 2}
}

// CheckMarketBook wants books of an OPEN market before the off, within a
// minute of the start.
func (f *Favourite) CheckMarketBook(m *engine.Market) bool {
	secs, ok := m.SecondsToStart()
	return m.Status() == "OPEN" && !m.InPlay() && ok && secs <= 60
}

// ProcessMarketBook places the back once.
func (f *Favourite) ProcessMarketBook(m *engine.Market) {
	if f.back != nil {
		return
	}
	var fav struct {
		id    int64
		hc    float64
		price float64
	}
	for _, r := range m.Runners() {
		if r.Status() != "ACTIVE" {
			continue
		}
		if p, _, ok := engine.BestBack(r, 0); ok && (fav.price == 0 || p < fav.price) {
			fav.id, fav.hc, fav.price = r.SelectionID, r.Handicap, p
		}
	}
	if fav.price == 0 {
		return
	}
	f.back = m.PlaceLimit(fav.id, fav.hc, engine.Back, fav.price, f.Stake)
}

// ProcessOrders lays off once the back has matched in full.
func (f *Favourite) ProcessOrders(m *engine.Market, orders []*engine.Order) {
	b := f.back
	if b == nil || f.lay != nil || b.SizeMatched() < b.Size() || m.Status() != "OPEN" {
		return
	}
	price, ok := engine.TicksAway(b.AvgPriceMatched(), -2)
	if !ok {
		return
	}
	f.lay = m.PlaceLimit(b.SelectionID(), b.Handicap(), engine.Lay, price, f.Stake)
}

// Info registers the strategy.
func Info() strategies.Info {
	return strategies.Info{
		Name:        "favourite",
		Description: "a minute before the off, back the favourite, then lay it two ticks lower (example)",
		Params:      map[string]string{"stake": "stake per order (2)"},
		New: func(p strategies.Params) (engine.Strategy, error) {
			stake, err := p.Float("stake", 2)
			if err != nil {
				return nil, err
			}
			return &Favourite{Stake: stake}, nil
		},
	}
}

func main() { tradecli.Main(Info()) }
