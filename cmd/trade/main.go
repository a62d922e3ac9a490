// Command trade runs Go strategies in a backtest over tapes, on paper and
// live, and serves tapes as a local Betfair-compatible exchange. Today it
// serves (trade serve); the strategy modes arrive with the engine.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
)

func main() {
	os.Exit(cli.Run(newRootCmd()))
}

func newRootCmd() *cobra.Command {
	root := cli.Configure(&cobra.Command{
		Use:   "trade",
		Short: "Run Go strategies over tapes, on paper or live, and serve tapes as a local exchange",
		Long: `trade runs one Go strategy with the same engine in three modes: a backtest
over tapes, paper trading and live trading; and serves tapes as a local
Betfair-compatible exchange for testing clients.

Working today: trade serve. The strategy modes (backtest, paper, live,
strategies) are coming.`,
		Example: `  trade serve testdata/tapes/1.197931750 testdata/tapes/1.197931751 --info exchange.json
  trade backtest --strategy passive-back ./tapes -o results   (coming)`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &cli.UsageError{Err: fmt.Errorf("unknown command %q; trade serve works today, backtest, paper, live and strategies are coming", args[0])}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "trade: serve works today (trade serve --help); backtest, paper, live and strategies are coming.")
			return nil
		},
	})
	root.AddCommand(newServeCmd(), newBacktestCmd(), newStrategiesCmd())
	return root
}
