// Command convert turns Betfair stream data (tapedeck's recordings, and the
// files Betfair's historic data service sells) into other forms: market books
// as JSON Lines, statistics and Parquet tables. It is `tapedeck convert` as a
// binary of its own, kept for scripts and cron lines that call it by name.
package main

import (
	"os"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/cmd/convert"
)

func main() {
	os.Exit(cli.Run(convert.NewCommand()))
}
