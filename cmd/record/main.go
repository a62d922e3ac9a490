// Command record captures Betfair's market and order streams into
// per-market tapes (record run) and ships what a stopped recorder left in
// its spool (record flush).
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
)

func main() {
	os.Exit(cli.Run(newRootCmd()))
}

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
		Example: `  record run --dest s3://my-bucket/tapes --event-type-ids 7,4339 --until 23:30
  record flush --dest s3://my-bucket/tapes`,
		Args: cobra.NoArgs,
	})
	root.AddCommand(newRunCmd(), newFlushCmd())
	return root
}
