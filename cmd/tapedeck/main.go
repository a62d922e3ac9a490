// Command tapedeck is the one binary for the whole toolkit: `tapedeck
// record`, `tapedeck convert` and `tapedeck trade` are the same command trees
// the thin record, convert and trade binaries run. It exists because short
// names collide on users' machines (ImageMagick ships a `convert`).
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/cmd/convert"
	"github.com/tapedeck/tapedeck/internal/cmd/record"
	"github.com/tapedeck/tapedeck/tradecli"
)

func main() {
	os.Exit(cli.Run(newRootCmd()))
}

// newRootCmd returns the tapedeck command holding the three command trees.
func newRootCmd() *cobra.Command {
	root := cli.Configure(&cobra.Command{
		Use:   "tapedeck",
		Short: "Record, convert and trade on Betfair Exchange stream data",
		Long: `tapedeck records Betfair's market and order streams into per-market tapes,
turns tapes (and Betfair's historic files) into market books, statistics and
Parquet tables, and runs Go strategies over them in a backtest or serves them
as a local Betfair-compatible exchange.

  tapedeck record    record Betfair streams into tapes
  tapedeck convert   tapes and historic files into books, statistics, Parquet
  tapedeck trade     backtest strategies; serve tapes as a local exchange`,
		Example: `  tapedeck convert stats testdata/tapes
  tapedeck trade backtest --strategy passive-back testdata/tapes -o results
  tapedeck record run --dest s3://my-bucket/tapes --event-type-ids 7,4339 --until 23:30`,
	})
	root.AddCommand(record.NewCommand(), convert.NewCommand(), tradecli.NewCommand(strategies.Builtins()))
	return root
}
