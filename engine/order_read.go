// Code in this file gives strategies read access to an Order; keep it in step with OrderState.

package engine

import "github.com/tapedeck/tapedeck/engine/esa"

// ID is the order's number within its market, from 0 in placement order.
func (o *Order) ID() int { return o.s.ID }

// CustomerRef is the customer order reference sent with it (at most 32 characters).
func (o *Order) CustomerRef() string { return o.s.CustomerRef }

// Strategy is the name of the strategy that placed it.
func (o *Order) Strategy() string { return o.s.Strategy }

// MarketID is the order's market.
func (o *Order) MarketID() string { return o.s.MarketID }

// SelectionID is the order's runner.
func (o *Order) SelectionID() int64 { return o.s.SelectionID }

// Handicap is the runner's handicap.
func (o *Order) Handicap() float64 { return o.s.Handicap }

// Side is BACK or LAY.
func (o *Order) Side() Side { return o.s.Side }

// Type is LIMIT, LIMIT_ON_CLOSE or MARKET_ON_CLOSE.
func (o *Order) Type() OrderType { return o.s.Type }

// Price is the limit order's price, or the limit-on-close price limit.
func (o *Order) Price() float64 { return o.s.Price }

// Size is the limit order's stake.
func (o *Order) Size() float64 { return o.s.Size }

// Liability is a limit-on-close or market-on-close order's liability.
func (o *Order) Liability() float64 { return o.s.Liability }

// Persistence is what happens to the unmatched part at the off.
func (o *Order) Persistence() Persistence { return o.s.Persistence }

// MinFillSize is the smallest size that may match at once (0: any).
func (o *Order) MinFillSize() float64 { return o.s.MinFillSize }

// FillOrKill says the order matches what it can at placement and cancels the rest.
func (o *Order) FillOrKill() bool { return o.s.FillOrKill }

// Status is the order's life-cycle status.
func (o *Order) Status() Status { return o.s.Status }

// Violation says which control stopped the order (Status Violation).
func (o *Order) Violation() string { return o.s.Violation }

// BetID is the exchange's bet id, empty until it accepted the order.
func (o *Order) BetID() string { return o.s.BetID }

// ErrorCode is the exchange's error code when a placement failed.
func (o *Order) ErrorCode() string { return o.s.ErrorCode }

// CreatedAt is the clock (epoch ms) when the strategy placed the order.
func (o *Order) CreatedAt() int64 { return o.s.CreatedAt }

// PlacedAt is the clock (epoch ms) when the exchange accepted it, 0 while pending.
func (o *Order) PlacedAt() int64 { return o.s.PlacedAt }

// CompletedAt is the clock (epoch ms) when it became complete.
func (o *Order) CompletedAt() int64 { return o.s.CompletedAt }

// SizeMatched is the total matched, rounded to 2 decimals.
func (o *Order) SizeMatched() float64 { return o.s.SizeMatched }

// AvgPriceMatched is the volume-weighted price matched, rounded to 2 decimals.
func (o *Order) AvgPriceMatched() float64 { return o.s.AvgPriceMatched }

// SizeCancelled is the size cancelled.
func (o *Order) SizeCancelled() float64 { return o.s.SizeCancelled }

// SizeLapsed is the size lapsed.
func (o *Order) SizeLapsed() float64 { return o.s.SizeLapsed }

// SizeVoided is the size voided.
func (o *Order) SizeVoided() float64 { return o.s.SizeVoided }

// QueueAhead is the size ahead of the order at its price.
func (o *Order) QueueAhead() float64 { return o.s.QueueAhead }

// QueueAheadAtPlace is QueueAhead right after placement.
func (o *Order) QueueAheadAtPlace() float64 { return o.s.QueueAheadAtPlace }

// RunnerStatus is the runner's status at settlement.
func (o *Order) RunnerStatus() esa.RunnerStatus { return o.s.RunnerStatus }

// DeadHeat is the number of dead-heat winners (1 without a dead heat).
func (o *Order) DeadHeat() int { return o.s.DeadHeat }

// Profit is the settled profit before commission.
func (o *Order) Profit() float64 { return o.s.Profit }

// Settled says the market has settled the order.
func (o *Order) Settled() bool { return o.s.Settled }

// MarketVersion is the market version the order last saw.
func (o *Order) MarketVersion() int64 { return o.s.MarketVersion }

// BSPReconciled says the order has seen a reconciled book.
func (o *Order) BSPReconciled() bool { return o.s.BSPReconciled }

// Matched returns a copy of every fill in order: the engine's own list
// must not change under the strategy.
func (o *Order) Matched() []Fill { return append([]Fill(nil), o.s.Matched...) }

// State returns a copy of the order's whole ledger, for writers of results.
func (o *Order) State() OrderState {
	s := o.s
	s.Matched = append([]Fill(nil), s.Matched...)
	return s
}

// Slot is which of the run's strategy instances placed the order (its
// index in Config.NewStrategies; 0 with NewStrategy).
func (o *Order) Slot() int { return o.s.Slot }
