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
