package sim_test

import (
	"context"
	"testing"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

func TestProfit(t *testing.T) {
	win := &esa.MarketDefinition{MarketType: "WIN", NumberOfWinners: 1}
	for _, tc := range []struct {
		name   string
		side   engine.Side
		status esa.RunnerStatus
		dh     int
		size   float64
		avg    float64
		want   float64
	}{
		{"back winner", engine.Back, "WINNER", 1, 2, 23, 44},
		{"lay winner", engine.Lay, "WINNER", 1, 2, 1.5, -1},
		{"back loser", engine.Back, "LOSER", 1, 2, 75, -2},
		{"lay loser", engine.Lay, "LOSER", 1, 2, 3, 2},
		{"removed", engine.Back, "REMOVED", 1, 2, 3, 0},
		{"dead heat of two", engine.Back, "WINNER", 2, 2, 5, 3},   // 1*4 - 1
		{"dead heat of three", engine.Back, "WINNER", 3, 3, 7, 4}, // 1*6 - 2
		{"lay dead heat of two", engine.Lay, "WINNER", 2, 2, 5, -3},
	} {
		o := &engine.OrderState{Side: tc.side, RunnerStatus: tc.status, DeadHeat: tc.dh, SizeMatched: tc.size, AvgPriceMatched: tc.avg}
		if got := sim.Profit(o, win); got != tc.want {
			t.Errorf("%s: profit %g, want %g", tc.name, got, tc.want)
		}
	}
}

func TestParseModel(t *testing.T) {
	for s, want := range map[string]sim.Model{"flumine": sim.Flumine, "": sim.Flumine, "queue": sim.Queue} {
		if m, err := sim.ParseModel(s); err != nil || m != want {
			t.Errorf("ParseModel(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := sim.ParseModel("fast"); err == nil {
		t.Error("ParseModel(fast) succeeded")
	}
}

// TestQueueModel runs passive-back under both models over the recorded
// streams: the same orders are placed (placement does not depend on the
// model), queue-ahead is never negative, and the queue model never fills
// an order for more than its size.
func TestQueueModel(t *testing.T) {
	in, _ := strategies.Builtins().Lookup("passive-back")
	run := func(m sim.Model) *engine.Result {
		res, err := engine.Replay(context.Background(), []string{
			testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751"),
		}, engine.Config{NewStrategy: func() (engine.Strategy, error) { return in.New(nil) }, NewExecution: sim.NewExecution(m)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	f, q := run(sim.Flumine), run(sim.Queue)
	if len(f.Orders) != len(q.Orders) || len(q.Orders) == 0 {
		t.Fatalf("orders: flumine %d, queue %d", len(f.Orders), len(q.Orders))
	}
	for i, qo := range q.Orders {
		o, fo := qo.State(), f.Orders[i].State()
		if o.SelectionID != fo.SelectionID || o.Price != fo.Price {
			t.Errorf("order %d placed differently", i)
		}
		if o.QueueAhead < 0 || o.SizeMatched > o.Size+1e-9 {
			t.Errorf("order %d: queue ahead %g, matched %g of %g", i, o.QueueAhead, o.SizeMatched, o.Size)
		}
	}
}

// versioned places, at a market's first open book, one back for the
// book's market version and one for the version before it.
type versioned struct {
	engine.BaseStrategy
	done bool
}

func (*versioned) Name() string                        { return "versioned" }
func (*versioned) CheckMarketBook(*engine.Market) bool { return true }
func (v *versioned) ProcessMarketBook(m *engine.Market) {
	bk := m.Book()
	if v.done || bk.Status() != esa.MarketOpen || len(bk.Runners) == 0 {
		return
	}
	v.done = true
	r := bk.Runners[0]
	for _, ver := range []int64{m.Version(), m.Version() - 1} {
		m.Place(engine.OrderRequest{SelectionID: r.SelectionID, Handicap: r.Handicap, Side: engine.Back, Price: 1000, Size: 2, MarketVersion: ver})
	}
}

// TestPlaceForMarketVersion: a placement made for the market version it
// reaches runs; one made for another version is voided, ERROR_IN_ORDER
// (Betfair's marketVersion, as flumine models it).
func TestPlaceForMarketVersion(t *testing.T) {
	res, err := engine.Replay(context.Background(), []string{testenv.Testdata(t, "tapes/1.197931750")},
		engine.Config{NewStrategy: func() (engine.Strategy, error) { return &versioned{}, nil }, NewExecution: sim.NewExecution(sim.Flumine)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Orders) != 2 {
		t.Fatalf("%d orders, want 2", len(res.Orders))
	}
	cur, old := res.Orders[0].State(), res.Orders[1].State()
	if cur.ErrorCode != "" || cur.SizeVoided != 0 || cur.PlacedAt == 0 {
		t.Errorf("order for the current version: error %q, voided %g", cur.ErrorCode, cur.SizeVoided)
	}
	if old.ErrorCode != "ERROR_IN_ORDER" || old.SizeVoided != 2 {
		t.Errorf("order for an old version: error %q, voided %g; want ERROR_IN_ORDER, 2", old.ErrorCode, old.SizeVoided)
	}
}
