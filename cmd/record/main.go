// Command record captures Betfair's market and order streams into
// per-market tapes (record run) and ships what a stopped recorder left in
// its spool (record flush). It is `tapedeck record` as a binary of its own,
// kept for scripts and cron lines that call it by name.
package main

import (
	"os"

	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/cmd/record"
)

func main() {
	os.Exit(cli.Run(record.NewCommand()))
}
