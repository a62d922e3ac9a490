package engine

import (
	"fmt"
	"slices"
)

// MinBet is the smallest bet Betfair takes in an account's currency: a
// limit order's stake of at least Size, or failing that a payout (price x
// stake) of at least Payout; at Betfair's starting price, a back's
// liability (its stake) of at least Size and a lay's liability of at least
// BSPLiability. A zero field takes the GBP figure.
type MinBet struct {
	Size, Payout, BSPLiability float64
}

// currencyMinBet is one row of Betfair's table of currency parameters.
type currencyMinBet struct {
	code string
	min  MinBet
}

// currencyMinBets is Betfair's table of currency parameters (minimum bet
// size, minimum bet payout, minimum BSP liability), from "Additional
// Information > Currency Parameters" on docs.developer.betfair.com
// (https://docs.developer.betfair.com/display/1smk3cen4v3lu3yomq5qye0ni/Additional+Information).
// It is a function returning an array, not a package variable, so that
// nothing can change it and a look-up allocates nothing.
func currencyMinBets() [19]currencyMinBet {
	return [...]currencyMinBet{
		{"GBP", MinBet{1, 10, 10}},
		{"EUR", MinBet{1, 20, 10}},
		{"USD", MinBet{3, 20, 20}},
		{"HKD", MinBet{25, 125, 125}},
		{"AUD", MinBet{5, 30, 30}},
		{"CAD", MinBet{6, 30, 30}},
		{"DKK", MinBet{30, 150, 150}},
		{"NOK", MinBet{30, 150, 150}},
		{"SEK", MinBet{30, 150, 150}},
		{"SGD", MinBet{6, 30, 30}},
		{"RON", MinBet{10, 50, 50}},
		{"BRL", MinBet{10, 50, 50}},
		{"MXN", MinBet{60, 300, 300}},
		{"PEN", MinBet{10, 50, 50}},
		{"HUF", MinBet{800, 4000, 4000}},
		{"ISK", MinBet{350, 1750, 1750}},
		{"NZD", MinBet{2, 10, 10}},
		{"ARS", MinBet{100, 500, 500}},
		{"GEL", MinBet{10, 50, 50}},
	}
}

// MinBetFor returns Betfair's minimum bet in a currency (an ISO 4217 code,
// as getAccountDetails' currencyCode gives it), and false for a currency
// Betfair's table does not list.
func MinBetFor(currency string) (MinBet, bool) {
	for _, r := range currencyMinBets() {
		if r.code == currency {
			return r.min, true
		}
	}
	return MinBet{}, false
}

// Currencies lists, sorted, the currency codes MinBetFor knows: for flag
// help and for the error that names an unknown currency.
func Currencies() []string {
	t := currencyMinBets()
	out := make([]string, 0, len(t))
	for _, r := range t {
		out = append(out, r.code)
	}
	slices.Sort(out)
	return out
}

// orGBP fills the fields left zero with Betfair's GBP minimums.
func (m MinBet) orGBP() MinBet {
	gbp, _ := MinBetFor("GBP")
	if m.Size == 0 {
		m.Size = gbp.Size
	}
	if m.Payout == 0 {
		m.Payout = gbp.Payout
	}
	if m.BSPLiability == 0 {
		m.BSPLiability = gbp.BSPLiability
	}
	return m
}

// TooSmall says why an order is below the minimum bet, Betfair's
// INVALID_BET_SIZE (or "" if it is not). A limit order passes on its
// stake or on its payout; at the starting price a back's liability is
// held to the minimum stake and a lay's to the minimum BSP liability, as
// flumine's order validation does. The controls and the local exchange
// both ask it, so the two refuse the same bets.
func (m MinBet) TooSmall(s *OrderState) string {
	m = m.orGBP()
	switch s.Type {
	case Limit:
		if s.Size < m.Size && s.Price*s.Size < m.Payout {
			return fmt.Sprintf("order size %g is below the minimum bet %g and payout %g", s.Size, m.Size, m.Payout)
		}
	case LimitOnClose, MarketOnClose:
		if s.Side == Back && s.Liability < m.Size {
			return fmt.Sprintf("liability %g of a back at the starting price is below the minimum bet %g", s.Liability, m.Size)
		}
		if s.Side == Lay && s.Liability < m.BSPLiability {
			return fmt.Sprintf("liability %g of a lay at the starting price is below the minimum BSP liability %g", s.Liability, m.BSPLiability)
		}
	}
	return ""
}
