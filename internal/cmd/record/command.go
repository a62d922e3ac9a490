// Package record holds the record command tree (run, flush) as a
// constructor, so that the thin cmd/record binary and the tapedeck binary
// (cmd/tapedeck) run the same commands.
package record

import (
	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
)

// NewCommand returns the record command with all its subcommands; each call
// builds a fresh tree, so tests and binaries never share flag state.
func NewCommand() *cobra.Command { return newRootCmd() }

func newRootCmd() *cobra.Command {
	root := cli.Configure(&cobra.Command{
		Use:   "record",
		Short: "Record Betfair market and order streams into per-market tapes",
		Long: `record connects to Betfair's Exchange Stream API and writes every market
change, byte for byte, into one tape per market in a spool directory; a
market's tape is compressed and uploaded, with its catalogue, to a local
directory (the default) or to S3 once the market closes.

  record run     record until --until / --duration / SIGTERM
  record flush   upload everything the spool holds`,
		Example: `  tapedeck record run --dest s3://my-bucket/tapes --event-type-ids 7,4339 --until 23:30
  tapedeck record flush --dest s3://my-bucket/tapes`,
		Args: cobra.NoArgs,
	})
	root.AddCommand(newRunCmd(), newFlushCmd())
	return root
}
