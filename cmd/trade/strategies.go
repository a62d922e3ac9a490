package main

import (
	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/strategies"
)

// newStrategiesCmd is `trade strategies`: the built-ins and their
// parameters.
func newStrategiesCmd() *cobra.Command { return strategies.ListCommand(strategies.Builtins()) }
