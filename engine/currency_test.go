package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tapedeck/tapedeck/engine"
)

// TestMinBetFor: Betfair's currency parameters by code, and no answer for
// a currency the table does not list.
func TestMinBetFor(t *testing.T) {
	for _, tc := range []struct {
		code string
		want engine.MinBet
		ok   bool
	}{
		{"GBP", engine.MinBet{Size: 1, Payout: 10, BSPLiability: 10}, true},
		{"EUR", engine.MinBet{Size: 1, Payout: 20, BSPLiability: 10}, true},
		{"AUD", engine.MinBet{Size: 5, Payout: 30, BSPLiability: 30}, true},
		{"HUF", engine.MinBet{Size: 800, Payout: 4000, BSPLiability: 4000}, true},
		{"GEL", engine.MinBet{Size: 10, Payout: 50, BSPLiability: 50}, true},
		{"gbp", engine.MinBet{}, false},
		{"JPY", engine.MinBet{}, false},
		{"", engine.MinBet{}, false},
	} {
		got, ok := engine.MinBetFor(tc.code)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MinBetFor(%q) = %+v, %v; want %+v, %v", tc.code, got, ok, tc.want, tc.ok)
		}
	}
	cs := engine.Currencies()
	if len(cs) != 19 || !slices.IsSorted(cs) || !slices.Contains(cs, "NZD") {
		t.Errorf("Currencies() = %v", cs)
	}
	for _, c := range cs {
		if m, ok := engine.MinBetFor(c); !ok || !(m.Size > 0 && m.Payout >= m.Size && m.BSPLiability > 0) {
			t.Errorf("%s: %+v %v", c, m, ok)
		}
	}
}

// TestMinBetTooSmall: Betfair's INVALID_BET_SIZE rule. A limit order
// passes on its stake or its payout; at the starting price a back's
// liability is held to the minimum stake, a lay's to the minimum BSP
// liability; zero figures are GBP's.
func TestMinBetTooSmall(t *testing.T) {
	aud, _ := engine.MinBetFor("AUD")
	for _, tc := range []struct {
		name string
		min  engine.MinBet
		s    engine.OrderState
		why  string // part of the reason; "" passes
	}{
		{"GBP stake 1", engine.MinBet{}, engine.OrderState{Type: engine.Limit, Price: 2, Size: 1}, ""},
		{"GBP stake 0.5 payout 5", engine.MinBet{}, engine.OrderState{Type: engine.Limit, Price: 10, Size: 0.5}, "below the minimum bet 1 and payout 10"},
		{"GBP stake 0.5 payout 10", engine.MinBet{}, engine.OrderState{Type: engine.Limit, Price: 20, Size: 0.5}, ""},
		{"AUD stake 4 payout 8", aud, engine.OrderState{Type: engine.Limit, Price: 2, Size: 4}, "below the minimum bet 5 and payout 30"},
		{"AUD stake 4 payout 40", aud, engine.OrderState{Type: engine.Limit, Price: 10, Size: 4}, ""},
		{"AUD stake 5", aud, engine.OrderState{Type: engine.Limit, Side: engine.Lay, Price: 1.5, Size: 5}, ""},
		{"AUD BSP back 4", aud, engine.OrderState{Type: engine.MarketOnClose, Side: engine.Back, Liability: 4}, "minimum bet 5"},
		{"AUD BSP back 5", aud, engine.OrderState{Type: engine.MarketOnClose, Side: engine.Back, Liability: 5}, ""},
		{"AUD BSP lay 29", aud, engine.OrderState{Type: engine.LimitOnClose, Side: engine.Lay, Price: 3, Liability: 29}, "minimum BSP liability 30"},
		{"AUD BSP lay 30", aud, engine.OrderState{Type: engine.LimitOnClose, Side: engine.Lay, Price: 3, Liability: 30}, ""},
		{"GBP BSP lay 9.99", engine.MinBet{}, engine.OrderState{Type: engine.MarketOnClose, Side: engine.Lay, Liability: 9.99}, "minimum BSP liability 10"},
		{"GBP BSP back 1", engine.MinBet{}, engine.OrderState{Type: engine.MarketOnClose, Side: engine.Back, Liability: 1}, ""},
	} {
		why := tc.min.TooSmall(&tc.s)
		if tc.why == "" && why != "" || tc.why != "" && !strings.Contains(why, tc.why) {
			t.Errorf("%s: %q, want %q", tc.name, why, tc.why)
		}
	}
}
