// Command trade runs Go strategies in a backtest over tapes, on paper and
// live, and serves tapes as a local Betfair-compatible exchange. Its
// subcommands arrive with the engine; for now it only says so.
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
	return cli.Configure(&cobra.Command{
		Use:   "trade",
		Short: "Run Go strategies over tapes, on paper or live, and serve tapes as a local exchange",
		Long: `trade runs one Go strategy with the same engine in three modes: a backtest
over tapes, paper trading and live trading; and serves tapes as a local
Betfair-compatible exchange for testing clients.

None of this is built yet: this command only reports that.`,
		Example: "  trade backtest --strategy passive-back ./tapes -o results   (coming)",
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "trade: backtest, paper, live and serve are coming; see the README for what works today.")
			return nil
		},
	})
}
