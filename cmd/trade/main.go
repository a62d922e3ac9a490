// Command trade runs Go strategies in a backtest over tapes, on paper and
// live, and serves tapes as a local Betfair-compatible exchange. Today it
// backtests (trade backtest, trade strategies) and serves (trade serve);
// paper and live trading are coming.
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

Working today: trade backtest, trade strategies and trade serve. Paper and
live trading are coming.`,
		Example: `  trade serve testdata/tapes/1.197931750 testdata/tapes/1.197931751 --info exchange.json
  trade backtest --strategy passive-back ./tapes -o results
  trade strategies`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &cli.UsageError{Err: fmt.Errorf("unknown command %q; backtest, strategies and serve work today, paper and live are coming", args[0])}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "trade: backtest, strategies and serve work today (trade COMMAND --help); paper and live trading are coming.")
			return nil
		},
	})
	root.AddCommand(newServeCmd(), newBacktestCmd(), newStrategiesCmd())
	return root
}
