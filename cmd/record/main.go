// Command record captures Betfair's market and order streams into
// per-market tapes. Its subcommands arrive with the recorder; for now it only
// says so.
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
		Use:   "record",
		Short: "Record Betfair market and order streams into per-market tapes",
		Long: `record connects to Betfair's Exchange Stream API and writes every market
change, byte for byte, into one compressed tape per market, in a local
directory (the default) or on S3.

The recorder is not built yet: this command only reports that.`,
		Example: "  record run --dest ./tapes   (coming)",
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "record: the recorder (record run, record flush) is coming; see the README for what works today.")
			return nil
		},
	})
}
