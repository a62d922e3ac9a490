package tradecli

import (
	"context"
	"fmt"
	"github.com/tapedeck/tapedeck/engine/exchange"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/betting"
	"github.com/tapedeck/tapedeck/engine/esa"
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
	// ExchangeInfo is the file trade serve --info wrote.
	ExchangeInfo string
	// ExchangeInfoWait is how long to wait for that file to appear.
	ExchangeInfoWait time.Duration
	// MarketIDs, EventTypeIDs, MarketTypes and Countries filter the
	// market subscription; with MarketIDs the run ends once all of them
	// have closed.
	MarketIDs, EventTypeIDs, MarketTypes, Countries []string
	Duration                                        time.Duration
}

// PaperCommand is `trade paper`.
func PaperCommand(reg *strategies.Registry) *cobra.Command {
	var o PaperOptions
	cmd := &cobra.Command{
		Use:   "paper --strategy NAME [--param k=v ...] --exchange-info FILE -o DIR",
		Short: "Run a strategy on a live market stream with simulated execution",
		Long: `paper runs one strategy on a live market stream, with the execution model
of trade backtest instead of real bets. Its clock is each message's publish
time, never the wall clock, so paper trading a replay (trade serve) gives the
backtest's orders, fills and profit, order for order.

The stream is the local exchange trade serve --info described (--exchange-info).
The run ends on SIGINT or SIGTERM, after --duration, or by itself once every
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
	f.StringVar(&o.ExchangeInfo, "exchange-info", "", "trade on the local exchange whose JSON `FILE` trade serve --info wrote (loopback only)")
	f.DurationVar(&o.ExchangeInfoWait, "exchange-info-wait", 30*time.Second, "how long to wait for the --exchange-info file to appear")
	f.StringSliceVar(&o.MarketIDs, "market-ids", nil, "markets to subscribe to; the run ends once all have closed")
	f.StringSliceVar(&o.EventTypeIDs, "event-type-ids", nil, "event types to subscribe to (7 horse racing, 4339 greyhounds)")
	f.StringSliceVar(&o.MarketTypes, "market-types", nil, "market types to subscribe to (WIN, PLACE, ...)")
	f.StringSliceVar(&o.Countries, "countries", nil, "country codes to subscribe to (GB, IE, ...)")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: until a signal or the markets close)")
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
	if o.ExchangeInfo == "" {
		return &cli.UsageError{Err: fmt.Errorf("--exchange-info FILE is required: trade paper runs on a local exchange's stream (trade serve --info FILE)")}
	}
	model, err := sim.ParseModel(o.Model)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	ctx, stop := runContext(cmd, o.Duration)
	defer stop()
	log := cli.NewLogger(cmd.ErrOrStderr(), slog.LevelWarn)
	ex, bc, err := localExchange(ctx, o.ExchangeInfo, o.ExchangeInfoWait, "tapedeck-paper", log)
	if err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	filter := &esa.MarketFilter{MarketIDs: o.MarketIDs, EventTypeIDs: o.EventTypeIDs, MarketTypes: o.MarketTypes, CountryCodes: o.Countries}
	res, err := engine.Paper(ctx, engine.PaperConfig{
		Config: engine.Config{
			NewStrategy:  func() (engine.Strategy, error) { return info.New(params) },
			NewExecution: sim.NewExecution(model),
			Commission:   o.Commission,
			Log:          log,
		},
		MarketIDs: o.MarketIDs,
		Stream: esa.ClientConfig{Addr: ex.Stream, CAFile: ex.CA, AppKey: "tapedeck-paper", Session: bc.SessionToken, Relogin: bc.Login,
			Market: &esa.MarketSubscription{MarketFilter: filter, MarketDataFilter: &esa.MarketDataFilter{Fields: esa.AllMarketDataFields}},
			Logger: log},
	})
	if err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	if err := WriteResults(o.Out, res); err != nil {
		return err
	}
	var summary strings.Builder
	PrintSummary(&summary, o.Strategy, model, res)
	run := &report.Run{Command: "trade paper", Strategy: o.Strategy, Params: o.Params, Inputs: []string{ex.Stream},
		Model: model.String(), Commission: o.Commission, Summary: summary.String()}
	if err := report.WriteRun(o.Out, run); err != nil {
		return err
	}
	_, err = io.WriteString(cmd.OutOrStdout(), summary.String())
	return err
}

// localExchange reads the file trade serve --info wrote (waiting up to
// wait for it), checks that every address is loopback, and logs a betting
// client in to that exchange. The local exchange has no accounts: any name
// logs in, so the credentials are placeholders, not secrets. A bad file is
// a *cli.UsageError.
func localExchange(ctx context.Context, path string, wait time.Duration, appKey string, log *slog.Logger) (exchange.Info, *betting.Client, error) {
	ex, err := exchange.ReadInfo(ctx, path, wait)
	if err != nil {
		if ctx.Err() != nil {
			return ex, nil, err
		}
		return ex, nil, &cli.UsageError{Err: fmt.Errorf("--exchange-info: %w", err)}
	}
	if err := exchange.CheckLoopback(ex.Stream, ex.Identity, ex.Betting); err != nil {
		return ex, nil, &cli.UsageError{Err: fmt.Errorf("--exchange-info %s: %w", path, err)}
	}
	bc, err := betting.New(betting.Config{Endpoints: betting.Local(ex.Identity, ex.Betting, ex.Stream), AppKey: appKey,
		Username: "local", Password: "local", CAFile: ex.CA, Logger: log})
	if err != nil {
		return ex, nil, err
	}
	return ex, bc, bc.Login(ctx)
}

// runContext is a trading run's context: it ends on SIGINT or SIGTERM, and
// after d when d is above 0.
func runContext(cmd *cobra.Command, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	if d <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, func() { cancel(); stop() }
}
