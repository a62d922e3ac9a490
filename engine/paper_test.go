package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/internal/testenv"
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

// bookCount is an Observer that counts the books a run has seen, over
// every market (the run's loops share it).
type bookCount struct{ n *atomic.Int64 }

func (b bookCount) Book(*book.Market, int64) { b.n.Add(1) }

// TestPaperHandsMarketsOver: a paper run hands each market's results to
// Config.OnMarket as soon as the market is over, while the stream goes on,
// not at the end of the run. The two bundled April races close before the
// October race (a later tape on the same exchange) has sent its first
// change; each market is handed over once, with the backtest's orders.
func TestPaperHandsMarketsOver(t *testing.T) {
	early := []string{"1.197931750", "1.197931751"}
	inputs := []string{testenv.Testdata(t, "tapes/1.197931750"), testenv.Testdata(t, "tapes/1.197931751"), testenv.Testdata(t, "tapes/1.205822330.bz2")}
	cfg := engine.Config{NewStrategy: builtin(t, "passive-back"), NewExecution: sim.NewExecution(sim.Flumine), Commission: 0.05}
	want := replay(t, inputs, cfg)
	var books atomic.Int64
	cfg.NewObserver = func() engine.Observer { return bookCount{&books} }
	seenAt := map[string]int64{} // market -> books seen when it was handed over
	var got []*engine.Order
	cfg.OnMarket = func(m engine.MarketResult, orders []*engine.Order) {
		if _, twice := seenAt[m.MarketID]; twice {
			t.Errorf("market %s handed over twice", m.MarketID)
		}
		seenAt[m.MarketID] = books.Load()
		if m.Status != esa.MarketClosed {
			t.Errorf("market %s handed over %s", m.MarketID, m.Status)
		}
		got = append(got, orders...)
	}
	res := paper(t, inputs, engine.PaperConfig{Config: cfg, MarketIDs: append(early, "1.205822330")})
	if len(res.Markets) != 0 || len(res.Orders) != 0 {
		t.Errorf("with OnMarket the result holds %d markets, %d orders; want totals only", len(res.Markets), len(res.Orders))
	}
	if res.Updates != want.Updates {
		t.Errorf("updates %d, backtest %d", res.Updates, want.Updates)
	}
	total := books.Load()
	t.Logf("books seen when each market was handed over: %v, of %d", seenAt, total)
	for _, id := range early {
		at, ok := seenAt[id]
		if !ok {
			t.Fatalf("market %s never handed over", id)
		}
		// The October race is most of the run's books: an April race handed
		// over at its close comes before any of them.
		if at > 400 || at >= total {
			t.Errorf("market %s handed over after %d of %d books: not at its close", id, at, total)
		}
	}
	if at := seenAt["1.205822330"]; at != total {
		t.Errorf("the last market handed over after %d of %d books", at, total)
	}
	if len(got) != len(want.Orders) || len(got) == 0 {
		t.Fatalf("handed over %d orders, backtest %d", len(got), len(want.Orders))
	}
	lines := func(os []*engine.Order) []string {
		var l []string
		for _, o := range os {
			l = append(l, paperLine(o))
		}
		slices.Sort(l)
		return l
	}
	if g, w := lines(got), lines(want.Orders); !slices.Equal(g, w) {
		t.Errorf("orders handed over:\n%s\nbacktest:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}
