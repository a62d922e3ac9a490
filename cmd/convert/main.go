// Command convert turns Betfair stream data (tapedeck's recordings, and the
// files Betfair's historic data service sells) into other forms: market books
// as JSON Lines, statistics, and (soon) Parquet tables.
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
		Use:   "convert",
		Short: "Turn Betfair stream tapes and historic files into market books and statistics",
		Long: `convert reads Betfair stream data wherever it lies and turns it into other
forms. An INPUT is a file, a directory (walked recursively, in name order), a
glob, '-' for standard input, or a .tar archive as Betfair's historic service
ships them (read member by member, never unpacked). Compression (bzip2, gzip,
zstd or none) is detected from the content, not the name.`,
		Example: `  convert stats pro-greyhounds-2022-03-01.tar
  convert books testdata/tapes/1.197931750 -o books.jsonl.zst`,
	})
	root.AddCommand(newBooksCmd(), newStatsCmd(), newParquetCmd())
	return root
}
