package engine

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// limitedPlacer is placer with one trade per runner allowed.
type limitedPlacer struct{ placer }

func (*limitedPlacer) Limits() Limits { return Limits{MaxTradeCount: 1} }

// TestAdopt restarts a strategy with an order its earlier run left: the
// order is adopted when its market is first seen, counted in the trade
// limits (the strategy's new placement on that runner is refused by the
// control) and in the order numbers (no customerOrderRef is reused).
func TestAdopt(t *testing.T) {
	// Betfair's real listCurrentOrders row, moved to the streamed market and
	// given the references our earlier run would have sent.
	var env struct {
		Result struct{ CurrentOrders []betting.CurrentOrder } `json:"result"`
	}
	b, err := os.ReadFile(testenv.Shared(t, "data/api/betting/list_current_orders.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	rows := env.Result.CurrentOrders
	tape, err := os.Open(testenv.Shared(t, "data/streams/1.197931750"))
	if err != nil {
		t.Fatal(err)
	}
	defer tape.Close()
	line, _ := bufio.NewReader(tape).ReadBytes('\n')

	p := &limitedPlacer{}
	u, err := newUnit(&Config{NewStrategy: func() (Strategy, error) { return p, nil }, NewExecution: nil, Latency: FlumineLatency})
	if err != nil {
		t.Fatal(err)
	}
	var first int64
	{ // the first runner of the streamed market, as placer picks it
		probe, _ := newUnit(&Config{NewStrategy: func() (Strategy, error) { return &probeStrategy{}, nil }, Latency: FlumineLatency})
		probe.bet = &BettingConfig{}
		probe.line(line, "stream", 1)
		first = probe.markets["1.197931750"][0].bk.Runners[0].SelectionID
	}
	mine := rows[0]
	mine.MarketID, mine.SelectionID, mine.CustomerStrategyRef, mine.CustomerOrderRef = "1.197931750", first, "betexec-test", "betexec-test-4"
	other := rows[1]
	other.CustomerStrategyRef = "someone-else"
	if left := u.adopt([]betting.CurrentOrder{mine, other}); len(left) != 1 || left[0].BetID != other.BetID {
		t.Fatalf("left %v", left)
	}
	u.bet = &BettingConfig{} // live: nothing is simulated; nothing is sent in this test
	u.line(line, "stream", 1)
	st := u.markets["1.197931750"][0]
	if len(st.orders) != 2 {
		t.Fatalf("%d orders", len(st.orders))
	}
	a, n := st.orders[0], st.orders[1]
	if a.BetID() != mine.BetID || a.Status() != Executable || a.ID() != 4 || a.Price() != mine.PriceSize.Price || a.Side() != Back || a.PlacedAt() == 0 {
		t.Errorf("adopted %v (id %d, placed %d)", a, a.ID(), a.PlacedAt())
	}
	if n.Status() != Violation || n.ID() != 5 || n.CustomerRef() != "betexec-test-5" {
		t.Errorf("new order %v id %d: want a violation numbered after the adopted one", n, n.ID())
	}
	if st.ctx(first, 0).trades != 1 || st.ctx(first, 0).live != 1 {
		t.Errorf("runner counts %+v", *st.ctx(first, 0))
	}
}

// probeStrategy places nothing and wants no book.
type probeStrategy struct{ BaseStrategy }

func (*probeStrategy) Name() string { return "probe" }
