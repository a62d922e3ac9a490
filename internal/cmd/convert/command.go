// Package convert holds the convert command tree (books, stats, parquet) as
// a constructor, so that the thin cmd/convert binary and the tapedeck binary
// (cmd/tapedeck) run the same commands.
package convert

import (
	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/internal/cli"
)

// NewCommand returns the convert command with all its subcommands; each call
// builds a fresh tree, so tests and binaries never share flag state.
func NewCommand() *cobra.Command { return newRootCmd() }

func newRootCmd() *cobra.Command {
	root := cli.Configure(&cobra.Command{
		Use:   "convert",
		Short: "Turn Betfair stream tapes and historic files into market books and statistics",
		Long: `convert reads Betfair stream data wherever it lies and turns it into other
forms. An INPUT is a file, a directory (walked recursively, in name order), a
glob, '-' for standard input, or a .tar archive as Betfair's historic service
ships them (read member by member, never unpacked). Compression (bzip2, gzip,
zstd or none) is detected from the content, not the name.`,
		Example: `  tapedeck convert stats pro-greyhounds-2022-03-01.tar
  tapedeck convert books testdata/tapes/1.197931750 -o books.jsonl.zst`,
	})
	root.AddCommand(newBooksCmd(), newStatsCmd(), newParquetCmd(), newCompactCmd())
	return root
}
