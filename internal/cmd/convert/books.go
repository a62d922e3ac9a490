package convert

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/pipeline"
)

func newBooksCmd() *cobra.Command {
	var (
		out    string
		opts   book.Options
		strict bool
	)
	cmd := &cobra.Command{
		Use:   "books INPUT...",
		Short: "Write market books as JSON Lines, in betfairlightweight's layout",
		Long: `books replays every input line through a market cache and writes, for each
market the line changed, that market's book as one JSON line in
betfairlightweight's lightweight MarketBook layout (marketId, status, inplay,
totalMatched, runners with ex.availableToBack/availableToLay/tradedVolume and
sp, marketDefinition, streaming_update, ...). For a single-market file, output
line N is the book after input line N, so a pipeline built on
betfairlightweight can move onto tapedeck and be diffed against it.

Output goes to standard output, or to -o FILE, compressed by the file's
suffix (.zst, .gz) and written under a temporary name until complete.
A bad input line is reported (file, member, line) and skipped; --strict
stops at it with exit code 1.`,
		Example: `  tapedeck convert books testdata/tapes/1.197931750 | jq .runners[0].ex.availableToBack[0]
  tapedeck convert books 1.205822330.bz2 --cumulative-runner-tv -o books.jsonl.zst`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := cli.CreateOutput(out, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			log := cli.NewLogger(os.Stderr, slog.LevelInfo)
			res, err := pipeline.WriteBooks(cmd.Context(), args, w, pipeline.BooksOptions{Cache: opts, Strict: strict, Log: log})
			if err != nil {
				w.Abort()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			if res.BadLines > 0 {
				log.Warn("bad lines skipped", "count", res.BadLines)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "write to `FILE` instead of standard output (.zst and .gz suffixes compress)")
	f.BoolVar(&opts.CumulativeRunnerTv, "cumulative-runner-tv", false, "runner total matched = sum of its traded ladder (use for Betfair's historic files, whose runner tv is per update)")
	f.BoolVar(&opts.CalculateMarketTv, "calculate-market-tv", false, "market total matched = sum of the runners' traded ladders")
	f.BoolVar(&strict, "strict", false, "stop at the first bad line (exit code 1) instead of skipping it")
	return cmd
}
