package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/sim"
)

// paperLine is what must agree between two runs, order for order.
func paperLine(o *engine.Order) string {
	s := o.State()
	return fmt.Sprintf("%s #%d %s %d %s %s %g@%g %s matched %g@%g cancelled %g lapsed %g voided %g profit %g bet %s placed %d",
		s.MarketID, s.ID, s.CustomerRef, s.SelectionID, s.Side, s.Type, s.Size, s.Price, s.Status,
		s.SizeMatched, s.AvgPriceMatched, s.SizeCancelled, s.SizeLapsed, s.SizeVoided, s.Profit, s.BetID, s.PlacedAt)
}

// TestPaperEqualsBacktest paper-trades a local exchange replaying tapes and
// checks the orders, fills and profit are the backtest's over the same
// tapes, for both built-in strategies and both execution models.
func TestPaperEqualsBacktest(t *testing.T) {
	inputs := streams(t)
	for _, name := range []string{"passive-back", "lowest-layer"} {
		for _, model := range []sim.Model{sim.Flumine, sim.Queue} {
			t.Run(name+"/"+model.String(), func(t *testing.T) {
				cfg := engine.Config{NewStrategy: builtin(t, name), NewExecution: sim.NewExecution(model), Commission: 0.05}
				want := replay(t, inputs, cfg)
				got := paper(t, inputs, engine.PaperConfig{Config: cfg, MarketIDs: []string{"1.197931750", "1.197931751"}})
				if len(got.Orders) != len(want.Orders) {
					t.Fatalf("paper %d orders, backtest %d", len(got.Orders), len(want.Orders))
				}
				for i := range want.Orders {
					if g, w := paperLine(got.Orders[i]), paperLine(want.Orders[i]); g != w {
						t.Errorf("order %d:\npaper    %s\nbacktest %s", i, g, w)
					}
				}
				if gp, wp := fmt.Sprint(got.Profit()), fmt.Sprint(want.Profit()); gp != wp || len(got.Markets) != len(want.Markets) {
					t.Errorf("paper profit %s over %d markets, backtest %s over %d", gp, len(got.Markets), wp, len(want.Markets))
				}
				if name == "passive-back" && len(want.Orders) == 0 {
					t.Fatal("the backtest placed nothing: the comparison proves nothing")
				}
			})
		}
	}
}

// paper runs cfg against a local exchange replaying inputs, subscribed to
// all its markets, and fails t unless the run ends by itself (cfg's
// MarketIDs all closed) without error.
func paper(t *testing.T, inputs []string, cfg engine.PaperConfig) *engine.Result {
	t.Helper()
	ex, err := exchange.New(exchange.Config{Tapes: inputs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	served := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { served <- ex.Serve(sctx) }()
	defer func() { stop(); <-served }()
	tok := ex.NewSession()
	cfg.Stream = esa.ClientConfig{Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: "paper-test",
		Session: func(context.Context) (string, error) { return tok, nil },
		Market:  &esa.MarketSubscription{MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}}}
	res, err := engine.Paper(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("paper did not end when its markets closed")
	}
	return res
}
