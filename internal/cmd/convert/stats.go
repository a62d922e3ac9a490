package convert

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/pipeline"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/tape"
)

func newStatsCmd() *cobra.Command {
	var (
		asJSON  bool
		workers int
		strict  bool
		opts    book.Options
		s3      s3.Options
	)
	cmd := &cobra.Command{
		Use:   "stats INPUT...",
		Short: "Read every line, rebuild every market, and report what the inputs hold",
		Long: `stats reads, decompresses, decodes and applies every line of every input to
the market and order caches, and reports per tape and in total: markets
(every market id with market or order changes, as convert parquet's markets
table counts them), lines, market changes, bytes in (compressed and not), bad lines, first and
last publish time, each market's final status and winners, and the wall time
and market changes per second. It is also the benchmark of that path.

Tapes are processed in parallel (--workers, default the number of cores).
A bad line or a tape cut short is counted, reported and skipped; an input
that cannot be read (missing, a glob matching nothing) fails the run with
exit code 1 after the rest is read; --strict stops at the first of any of
these with exit code 1.`,
		Example: `  tapedeck convert stats pro-greyhounds-2022-03-01.tar
  tapedeck convert stats --json 'tapes/**/*.zst' | jq .total`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers < 1 {
				return &cli.UsageError{Err: fmt.Errorf("--workers must be at least 1, got %d", workers)}
			}
			if os.Getenv("GOGC") == "" {
				// stats keeps little alive (two tapes' caches and
				// decoders), so collecting at 1.5x the live heap instead
				// of 2x costs little CPU and keeps peak memory the same
				// whether the input is one archive or a month of them.
				debug.SetGCPercent(50)
			}
			log := cli.NewLogger(os.Stderr, slog.LevelInfo)
			progress := newProgress(os.Stderr)
			st, err := pipeline.CollectStats(cmd.Context(), args, pipeline.StatsOptions{
				Workers: workers, Strict: strict, Cache: opts, Log: log, Progress: progress.tape,
				Sources: tape.Sources{Store: store.Options{S3: s3.WithLogger(log)}},
			})
			progress.done()
			if st != nil {
				out := cmd.OutOrStdout()
				if asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					if jerr := enc.Encode(st); jerr != nil && err == nil {
						err = jerr
					}
				} else {
					printStats(out, st)
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the statistics as JSON")
	f.IntVar(&workers, "workers", runtime.NumCPU(), "tapes processed at once")
	f.BoolVar(&strict, "strict", false, "stop at the first bad line or unreadable input (exit code 1) instead of skipping it")
	s3.AddFlags(f)
	f.BoolVar(&opts.CumulativeRunnerTv, "cumulative-runner-tv", false, "runner total matched = sum of its traded ladder")
	f.BoolVar(&opts.CalculateMarketTv, "calculate-market-tv", false, "market total matched = sum of the runners' traded ladders")
	return cmd
}

func printStats(w io.Writer, st *pipeline.Stats) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tape\tmarkets\tlines\tchanges\tbad\tbytes in\tbytes raw\tfirst pt\tlast pt\t")
	row := func(t pipeline.TapeStats) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", t.Name, t.NumMarkets, t.Lines,
			t.MarketChanges, t.BadLines, t.BytesIn, t.BytesRaw, fmtPt(t.FirstPt), fmtPt(t.LastPt))
	}
	for _, t := range st.Tapes {
		row(t)
	}
	row(st.Total)
	tw.Flush()

	fmt.Fprintln(w)
	mw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(mw, "market\tstatus\twinners\ttape")
	for _, t := range st.Tapes {
		for _, m := range t.Markets {
			ws := make([]string, len(m.Winners))
			for i, id := range m.Winners {
				ws[i] = fmt.Sprint(id)
			}
			status := m.Status
			if m.OrdersOnly {
				status = "(orders only)"
			}
			fmt.Fprintf(mw, "%s\t%s\t%s\t%s\n", m.ID, status, strings.Join(ws, ","), t.Name)
		}
	}
	mw.Flush()
	fmt.Fprintln(w)
	for _, t := range st.Tapes {
		if t.FirstError != "" {
			fmt.Fprintf(w, "error: %s\n", t.FirstError)
		}
	}
	fmt.Fprintf(w, "%d tapes, %d markets, %d lines, %d market changes, %d bad lines in %s: %.0f market changes/s\n",
		len(st.Tapes), st.Total.NumMarkets, st.Total.Lines, st.Total.MarketChanges, st.Total.BadLines,
		st.Wall.Round(time.Millisecond), st.UpdatesPerSecond())
}

func fmtPt(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// progress shows a one-line running count on a terminal and nothing
// otherwise, so cron output stays clean.
type progress struct {
	mu    sync.Mutex
	w     *os.File
	on    bool
	start time.Time
	tapes int
	lines int64
	chg   int64
}

func newProgress(w *os.File) *progress {
	return &progress{w: w, on: cli.IsTerminal(w), start: time.Now()}
}

func (p *progress) tape(t pipeline.TapeStats) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tapes++
	p.lines += t.Lines
	p.chg += t.MarketChanges
	rate := float64(p.chg) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%d tapes, %d lines, %.0f changes/s ", p.tapes, p.lines, rate)
}

func (p *progress) done() {
	if p.on && p.tapes > 0 {
		fmt.Fprintln(p.w)
	}
}
