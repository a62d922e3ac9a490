package tradecli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/tradecli/report"
)

// PaperOptions are trade paper's settings.
type PaperOptions struct {
	Strategy   string
	Params     []string
	Out        string
	Model      string
	Commission float64
	// MinBet is the currency whose minimum bet the controls check, and
	// the figures its flags override.
	MinBet MinBetOptions
	StreamOptions
}

// PaperCommand is `trade paper`.
func PaperCommand(reg *strategies.Registry) *cobra.Command {
	var o PaperOptions
	cmd := &cobra.Command{
		Use:   "paper --strategy NAME [--param k=v ...] [--config FILE | --exchange-info FILE] -o DIR",
		Short: "Run a strategy on a live market stream with simulated execution",
		Long: `paper runs one strategy on a live market stream, with the execution model
of trade backtest instead of real bets. Its clock is each message's publish
time, never the wall clock, so paper trading a replay (trade serve) gives the
backtest's orders, fills and profit, order for order.

The stream is Betfair's, logged in to as record run does (credentials from
the flags, else TAPEDECK_APP_KEY, TAPEDECK_USERNAME, TAPEDECK_PASSWORD,
TAPEDECK_CERT, TAPEDECK_KEY, else the --config JSON file; --jurisdiction and
the endpoint flags), or a local exchange's (--exchange-info: the file trade
serve --info wrote). No order is sent: only the market stream is read.

On a terminal a status line shows the markets, the orders live and
matched, the exposure and the profit; otherwise the status is logged as
JSON every --status-every. --metrics-addr serves Prometheus metrics.

The run ends on SIGINT or SIGTERM, at --until, after --duration, or by itself once every
market of --market-ids has closed; then it writes in DIR the files trade
backtest writes (orders and markets as Parquet and CSV, run.json) and prints
the summary.`,
		Example: `  tapedeck trade serve testdata/tapes/1.197931750 --info ex.json &
  tapedeck trade paper --strategy passive-back --exchange-info ex.json --market-ids 1.197931750 -o paper`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPaper(cmd, reg, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Strategy, "strategy", "", "strategy to run (trade strategies lists them)")
	f.StringArrayVar(&o.Params, "param", nil, "strategy parameter key=value (repeatable)")
	f.StringVarP(&o.Out, "out", "o", "", "directory for orders and markets")
	f.StringVar(&o.Model, "model", "flumine", "execution model: flumine or queue")
	f.Float64Var(&o.Commission, "commission", 0.05, "commission rate on a market's positive profit")
	o.MinBet.add(f, true)
	o.StreamOptions.add(f, "trade on", false)
	return cmd
}

func runPaper(cmd *cobra.Command, reg *strategies.Registry, o PaperOptions) error {
	info, params, err := strategyOf(reg, o.Strategy, o.Params)
	if err != nil {
		return err
	}
	if o.Out == "" {
		return &cli.UsageError{Err: fmt.Errorf("-o DIR is required")}
	}
	model, err := sim.ParseModel(o.Model)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	minBet, err := o.MinBet.resolve(cmd)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	ss, err := o.openSession(cmd, "paper")
	if err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	defer ss.close()
	logMinBet(ss.log, o.MinBet.Currency, minBet)
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	tables, err := openLiveTables(o.Out, ss.log, 1)
	if err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	res, err := engine.Paper(ss.ctx, engine.PaperConfig{
		Config: engine.Config{
			NewStrategy:  func() (engine.Strategy, error) { return info.New(params) },
			NewExecution: sim.NewExecution(model),
			Commission:   o.Commission,
			MinBet:       minBet,
			Log:          ss.log,
			// Each market's rows are on disk as soon as it is over.
			OnMarket: tables.Market,
		},
		MarketIDs: o.MarketIDs,
		Monitor:   engine.Monitor{OnStatus: ss.mon.onStatus},
		Stream:    ss.stream(&o.StreamOptions, false),
	})
	ss.close()
	if err := tables.Close(); err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	if err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	var summary strings.Builder
	tables.printSummary(&summary, o.Strategy, "model "+model.String(), res)
	run := &report.Run{Command: "trade paper", Strategy: o.Strategy, Params: o.Params, Inputs: []string{ss.acct.Endpoints.Stream},
		Model: model.String(), Commission: o.Commission, Summary: summary.String()}
	if err := report.WriteRun(o.Out, run); err != nil {
		return err
	}
	_, err = io.WriteString(cmd.OutOrStdout(), summary.String())
	return err
}
