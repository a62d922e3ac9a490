package tradecli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/journal"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/tradecli/report"
)

// LiveOptions are trade live's settings.
type LiveOptions struct {
	// Strategies are run side by side on one market stream, each with
	// its own orders and limits; Params go to every one of them.
	Strategies []string
	Params     []string
	Out        string
	Commission float64
	// MinBet overrides figures of the minimum bet of the account's
	// currency (its Currency is asked with getAccountDetails at start).
	MinBet MinBetOptions
	StreamOptions
	// Lockstep tells a trade serve --lockstep exchange when each change
	// has been handled (a deterministic run, for tests).
	Lockstep bool
	// MaxRequests bounds the Betting API requests on the wire at once.
	MaxRequests int
	// Run-wide controls (engine.RunLimits): 0 is no limit.
	MaxTransactionsPerHour   int
	MaxInstructionsPerSecond int
	DailyLossLimit           float64
	// HaltFile is a kill switch besides SIGUSR1: once it exists, no new
	// exposure and every unmatched order cancelled.
	HaltFile string
	// KeepOrders leaves unmatched orders on the exchange at the end;
	// DryRun sends no order-changing request (each is logged).
	KeepOrders, DryRun bool
	// Async sends placements with Betfair's async flag (answered at once;
	// the order stream tells the bet id and fills).
	Async bool
}

// LiveCommand is `trade live`.
func LiveCommand(reg *strategies.Registry) *cobra.Command {
	var o LiveOptions
	cmd := &cobra.Command{
		Use:   "live --strategy NAME [--strategy NAME ...] [--param k=v ...] [--config FILE | --exchange-info FILE] -o DIR",
		Short: "Trade strategies with real orders on Betfair, or on a local exchange (trade serve --betting)",
		Long: `live trades one or more strategies with real orders: the market stream feeds
the loop trade backtest and trade paper run, the Betting API places the
orders, and the order stream says what became of them. Orders an earlier run
left on the exchange (by the strategies' customerStrategyRef) are adopted
before any strategy runs.

It logs in as record run does: credentials from the flags, else
TAPEDECK_APP_KEY, TAPEDECK_USERNAME, TAPEDECK_PASSWORD, TAPEDECK_CERT,
TAPEDECK_KEY, else the --config JSON file; --jurisdiction and the endpoint
flags say where. They never appear in logs or in DIR. With --exchange-info it
trades on a local exchange instead (trade serve --betting --info FILE,
loopback only, placeholder credentials); against trade serve --betting
--lockstep, with --lockstep here, a run gives trade backtest's orders,
fills and profit.

On a terminal a status line shows the markets, the orders live and
matched, the exposure, the profit and the account's balance
(getAccountFunds every --funds-every); otherwise the status is logged as
JSON every --status-every. --metrics-addr serves Prometheus metrics.

Run-wide controls, checked before anything is sent and gating only what adds
exposure (a cancel always goes): --max-transactions-per-hour (5000 by
default, Betfair's charge threshold), --max-instructions-per-second,
--daily-loss-limit, and nothing new while the market or order stream is
down. A refused placement is an order with status VIOLATION and the reason.
The kill switch, SIGUSR1 or the --halt-file appearing, stops new exposure for
the rest of the run and cancels every unmatched order. --dry-run runs
everything but sends no order-changing request: each is logged as it would
have been sent, and a placement completes unmatched with error code DRY_RUN.

The run ends on SIGINT or SIGTERM, at --until, after --duration, or by itself
once every market of --market-ids has closed. On a signal, --until or
--duration it first
cancels every unmatched order (unless --keep-orders) and waits for the
exchange to confirm, within 15 s in all. Then it writes in DIR the files trade
backtest writes (orders and markets as Parquet and CSV, run.json) and
prints the summary. All along it appends to DIR/journal.jsonl, fsynced, one
JSON line for every Betting API request (as it is sent), every answer and
every change of an order's state.`,
		Example: `  tapedeck trade serve testdata/tapes/1.197931750 --betting --lockstep --speed 0 --info ex.json &
  tapedeck trade live --strategy passive-back --exchange-info ex.json --lockstep --market-ids 1.197931750 -o live`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLive(cmd, reg, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Strategies, "strategy", nil, "strategy to run (repeatable: several share one stream; trade strategies lists them)")
	f.StringArrayVar(&o.Params, "param", nil, "strategy parameter key=value, for every --strategy (repeatable)")
	f.StringVarP(&o.Out, "out", "o", "", "directory for orders, markets and the journal")
	f.Float64Var(&o.Commission, "commission", 0.05, "commission rate on a market's positive profit")
	o.MinBet.add(f, false)
	o.StreamOptions.add(f, "trade on", true)
	f.IntVar(&o.MaxRequests, "max-requests", engine.DefaultMaxRequests, "Betting API requests on the wire at once; more wait their turn, in order")
	f.BoolVar(&o.Lockstep, "lockstep", false, "tell a trade serve --lockstep exchange when each change is handled (deterministic runs)")
	f.IntVar(&o.MaxTransactionsPerHour, "max-transactions-per-hour", 5000, "placements and replaces per clock hour, all markets and strategies (Betfair charges above 5000; 0: no limit)")
	f.IntVar(&o.MaxInstructionsPerSecond, "max-instructions-per-second", 0, "instructions adding exposure per clock second (0: no limit)")
	f.Float64Var(&o.DailyLossLimit, "daily-loss-limit", 0, "no new exposure for the rest of the UTC day once the day's realised net loss reaches this (0: no limit)")
	f.StringVar(&o.HaltFile, "halt-file", "", "kill switch: once this `FILE` exists (checked each second), no new exposure and every unmatched order cancelled (as SIGUSR1)")
	f.BoolVar(&o.KeepOrders, "keep-orders", false, "leave unmatched orders on the exchange when the run stops (default: cancel them and wait for the exchange)")
	f.BoolVar(&o.DryRun, "dry-run", false, "send no order-changing request: log each as it would have been sent (placements complete unmatched, error code DRY_RUN)")
	f.BoolVar(&o.Async, "async", false, "place orders with Betfair's async flag: answered at once, bet ids and fills from the order stream")
	return cmd
}

func runLive(cmd *cobra.Command, reg *strategies.Registry, o LiveOptions) error {
	if len(o.Strategies) == 0 {
		return &cli.UsageError{Err: fmt.Errorf("--strategy is required (trade strategies lists them)")}
	}
	var news []func() (engine.Strategy, error)
	for _, name := range o.Strategies {
		info, params, err := strategyOf(reg, name, o.Params)
		if err != nil {
			return err
		}
		news = append(news, func() (engine.Strategy, error) { return info.New(params) })
	}
	if o.Out == "" {
		return &cli.UsageError{Err: fmt.Errorf("-o DIR is required")}
	}
	if err := checkRunLimits(&o); err != nil {
		return err
	}
	ss, err := o.openSession(cmd, "live")
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	defer ss.close()
	ctx, log := ss.ctx, ss.log
	defer stopGuard(ctx, log)()
	// The requests a dry run keeps back are logged at Info.
	ss.bc.SetDryRun(o.DryRun)
	// Stakes are in the account's currency, and so is the minimum bet
	// Betfair holds them to: ask before any strategy runs.
	acct, err := ss.bc.GetAccountDetails(ctx)
	if err != nil {
		return fmt.Errorf("live: the account's currency: %w", err)
	}
	o.MinBet.Currency = acct.CurrencyCode
	minBet, err := o.MinBet.resolve(cmd)
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	logMinBet(log, o.MinBet.Currency, minBet)
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("live: %w", err)
	}
	jr, err := journal.Open(filepath.Join(o.Out, "journal.jsonl"))
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	defer jr.Close()
	tables, err := openLiveTables(o.Out, log, len(news))
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	res, err := engine.Live(ctx, engine.LiveConfig{
		Config: engine.Config{
			NewStrategies: func() ([]engine.Strategy, error) {
				out := make([]engine.Strategy, len(news))
				for i, n := range news {
					s, err := n()
					if err != nil {
						return nil, err
					}
					out[i] = s
				}
				return out, nil
			},
			// Settlement only: runner status and profit at each close by
			// the backtest's rules; the exchange matches.
			NewExecution: sim.NewExecution(sim.Flumine),
			Commission:   o.Commission,
			MinBet:       minBet,
			Log:          log,
			// Each market's rows are on disk as soon as it is over.
			OnMarket: tables.Market,
		},
		MarketIDs: o.MarketIDs,
		Lockstep:  o.Lockstep,
		Limits: engine.RunLimits{MaxTransactionsPerHour: o.MaxTransactionsPerHour, MaxInstructionsPerSecond: o.MaxInstructionsPerSecond,
			DailyLossLimit: o.DailyLossLimit},
		Halt:       killSwitch(ctx, o.HaltFile, log),
		KeepOrders: o.KeepOrders,
		Monitor:    engine.Monitor{OnStatus: ss.mon.onStatus},
		Betting: engine.BettingConfig{Client: ss.bc, Session: fmt.Sprintf("%x", time.Now().UnixNano()%(1<<40)), Log: log, Async: o.Async,
			MaxRequests: o.MaxRequests, Journal: jr, OnWire: ss.mon.onWire},
		Stream: ss.stream(&o.StreamOptions, true),
	})
	ss.close()
	if err := tables.Close(); err != nil {
		return fmt.Errorf("live: %w", err)
	}
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	name := strings.Join(o.Strategies, ",")
	var summary strings.Builder
	tables.printSummary(&summary, name, "executed by the exchange", res)
	fmt.Fprintf(&summary, "minimum bet     %s: stake %g, payout %g, BSP liability %g\n", o.MinBet.Currency, minBet.Size, minBet.Payout, minBet.BSPLiability)
	if sc := res.Settlement; sc != nil {
		fmt.Fprintf(&summary, "settlement      %d orders in %d markets checked with listClearedOrders: %d differ, %d markets unchecked\n",
			sc.Orders, sc.Markets, sc.Differences, sc.Unchecked)
	}
	run := &report.Run{Command: "trade live", Strategy: name, Params: o.Params, Inputs: []string{ss.acct.Endpoints.Stream},
		Commission: o.Commission, Summary: summary.String()}
	if err := report.WriteRun(o.Out, run); err != nil {
		return err
	}
	_, err = io.WriteString(cmd.OutOrStdout(), summary.String())
	return err
}
