package main

import (
	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/strategies"
)

// newBacktestCmd is `trade backtest` over the built-in strategies; the
// command itself lives in engine/strategies so that a user's own build of
// trade (strategies.Main) gets the same one.
func newBacktestCmd() *cobra.Command { return strategies.BacktestCommand(strategies.Builtins()) }
