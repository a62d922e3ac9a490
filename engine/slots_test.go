package engine_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
)

// orderLine is everything a run decides about an order but its slot, for
// comparing runs.
func orderLine(ro *engine.Order) string {
	o := ro.State()
	return fmt.Sprintf("%s %d %s %d %g %s %s %s %g %g %g %d %d %d %s %s %s %v %g %g %g %g %g %g %s %d %g %v",
		o.MarketID, o.ID, o.CustomerRef, o.SelectionID, o.Handicap, o.Side, o.Type, o.Persistence, o.Price, o.Size,
		o.Liability, o.CreatedAt, o.PlacedAt, o.CompletedAt, o.Status, o.Violation, o.ErrorCode, o.Matched,
		o.SizeMatched, o.AvgPriceMatched, o.SizeCancelled, o.SizeLapsed, o.SizeVoided, o.QueueAheadAtPlace,
		o.RunnerStatus, o.DeadHeat, o.Profit, o.Settled)
}

// TestSlotsEqualSeparateRuns: strategies sharing one replay (NewStrategies)
// give, each, exactly the orders and market results of a run of their own,
// whether results are collected or streamed through OnMarket.
func TestSlotsEqualSeparateRuns(t *testing.T) {
	reg := strategies.Builtins()
	type variant struct {
		name   string
		params strategies.Params
	}
	variants := []variant{
		{"lowest-layer", nil},
		{"lowest-layer", strategies.Params{"max_price": "2", "cancel_after": "5"}},
		{"passive-back", strategies.Params{"within": "60", "stake": "5"}},
		{"passive-back", nil},
	}
	newFn := func(v variant) func() (engine.Strategy, error) {
		in, ok := reg.Lookup(v.name)
		if !ok {
			t.Fatal(v.name)
		}
		return func() (engine.Strategy, error) { return in.New(v.params) }
	}
	inputs := append(streams(t), testenv.Shared(t, "data/historic/1.205822330.bz2"),
		testenv.Testdata(t, "golden/flumine/inputs/1.200806927.zst"), testenv.Testdata(t, "golden/flumine/inputs/SELF-1.181223995.zst"))
	for _, group := range []bool{false, true} {
		t.Run(fmt.Sprintf("event-group=%v", group), func(t *testing.T) {
			cfg := engine.Config{NewExecution: sim.NewExecution(sim.Flumine), Commission: 0.05, EventGroup: group, Workers: 2}
			cfg.NewStrategies = func() ([]engine.Strategy, error) {
				var out []engine.Strategy
				for _, v := range variants {
					s, err := newFn(v)()
					if err != nil {
						return nil, err
					}
					out = append(out, s)
				}
				return out, nil
			}
			shared := replay(t, inputs, cfg)
			var streamed [][]string
			var streamedMarkets []engine.MarketResult
			cfg.OnMarket = func(m engine.MarketResult, orders []*engine.Order) {
				for len(streamed) <= m.Slot {
					streamed = append(streamed, nil)
				}
				for _, o := range orders {
					streamed[m.Slot] = append(streamed[m.Slot], orderLine(o))
				}
				streamedMarkets = append(streamedMarkets, m)
			}
			sres := replay(t, inputs, cfg)
			if len(sres.Orders) != 0 || len(sres.Markets) != 0 {
				t.Errorf("with OnMarket, Result holds %d orders and %d markets", len(sres.Orders), len(sres.Markets))
			}
			if sres.Updates != shared.Updates || sres.Violations != shared.Violations {
				t.Errorf("streamed totals %d updates %d violations, collected %d %d", sres.Updates, sres.Violations, shared.Updates, shared.Violations)
			}
			total := 0
			for i, v := range variants {
				cfg1 := engine.Config{NewStrategy: newFn(v), NewExecution: sim.NewExecution(sim.Flumine), Commission: 0.05, EventGroup: group, Workers: 2}
				alone := replay(t, inputs, cfg1)
				var want, got []string
				for _, o := range alone.Orders {
					want = append(want, orderLine(o))
				}
				for _, o := range shared.Orders {
					if o.Slot() == i {
						got = append(got, orderLine(o))
					}
				}
				if len(want) == 0 {
					t.Errorf("variant %d (%s %v) placed no order: the comparison shows nothing", i, v.name, v.params)
				}
				if !slices.Equal(got, want) {
					t.Errorf("variant %d (%s %v): %d orders sharing the replay, %d alone", i, v.name, v.params, len(got), len(want))
				}
				s := slices.Clone(streamed[i])
				slices.Sort(s)
				w := slices.Clone(want)
				slices.Sort(w)
				if !slices.Equal(s, w) {
					t.Errorf("variant %d: streamed orders differ from a run alone", i)
				}
				var gm []engine.MarketResult
				for _, m := range shared.Markets {
					if m.Slot == i {
						m.Slot = 0
						gm = append(gm, m)
					}
				}
				if !slices.Equal(gm, alone.Markets) {
					t.Errorf("variant %d: market results differ\nshared %+v\nalone  %+v", i, gm, alone.Markets)
				}
				total += len(want)
			}
			if len(shared.Orders) != total {
				t.Errorf("shared run has %d orders, the separate runs %d", len(shared.Orders), total)
			}
			if len(streamedMarkets) != len(shared.Markets) {
				t.Errorf("OnMarket saw %d market results, Result has %d", len(streamedMarkets), len(shared.Markets))
			}
		})
	}
}

// TestKeepSelectsTapes: Config.Keep skips the tapes it refuses.
func TestKeepSelectsTapes(t *testing.T) {
	in := streams(t)
	cfg := engine.Config{NewStrategy: builtin(t, "lowest-layer"),
		Keep: func(name string) bool { return name == in[1] }}
	res := replay(t, in, cfg)
	if len(res.Markets) != 1 || res.Markets[0].MarketID != "1.197931751" {
		t.Errorf("Keep one tape: markets %+v", res.Markets)
	}
}
