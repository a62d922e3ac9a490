package main

import (
	"testing"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/tradecli/tradeclitest"
)

// TestPaperEqualsBacktest runs the example, unchanged, by trade paper
// against a local exchange replaying the streams, and finds trade
// backtest's tables.
func TestPaperEqualsBacktest(t *testing.T) {
	reg := strategies.Builtins()
	if err := reg.Register(Info()); err != nil {
		t.Fatal(err)
	}
	inputs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	tradeclitest.PaperEqualsBacktest(t, reg, []string{"--strategy", "favourite", "--param", "stake=5"}, inputs, "1.197931750,1.197931751")
}

// TestLiveEqualsBacktest runs the example, unchanged, by trade live
// against a local exchange taking bets in lockstep (trade serve --betting
// --lockstep): real orders over the Betting API, matched by the exchange,
// come to trade backtest's orders, fills and profit.
func TestLiveEqualsBacktest(t *testing.T) {
	reg := strategies.Builtins()
	if err := reg.Register(Info()); err != nil {
		t.Fatal(err)
	}
	inputs := []string{testenv.Shared(t, "data/streams/1.197931750"), testenv.Shared(t, "data/streams/1.197931751")}
	tradeclitest.LiveEqualsBacktest(t, reg, []string{"--strategy", "favourite", "--param", "stake=5"}, inputs, "1.197931750,1.197931751")
	t.Run("greyhound tar", func(t *testing.T) {
		if testenv.RaceEnabled {
			t.Skip("the tar's 32 markets run in the plain run")
		}
		testenv.Long(t)
		tar := testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")
		tradeclitest.PaperEqualsBacktest(t, reg, []string{"--strategy", "favourite", "--param", "stake=5"}, []string{tar}, "")
		tradeclitest.LiveEqualsBacktest(t, reg, []string{"--strategy", "favourite", "--param", "stake=5"}, []string{tar}, "")
	})
}
