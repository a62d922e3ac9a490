package engine

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// TestLive runs the live driver on trade serve's stream (markets and
// orders) with the Betting API answered by Betfair's real bodies: orders
// of the earlier run are looked up by customerStrategyRef first, each
// market's placement goes out as one placeOrders request with the
// references, the answers reach the strategy's orders, and the run ends
// by itself when its markets close.
func TestLive(t *testing.T) {
	f := &betFake{dir: testenv.Shared(t, "data/api"), bodies: map[string]string{
		betting.MethodPlaceOrders:       "place_orders.json",
		betting.MethodListCurrentOrders: "betting/list_current_orders_empty.json",
	}}
	var wired atomic.Int32 // requests whose time on the wire was measured
	ctx, res, err := liveFake(t, f, BettingConfig{Session: "live1", OnWire: func(d time.Duration) {
		if d < 0 {
			t.Errorf("a request on the wire %v before the change that caused it", d)
		}
		wired.Add(1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("live did not end when its markets closed")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 || f.calls[0].Method != betting.MethodListCurrentOrders || string(f.calls[0].Params["customerStrategyRefs"]) != `["betexec-test"]` {
		t.Fatalf("first call %+v: want the earlier run's orders looked up", f.calls[:min(1, len(f.calls))])
	}
	places := map[string]bool{}
	for _, c := range f.calls[1:] {
		if c.Method != betting.MethodPlaceOrders {
			continue
		}
		var in []betting.PlaceInstruction
		json.Unmarshal(c.Params["instructions"], &in)
		var market string
		json.Unmarshal(c.Params["marketId"], &market)
		if len(in) != 1 || in[0].CustomerOrderRef != "betexec-test-0" || string(c.Params["customerStrategyRef"]) != `"betexec-test"` {
			t.Errorf("placeOrders %s", c.Params)
		}
		places[market] = true
	}
	if n := wired.Load(); n != int32(len(places)) {
		t.Errorf("OnWire told of %d requests, %d placeOrders sent", n, len(places))
	}
	if len(places) != 2 || len(res.Orders) != 2 {
		t.Fatalf("placements in %v, %d orders", places, len(res.Orders))
	}
	for _, o := range res.Orders {
		if o.BetID() != "71962975289" || o.Status() != Executable {
			t.Errorf("order %v: want the exchange's bet id and EXECUTABLE", o)
		}
	}
}

// Credentials of liveFake's Betting API client, looked for by tests that
// show no secret is written anywhere.
const (
	fakeAppKey   = "app-key-7f3a9c"
	fakeUsername = "user-7f3a9c"
	fakePassword = "pass-7f3a9c"
)

// liveFake runs Live with the placer strategy on trade serve's stream of
// the two shared markets (markets and orders) with the Betting API
// answered by f, until the markets close. ctx is the run's context (ended
// only if the run took too long).
func liveFake(t *testing.T, f *betFake, bet BettingConfig) (context.Context, *Result, error) {
	t.Helper()
	bc := fakeClient(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	inputs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	ex, err := exchange.New(exchange.Config{Tapes: inputs})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- ex.Serve(sctx) }()
	defer func() { stop(); <-served }()
	tok := ex.NewSession()
	bet.Client = bc
	res, err := Live(ctx, LiveConfig{
		Config:    Config{NewStrategy: func() (Strategy, error) { return &placer{}, nil }},
		MarketIDs: []string{"1.197931750", "1.197931751"},
		Betting:   bet,
		Stream: esa.ClientConfig{Addr: ex.Addr(), CAFile: ex.CAFile(), AppKey: fakeAppKey,
			Session: func(context.Context) (string, error) { return tok, nil },
			Market:  &esa.MarketSubscription{MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}},
			Order:   &esa.OrderSubscription{}},
	})
	return ctx, res, err
}
