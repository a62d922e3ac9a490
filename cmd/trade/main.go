// Command trade runs Go strategies in a backtest over tapes and serves tapes
// as a local Betfair-compatible exchange. Its subcommands live in tradecli,
// so a user's own strategy binary gets the same ones (tradecli.Main).
package main

import (
	"os"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/tradecli"
)

func main() {
	os.Exit(cli.Run(tradecli.NewCommand(strategies.Builtins())))
}
