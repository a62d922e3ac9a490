package tradecli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
	"github.com/tapedeck/tapedeck/internal/shard"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/store/s3"
	"github.com/tapedeck/tapedeck/tape"
	"github.com/tapedeck/tapedeck/tradecli/report"
)

// BacktestOptions are trade backtest's settings.
type BacktestOptions struct {
	Strategy   string
	Params     []string
	Out        string
	Workers    int
	Model      string
	Commission float64
	EventGroup bool
	Historic   bool
	// Sweep holds the --sweep flags, Shard the --shard flag, S3 the --s3-*
	// options for s3:// inputs and -o.
	Sweep []string
	Shard string
	S3    s3.Options
	// Report, when set, is the HTML strategy report to write; the run then
	// also records price series, market details and fills into Out.
	Report string
	// Strict stops at the first bad line, tape cut short or unreadable
	// input (tape.Rules).
	Strict bool
	// MinBet is the currency whose minimum bet the controls check, and
	// the figures its flags override.
	MinBet MinBetOptions
}

// BacktestCommand is `trade backtest`.
func BacktestCommand(reg *strategies.Registry) *cobra.Command {
	var o BacktestOptions
	cmd := &cobra.Command{
		Use:   "backtest --strategy NAME [--param k=v ...] [--sweep k=v1,v2 ...] [--shard K/N] INPUT... -o DIR",
		Short: "Run a strategy over tapes with simulated execution; write orders and per-market P&L",
		Long: `backtest replays tapes (files, directories, globs, Betfair .tar archives, any
compression) through one strategy with simulated execution and writes, in DIR:

  orders.parquet, orders.csv    one row per order
  markets.parquet, markets.csv  P&L per market
  run.json                      how the run was made, and its summary

then prints a summary. --report FILE also writes the HTML strategy report
(docs/report.md) and, for trade report to remake it, prices.parquet,
fills.parquet and market_info.parquet. Markets replay independently and in parallel
(--workers); --event-group merges each event's markets by publish time.

--sweep k=v1,v2,... (repeatable) runs every combination of the values in one
pass: each market is read and decoded once and replayed through one strategy
instance per combination, each with its own orders, limits and execution.
Both tables gain a params column ("k=v,k=v") and one column per swept
parameter, and the summary ranks the combinations by net profit.

--shard K/N replays only the tapes whose name hashes to K of N (K from 0), as
convert parquet does, and writes DIR/orders/sKofN.parquet (and .csv, and
markets/...) so that N shards share one DIR, s3:// included, and read as one
dataset (docs/scale.md). Files appear only when whole; a rerun replaces them.

--model flumine (default) reproduces flumine 2.13's simulator; --model queue
is tapedeck's queue-aware refinement (docs/backtest.md).`,
		Example: `  tapedeck trade backtest --strategy passive-back testdata/tapes -o results
  tapedeck trade backtest --strategy lowest-layer --param max_price=2.5 --model queue tapes/ -o out
  tapedeck trade backtest --strategy passive-back testdata/tapes -o results --report results/report.html
  tapedeck trade backtest --strategy passive-back --sweep stake=2,5,10 --sweep within=60,120,180 tapes/ -o sweep
  tapedeck trade backtest --strategy passive-back --shard 3/8 tapes.tar -o s3://bucket/results/run-1`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBacktest(cmd, reg, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Strategy, "strategy", "", "strategy to run (trade strategies lists them)")
	f.StringArrayVar(&o.Params, "param", nil, "strategy parameter key=value (repeatable)")
	f.StringVarP(&o.Out, "out", "o", "", "directory or s3://bucket/prefix for orders and markets")
	f.IntVar(&o.Workers, "workers", runtime.GOMAXPROCS(0), "markets replayed at once")
	f.StringVar(&o.Model, "model", "flumine", "execution model: flumine or queue")
	f.Float64Var(&o.Commission, "commission", 0.05, "commission rate on a market's positive profit")
	f.BoolVar(&o.EventGroup, "event-group", false, "replay each event's markets together, merged by publish time")
	f.BoolVar(&o.Historic, "historic", false, "compute total matched from traded ladders (Betfair's purchased files carry no tv)")
	f.StringArrayVar(&o.Sweep, "sweep", nil, "parameter key=v1,v2,... to sweep (repeatable: every combination, in one pass)")
	f.StringVar(&o.Shard, "shard", "", "K/N: replay only tapes whose name hashes to K of N (K from 0)")
	o.S3.AddFlags(f)
	f.StringVar(&o.Report, "report", "", "write the HTML strategy report to `FILE` (and record what it needs into DIR)")
	o.MinBet.add(f, true)
	f.BoolVar(&o.Strict, "strict", false, "stop at the first bad line or unreadable input (exit code 1) instead of skipping it")
	return cmd
}

func runBacktest(cmd *cobra.Command, reg *strategies.Registry, o BacktestOptions, inputs []string) error {
	info, params, err := strategyOf(reg, o.Strategy, o.Params)
	if err != nil {
		return err
	}
	if o.Out == "" {
		return &cli.UsageError{Err: fmt.Errorf("-o DIR is required")}
	}
	sw, err := ParseSweep(o.Sweep, params)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	n := 1
	if sw != nil {
		n = len(sw.Combos)
		for i := range n {
			if err := info.CheckParams(sw.Params(params, i)); err != nil {
				return &cli.UsageError{Err: fmt.Errorf("--sweep: %w", err)}
			}
			if _, err := info.New(sw.Params(params, i)); err != nil {
				return &cli.UsageError{Err: fmt.Errorf("strategy %s with %s: %w", o.Strategy, sw.Label(i), err)}
			}
		}
	}
	sh, err := shard.Parse(o.Shard)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	model, err := sim.ParseModel(o.Model)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	minBet, err := o.MinBet.resolve(cmd)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	if o.Report != "" && (sw != nil || o.Shard != "" || strings.Contains(o.Out, "://")) {
		return &cli.UsageError{Err: fmt.Errorf("--report is for one run into a local directory: not with --sweep, --shard or an s3:// -o")}
	}
	ctx := cmd.Context()
	st, prefix, err := store.Open(ctx, o.Out, store.Options{S3: o.S3})
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	layout := Layout{}
	if o.Shard != "" {
		layout.Tag = sh.Tag()
	}
	out, err := NewResultWriter(ctx, st, prefix, layout, sw)
	if err != nil {
		return err
	}
	totals := make([]Totals, n)
	var writeErr error
	log := cli.NewLogger(cmd.ErrOrStderr(), slog.LevelWarn)
	// The report needs every order and each market's prices: it is for
	// one local run, not a sweep or a shard (checked above).
	var (
		rec       *report.Recorder
		observe   func() engine.Observer
		collected []*engine.Order
		tables    report.Data // the rows written, for the report
	)
	if o.Report != "" {
		rec = &report.Recorder{}
		observe = rec.NewObserver
	}
	cfg := engine.Config{
		NewExecution: sim.NewExecution(model),
		Workers:      o.Workers,
		EventGroup:   o.EventGroup,
		Commission:   o.Commission,
		MinBet:       minBet,
		Cache:        book.Options{CalculateMarketTv: o.Historic, CumulativeRunnerTv: o.Historic},
		Log:          log,
		Keep:         sh.Keeps,
		Sources:      tape.Sources{Store: store.Options{S3: o.S3.WithLogger(log)}},
		NewObserver:  observe,
		Strict:       o.Strict,
		// Rows go out as each market finishes: nothing of a run is held
		// but the markets in flight and the combinations' totals.
		OnMarket: func(m engine.MarketResult, orders []*engine.Order) {
			totals[m.Slot].Add(m, orders)
			if writeErr == nil {
				writeErr = out.Market(m, orders)
			}
			if rec != nil {
				collected = append(collected, orders...)
				tables.Orders, tables.Markets = reportRows(tables.Orders, tables.Markets, m, orders)
			}
		},
	}
	if sw == nil {
		cfg.NewStrategy = func() (engine.Strategy, error) { return info.New(params) }
	} else {
		all := make([]strategies.Params, n)
		for i := range all {
			all[i] = sw.Params(params, i)
		}
		cfg.NewStrategies = func() ([]engine.Strategy, error) {
			s := make([]engine.Strategy, len(all))
			for i, p := range all {
				var err error
				if s[i], err = info.New(p); err != nil {
					return nil, fmt.Errorf("%s: %w", sw.Label(i), err)
				}
			}
			return s, nil
		}
	}
	res, err := engine.Replay(ctx, inputs, cfg)
	// With an input unreadable, the markets that could be read are still
	// written, reported and summed up; the run fails after that (exit
	// code 1).
	var unreadable error
	if errors.Is(err, tape.ErrUnreadable) {
		unreadable, err = err, nil
	}
	if err == nil {
		err = writeErr
	}
	if err != nil {
		out.Abort()
		return fmt.Errorf("backtest: %w", err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	var all Totals
	for _, t := range totals {
		all.merge(t)
	}
	var summary strings.Builder
	printSummary(&summary, o.Strategy, "model "+model.String(), res, all.round(), all.Markets/n)
	if sw != nil {
		fmt.Fprintf(&summary, "combinations    %d (the totals above are their sum)\n", n)
		PrintRanking(&summary, sw, totals)
	}
	run := &report.Run{Command: "trade backtest", Strategy: o.Strategy, Params: o.Params, Sweep: o.Sweep, Shard: o.Shard,
		Inputs: inputs, Model: model.String(), Commission: o.Commission, Summary: summary.String()}
	if err := writeRun(ctx, st, layout.Key(prefix, "run", "json"), run); err != nil {
		return err
	}
	if rec != nil {
		d, err := rec.Write(o.Out, collected)
		if err != nil {
			return err
		}
		d.Run, d.Orders, d.Markets = run, tables.Orders, tables.Markets
		if err := report.WriteHTML(d, o.Report); err != nil {
			return err
		}
	}
	_, err = io.WriteString(cmd.OutOrStdout(), summary.String())
	if err == nil && o.Report != "" {
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "report          %s\n", o.Report)
	}
	if err == nil && unreadable != nil {
		err = fmt.Errorf("backtest: %w", unreadable)
	}
	return err
}

// OrderRow is one row of the orders table. Its one definition is the
// report's, which reads the table back.
type OrderRow = report.Order

// MarketRow is one row of the markets table (defined with OrderRow).
type MarketRow = report.Market

func orderRow(ro *engine.Order) OrderRow {
	o := ro.State()
	placed := o.PlacedAt
	if placed == 0 {
		placed = o.CreatedAt
	}
	return OrderRow{
		MarketID: o.MarketID, SelectionID: o.SelectionID, Handicap: o.Handicap, Strategy: o.Strategy,
		OrderID: int64(o.ID), CustomerRef: o.CustomerRef, Side: o.Side.String(), OrderType: o.Type.String(),
		Persistence: o.Persistence.String(), Price: o.Price, Size: o.Size, Liability: o.Liability,
		PlacedAt: placed, Status: o.Status.String(), Violation: o.Violation, ErrorCode: o.ErrorCode,
		SizeMatched: o.SizeMatched, AveragePriceMatched: o.AvgPriceMatched, SizeCancelled: engine.Round2(o.SizeCancelled),
		SizeLapsed: engine.Round2(o.SizeLapsed), SizeVoided: engine.Round2(o.SizeVoided), RunnerStatus: string(o.RunnerStatus),
		Profit: o.Profit, QueueAheadAtPlace: o.QueueAheadAtPlace,
	}
}

func marketRow(m engine.MarketResult) MarketRow {
	return MarketRow{MarketID: m.MarketID, EventID: m.EventID, MarketType: m.MarketType, Status: string(m.Status),
		Updates: m.Updates, Orders: int64(m.Orders), OrdersMatched: int64(m.Matched), SizeMatched: m.SizeMatched,
		Profit: m.Profit, Commission: m.Commission, Net: m.Net, StrategyErrors: int64(m.StrategyErrors)}
}

var orderHeader = []string{"market_id", "selection_id", "handicap", "strategy", "order_id", "customer_order_ref", "side", "order_type",
	"persistence", "price", "size", "liability", "placed_at", "status", "violation", "error_code", "size_matched",
	"average_price_matched", "size_cancelled", "size_lapsed", "size_voided", "runner_status", "profit", "queue_ahead_at_place"}

var marketHeader = []string{"market_id", "event_id", "market_type", "status", "updates", "orders", "orders_matched", "size_matched", "profit", "commission", "net", "strategy_errors"}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// placedAtLayout is how orders.csv writes placed_at: UTC, to the
// millisecond the row holds.
const placedAtLayout = "2006-01-02T15:04:05.000Z"

// orderRecord is an orders row as CSV fields.
func orderRecord(r *OrderRow) []string {
	return []string{r.MarketID, strconv.FormatInt(r.SelectionID, 10), ff(r.Handicap), r.Strategy, strconv.FormatInt(r.OrderID, 10),
		r.CustomerRef, r.Side, r.OrderType, r.Persistence, ff(r.Price), ff(r.Size), ff(r.Liability),
		time.UnixMilli(r.PlacedAt).UTC().Format(placedAtLayout), r.Status, r.Violation, r.ErrorCode,
		ff(r.SizeMatched), ff(r.AveragePriceMatched), ff(r.SizeCancelled), ff(r.SizeLapsed), ff(r.SizeVoided),
		r.RunnerStatus, ff(r.Profit), ff(r.QueueAheadAtPlace)}
}

// marketRecord is a markets row as CSV fields.
func marketRecord(r *MarketRow) []string {
	return []string{r.MarketID, r.EventID, r.MarketType, r.Status, strconv.FormatInt(r.Updates, 10), strconv.FormatInt(r.Orders, 10),
		strconv.FormatInt(r.OrdersMatched, 10), ff(r.SizeMatched), ff(r.Profit), ff(r.Commission), ff(r.Net), strconv.FormatInt(r.StrategyErrors, 10)}
}

// printSummary prints totals t of a run that replayed markets markets
// (with a sweep, t covers every combination).
func printSummary(w io.Writer, strategy, executed string, res *engine.Result, t Totals, markets int) {
	secs := res.Wall.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.Updates) / secs
	}
	fmt.Fprintf(w, "strategy        %s (%s)\n", strategy, executed)
	fmt.Fprintf(w, "markets         %d\n", markets)
	fmt.Fprintf(w, "orders          %d (%d matched, %d violations)\n", t.Orders, t.Matched, t.Violations)
	fmt.Fprintf(w, "matched volume  %.2f\n", t.SizeMatched)
	fmt.Fprintf(w, "profit          %.2f\n", t.Profit)
	fmt.Fprintf(w, "commission      %.2f\n", t.Commission)
	fmt.Fprintf(w, "net             %.2f\n", t.Net)
	fmt.Fprintf(w, "updates         %d in %.2fs (%.0f updates/s, %.1f markets/s)\n", res.Updates, secs, rate, float64(markets)/max(secs, 1e-9))
	fmt.Fprintf(w, "strategy errors %d\n", res.StrategyErrors)
	if res.BadLines > 0 || len(res.InputErrors) > 0 {
		fmt.Fprintf(w, "bad lines       %d, unreadable inputs %d\n", res.BadLines, len(res.InputErrors))
	}
}

// reportRows appends to orders and markets the rows the result writer
// writes for market m (the same orderRow and marketRow), so the report
// shows the tables' numbers without reading them back (TestReportRebuilds
// checks that trade report, which does, agrees).
func reportRows(orders []OrderRow, markets []MarketRow, m engine.MarketResult, placed []*engine.Order) ([]OrderRow, []MarketRow) {
	for _, o := range placed {
		orders = append(orders, orderRow(o))
	}
	return orders, append(markets, marketRow(m))
}
