package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
)

// Order is one row of a results directory's orders table. It is the one
// definition of that table: tradecli writes it (as tradecli.OrderRow), the
// report reads it back.
type Order struct {
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

// Market is one row of a results directory's markets table, written by
// tradecli (as tradecli.MarketRow) and read back by the report.
type Market struct {
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

// Data is everything a report shows, as read from a results directory.
// Orders and Markets are required; the rest is there when the run
// recorded it (trade backtest --report), and the report leaves out what
// is missing.
type Data struct {
	Run     *Run
	Orders  []Order
	Markets []Market
	Info    []MarketInfo
	Prices  []PriceRow
	Fills   []FillRow
}

// Load reads a results directory: orders.parquet and markets.parquet, and
// run.json, market_info.parquet, prices.parquet and fills.parquet when
// present.
func Load(dir string) (*Data, error) {
	d := &Data{}
	if err := Complete(dir, d); err != nil {
		return nil, err
	}
	var err error
	if d.Info, err = readParquet[MarketInfo](dir, MarketInfoFile, false); err != nil {
		return nil, err
	}
	if d.Prices, err = readParquet[PriceRow](dir, PricesFile, false); err != nil {
		return nil, err
	}
	if d.Fills, err = readParquet[FillRow](dir, FillsFile, false); err != nil {
		return nil, err
	}
	return d, nil
}

// Complete reads into d the run, orders and markets of results directory
// dir, as written there, so that the report's numbers are the tables'.
func Complete(dir string, d *Data) error {
	var err error
	if d.Run, err = readRun(dir); err != nil {
		return err
	}
	if d.Orders, err = readParquet[Order](dir, "orders.parquet", true); err != nil {
		return err
	}
	if d.Markets, err = readParquet[Market](dir, "markets.parquet", true); err != nil {
		return err
	}
	return nil
}

func readParquet[T any](dir, name string, required bool) ([]T, error) {
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("report: %s has no %s: is it a results directory of trade backtest?", dir, name)
		}
		return nil, fmt.Errorf("report: read %s: %w", path, err)
	}
	return rows, nil
}
