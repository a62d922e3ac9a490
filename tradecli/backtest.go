package tradecli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/spf13/cobra"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/sim"
	"github.com/tapedeck/tapedeck/engine/strategies"
	"github.com/tapedeck/tapedeck/internal/cli"
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
	// Report, when set, is the HTML strategy report to write; the run then
	// also records price series, market details and fills into Out.
	Report string
	// Strict stops at the first bad line, tape cut short or unreadable
	// input (tape.Rules).
	Strict bool
	// S3 configures s3:// inputs.
	S3 s3.Options
}

// BacktestCommand is `trade backtest`.
func BacktestCommand(reg *strategies.Registry) *cobra.Command {
	var o BacktestOptions
	cmd := &cobra.Command{
		Use:   "backtest --strategy NAME [--param k=v ...] INPUT... -o DIR",
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
--model flumine (default) reproduces flumine 2.13's simulator; --model queue
is tapedeck's queue-aware refinement (docs/backtest.md).`,
		Example: `  tapedeck trade backtest --strategy passive-back testdata/tapes -o results
  tapedeck trade backtest --strategy lowest-layer --param max_price=2.5 --model queue tapes/ -o out
  tapedeck trade backtest --strategy passive-back testdata/tapes -o results --report results/report.html`,
		Args: cli.RequireInputs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBacktest(cmd, reg, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Strategy, "strategy", "", "strategy to run (trade strategies lists them)")
	f.StringArrayVar(&o.Params, "param", nil, "strategy parameter key=value (repeatable)")
	f.StringVarP(&o.Out, "out", "o", "", "directory for orders and markets")
	f.IntVar(&o.Workers, "workers", runtime.GOMAXPROCS(0), "markets replayed at once")
	f.StringVar(&o.Model, "model", "flumine", "execution model: flumine or queue")
	f.Float64Var(&o.Commission, "commission", 0.05, "commission rate on a market's positive profit")
	f.BoolVar(&o.EventGroup, "event-group", false, "replay each event's markets together, merged by publish time")
	f.BoolVar(&o.Historic, "historic", false, "compute total matched from traded ladders (Betfair's purchased files carry no tv)")
	f.StringVar(&o.Report, "report", "", "write the HTML strategy report to `FILE` (and record what it needs into DIR)")
	f.BoolVar(&o.Strict, "strict", false, "stop at the first bad line or unreadable input (exit code 1) instead of skipping it")
	o.S3.AddFlags(f)
	return cmd
}

func runBacktest(cmd *cobra.Command, reg *strategies.Registry, o BacktestOptions, inputs []string) error {
	if o.Strategy == "" {
		return &cli.UsageError{Err: fmt.Errorf("--strategy is required (trade strategies lists them)")}
	}
	info, ok := reg.Lookup(o.Strategy)
	if !ok {
		return &cli.UsageError{Err: fmt.Errorf("unknown strategy %q (trade strategies lists them)", o.Strategy)}
	}
	if o.Out == "" {
		return &cli.UsageError{Err: fmt.Errorf("-o DIR is required")}
	}
	params, err := strategies.ParseParams(o.Params)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	if err := info.CheckParams(params); err != nil {
		return &cli.UsageError{Err: err}
	}
	if _, err := info.New(params); err != nil {
		return &cli.UsageError{Err: fmt.Errorf("strategy %s: %w", o.Strategy, err)}
	}
	model, err := sim.ParseModel(o.Model)
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	log := cli.NewLogger(cmd.ErrOrStderr(), slog.LevelWarn)
	var rec *report.Recorder
	var observe func() engine.Observer
	if o.Report != "" {
		rec = &report.Recorder{}
		observe = rec.NewObserver
	}
	res, err := engine.Replay(cmd.Context(), inputs, engine.Config{
		NewStrategy:  func() (engine.Strategy, error) { return info.New(params) },
		NewExecution: sim.NewExecution(model),
		Workers:      o.Workers,
		EventGroup:   o.EventGroup,
		Commission:   o.Commission,
		Cache:        book.Options{CalculateMarketTv: o.Historic, CumulativeRunnerTv: o.Historic},
		Log:          log,
		NewObserver:  observe,
		Strict:       o.Strict,
		Sources:      tape.Sources{Store: store.Options{S3: o.S3.WithLogger(log)}},
	})
	if err != nil && !errors.Is(err, tape.ErrUnreadable) {
		return fmt.Errorf("backtest: %w", err)
	}
	// With an input unreadable, the markets that could be read are still
	// written, reported and summed up; the run fails after that (exit
	// code 1).
	unreadable := err
	if err := WriteResults(o.Out, res); err != nil {
		return err
	}
	var summary strings.Builder
	PrintSummary(&summary, o.Strategy, model, res)
	run := &report.Run{Command: "trade backtest", Strategy: o.Strategy, Params: o.Params, Inputs: inputs,
		Model: model.String(), Commission: o.Commission, Summary: summary.String()}
	if err := report.WriteRun(o.Out, run); err != nil {
		return err
	}
	if rec != nil {
		if err := rec.Write(o.Out, res.Orders); err != nil {
			return err
		}
		if err := report.WriteFile(o.Out, o.Report); err != nil {
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

// OrderRow is one row of the orders table.
type OrderRow struct {
	MarketID            string  `parquet:"market_id"`
	SelectionID         int64   `parquet:"selection_id"`
	Handicap            float64 `parquet:"handicap"`
	Strategy            string  `parquet:"strategy"`
	OrderID             int64   `parquet:"order_id"`
	CustomerRef         string  `parquet:"customer_order_ref"`
	Side                string  `parquet:"side"`
	OrderType           string  `parquet:"order_type"`
	Persistence         string  `parquet:"persistence"`
	Price               float64 `parquet:"price"`
	Size                float64 `parquet:"size"`
	Liability           float64 `parquet:"liability"`
	PlacedAt            int64   `parquet:"placed_at,timestamp(millisecond)"`
	Status              string  `parquet:"status"`
	Violation           string  `parquet:"violation"`
	ErrorCode           string  `parquet:"error_code"`
	SizeMatched         float64 `parquet:"size_matched"`
	AveragePriceMatched float64 `parquet:"average_price_matched"`
	SizeCancelled       float64 `parquet:"size_cancelled"`
	SizeLapsed          float64 `parquet:"size_lapsed"`
	SizeVoided          float64 `parquet:"size_voided"`
	RunnerStatus        string  `parquet:"runner_status"`
	Profit              float64 `parquet:"profit"`
	QueueAheadAtPlace   float64 `parquet:"queue_ahead_at_place"`
}

// MarketRow is one row of the markets table.
type MarketRow struct {
	MarketID       string  `parquet:"market_id"`
	EventID        string  `parquet:"event_id"`
	MarketType     string  `parquet:"market_type"`
	Status         string  `parquet:"status"`
	Updates        int64   `parquet:"updates"`
	Orders         int64   `parquet:"orders"`
	OrdersMatched  int64   `parquet:"orders_matched"`
	SizeMatched    float64 `parquet:"size_matched"`
	Profit         float64 `parquet:"profit"`
	Commission     float64 `parquet:"commission"`
	Net            float64 `parquet:"net"`
	StrategyErrors int64   `parquet:"strategy_errors"`
}

// Rows turns a result into table rows.
func Rows(res *engine.Result) ([]OrderRow, []MarketRow) {
	orders := make([]OrderRow, len(res.Orders))
	for i, o := range res.Orders {
		placed := o.PlacedAt
		if placed == 0 {
			placed = o.CreatedAt
		}
		orders[i] = OrderRow{
			MarketID: o.MarketID, SelectionID: o.SelectionID, Handicap: o.Handicap, Strategy: o.Strategy,
			OrderID: int64(o.ID), CustomerRef: o.CustomerRef, Side: o.Side.String(), OrderType: o.Type.String(),
			Persistence: o.Persistence.String(), Price: o.Price, Size: o.Size, Liability: o.Liability,
			PlacedAt: placed, Status: o.Status.String(), Violation: o.Violation, ErrorCode: o.ErrorCode,
			SizeMatched: o.SizeMatched, AveragePriceMatched: o.AvgPriceMatched, SizeCancelled: engine.Round2(o.SizeCancelled),
			SizeLapsed: engine.Round2(o.SizeLapsed), SizeVoided: engine.Round2(o.SizeVoided), RunnerStatus: o.RunnerStatus,
			Profit: o.Profit, QueueAheadAtPlace: o.QueueAheadAtPlace,
		}
	}
	markets := make([]MarketRow, len(res.Markets))
	for i, m := range res.Markets {
		markets[i] = MarketRow{MarketID: m.MarketID, EventID: m.EventID, MarketType: m.MarketType, Status: m.Status,
			Updates: m.Updates, Orders: int64(m.Orders), OrdersMatched: int64(m.Matched), SizeMatched: m.SizeMatched,
			Profit: m.Profit, Commission: m.Commission, Net: m.Net, StrategyErrors: int64(m.StrategyErrors)}
	}
	return orders, markets
}

// WriteResults writes orders and markets as Parquet and CSV into dir.
func WriteResults(dir string, res *engine.Result) error {
	orders, markets := Rows(res)
	if err := parquet.WriteFile(filepath.Join(dir, "orders.parquet"), orders); err != nil {
		return fmt.Errorf("backtest: write %s: %w", filepath.Join(dir, "orders.parquet"), err)
	}
	if err := parquet.WriteFile(filepath.Join(dir, "markets.parquet"), markets); err != nil {
		return fmt.Errorf("backtest: write %s: %w", filepath.Join(dir, "markets.parquet"), err)
	}
	if err := writeCSV(filepath.Join(dir, "orders.csv"), orderHeader, len(orders), func(i int) []string { return orders[i].record() }); err != nil {
		return err
	}
	return writeCSV(filepath.Join(dir, "markets.csv"), marketHeader, len(markets), func(i int) []string { return markets[i].record() })
}

var orderHeader = []string{"market_id", "selection_id", "handicap", "strategy", "order_id", "customer_order_ref", "side", "order_type",
	"persistence", "price", "size", "liability", "placed_at", "status", "violation", "error_code", "size_matched",
	"average_price_matched", "size_cancelled", "size_lapsed", "size_voided", "runner_status", "profit", "queue_ahead_at_place"}

var marketHeader = []string{"market_id", "event_id", "market_type", "status", "updates", "orders", "orders_matched", "size_matched", "profit", "commission", "net", "strategy_errors"}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func (r *OrderRow) record() []string {
	return []string{r.MarketID, strconv.FormatInt(r.SelectionID, 10), ff(r.Handicap), r.Strategy, strconv.FormatInt(r.OrderID, 10),
		r.CustomerRef, r.Side, r.OrderType, r.Persistence, ff(r.Price), ff(r.Size), ff(r.Liability),
		time.UnixMilli(r.PlacedAt).UTC().Format("2006-01-02T15:04:05.000Z"), r.Status, r.Violation, r.ErrorCode,
		ff(r.SizeMatched), ff(r.AveragePriceMatched), ff(r.SizeCancelled), ff(r.SizeLapsed), ff(r.SizeVoided),
		r.RunnerStatus, ff(r.Profit), ff(r.QueueAheadAtPlace)}
}

func (r *MarketRow) record() []string {
	return []string{r.MarketID, r.EventID, r.MarketType, r.Status, strconv.FormatInt(r.Updates, 10), strconv.FormatInt(r.Orders, 10),
		strconv.FormatInt(r.OrdersMatched, 10), ff(r.SizeMatched), ff(r.Profit), ff(r.Commission), ff(r.Net), strconv.FormatInt(r.StrategyErrors, 10)}
}

func writeCSV(path string, header []string, n int, row func(int) []string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(header)
	for i := range n {
		_ = w.Write(row(i))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("backtest: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backtest: write %s: %w", path, err)
	}
	return nil
}

// PrintSummary prints the run's summary: markets, orders, matched volume,
// P&L, updates/s, strategy errors.
func PrintSummary(w io.Writer, strategy string, model sim.Model, res *engine.Result) {
	profit, comm, net := res.Profit()
	matched := 0
	for _, m := range res.Markets {
		matched += m.Matched
	}
	secs := res.Wall.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.Updates) / secs
	}
	fmt.Fprintf(w, "strategy        %s (model %s)\n", strategy, model)
	fmt.Fprintf(w, "markets         %d\n", len(res.Markets))
	fmt.Fprintf(w, "orders          %d (%d matched, %d violations)\n", len(res.Orders), matched, res.Violations)
	fmt.Fprintf(w, "matched volume  %.2f\n", res.SizeMatched())
	fmt.Fprintf(w, "profit          %.2f\n", profit)
	fmt.Fprintf(w, "commission      %.2f\n", comm)
	fmt.Fprintf(w, "net             %.2f\n", net)
	fmt.Fprintf(w, "updates         %d in %.2fs (%.0f updates/s, %.1f markets/s)\n", res.Updates, secs, rate, float64(len(res.Markets))/max(secs, 1e-9))
	fmt.Fprintf(w, "strategy errors %d\n", res.StrategyErrors)
	if res.BadLines > 0 || len(res.InputErrors) > 0 {
		fmt.Fprintf(w, "bad lines       %d, unreadable inputs %d\n", res.BadLines, len(res.InputErrors))
	}
}
