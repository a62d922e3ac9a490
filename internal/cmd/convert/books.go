package convert

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/pipeline"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/tape"
)

func newBooksCmd() *cobra.Command {
	var (
		out    string
		opts   book.Options
		strict bool
		s3     s3.Options
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
A bad input line or a tape cut short is reported (file, member, line) and
skipped; an input that cannot be read (missing, a glob matching nothing)
fails the run with exit code 1, keeping the books of the others (no -o FILE
is written when no input could be read); --strict stops at the first of any
of these with exit code 1.`,
		Example: `  tapedeck convert books testdata/tapes/1.197931750 | jq -c 'select(.status == "OPEN") | .runners[0].ex.availableToBack[:3]' | tail -1
  tapedeck convert books testdata/tapes/1.205822330.bz2 --cumulative-runner-tv -o books.jsonl.zst`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// SIGINT and SIGTERM end the run through its context: the
			// temporary file is removed, and nothing half-written appears
			// under the output's name.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			w, err := cli.CreateOutput(out, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			log := cli.NewLogger(os.Stderr, slog.LevelInfo)
			res, err := pipeline.WriteBooks(ctx, args, w, pipeline.BooksOptions{Cache: opts, Strict: strict, Log: log,
				Sources: tape.Sources{Store: store.Options{S3: s3.WithLogger(log)}}})
			if err == nil && ctx.Err() != nil {
				err = fmt.Errorf("convert books: interrupted: %w", ctx.Err())
			}
			if err != nil {
				if errors.Is(err, tape.ErrUnreadable) && res.Tapes > 0 {
					// The inputs that could be read are kept; the
					// run still fails (exit 1) for the others.
					if cerr := w.Close(); cerr != nil {
						return cerr
					}
					return err
				}
				// Nothing was read, or the run stopped: no output.
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
	f.BoolVar(&strict, "strict", false, "stop at the first bad line or unreadable input (exit code 1) instead of skipping it")
	s3.AddFlags(f)
	return cmd
}
