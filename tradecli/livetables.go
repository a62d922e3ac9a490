package tradecli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/store"
)

// liveTables writes a trade paper or trade live run's orders and markets
// as its markets finish, so that a finished market's rows are on disk
// while the run goes on and survive a crash:
//
//   - orders.csv and markets.csv in the output directory grow a market at
//     a time, each write flushed and fsynced: the orders first, then the
//     market's row, which is the mark that the market is whole;
//   - at the end, Close writes all four files (Parquet and CSV) with the
//     backtest's ResultWriter from those rows, so the files and columns are
//     exactly trade backtest's; a Parquet footer cannot be appended, so the
//     Parquet files appear only then;
//   - a run started on a directory a killed run left keeps that run's
//     finished markets: it reads the CSVs back (dropping a torn last line,
//     and the orders of a market whose row was never written), and a
//     market already there is not written twice.
type liveTables struct {
	dir             string
	log             *slog.Logger
	slots           int // strategy instances: each market is handed over once for each
	orders, markets *appender
	earlier         map[string]bool // markets finished by an earlier run
	// batch is the market being handed over, until its last strategy
	// instance's rows are in: a market's rows go to each file in one
	// write, so a kill leaves all of them or none (markets.csv has no
	// strategy column to tell a missing instance's row).
	batch rows
	// failed is the first write that failed (a full disk); the markets
	// after it, and that one, are held in memory and written by Close.
	failed           error
	held             rows
	totals           Totals
	skipped, carried int
}

// rows are tables' rows.
type rows struct {
	orders  []OrderRow
	markets []MarketRow
}

// appender is one growing CSV file.
type appender struct {
	path string
	f    *os.File
	buf  *bufio.Writer
	csv  *csv.Writer
}

// openLiveTables starts the tables in dir, for a run of slots strategy
// instances, keeping what an earlier run left there.
func openLiveTables(dir string, log *slog.Logger, slots int) (*liveTables, error) {
	t := &liveTables{dir: dir, log: log, slots: max(slots, 1), earlier: map[string]bool{}}
	kept, dropped, err := readWhole(dir)
	if err != nil {
		return nil, err
	}
	if dropped > 0 && log != nil {
		log.Warn("orders of a market the earlier run did not finish writing are dropped (the journal has them)", "file", filepath.Join(dir, "orders.csv"), "orders", dropped)
	}
	for _, m := range kept.markets {
		t.earlier[m.MarketID] = true
	}
	t.carried = len(t.earlier)
	if t.orders, err = newAppender(filepath.Join(dir, "orders.csv"), orderHeader, kept.orders, func(r *OrderRow) []string { return orderRecord(r) }); err != nil {
		return nil, err
	}
	if t.markets, err = newAppender(filepath.Join(dir, "markets.csv"), marketHeader, kept.markets, func(r *MarketRow) []string { return marketRecord(r) }); err != nil {
		t.orders.f.Close()
		return nil, err
	}
	for _, m := range kept.markets {
		t.totals.addRow(m)
	}
	for _, o := range kept.orders {
		if o.Status == engine.Violation.String() {
			t.totals.Violations++
		}
	}
	return t, nil
}

// readWhole reads back the tables a run wrote in dir, keeping the markets
// written whole: a torn last line is dropped (readRows), and so are the
// orders of a market whose row was never written, the mark that it is
// whole; dropped counts those orders.
func readWhole(dir string) (whole rows, dropped int, err error) {
	if whole.markets, err = readRows[MarketRow](filepath.Join(dir, "markets.csv"), marketHeader); err != nil {
		return rows{}, 0, err
	}
	if whole.orders, err = readRows[OrderRow](filepath.Join(dir, "orders.csv"), orderHeader); err != nil {
		return rows{}, 0, err
	}
	done := map[string]bool{}
	for _, m := range whole.markets {
		done[m.MarketID] = true
	}
	n := len(whole.orders)
	whole.orders = slices.DeleteFunc(whole.orders, func(o OrderRow) bool { return !done[o.MarketID] })
	return whole, n - len(whole.orders), nil
}

// newAppender rewrites path with header and rows (what an earlier run left
// that is kept) through the directory store, which commits a file whole
// (a temporary file, fsynced, renamed, the directory synced), so a crash
// now loses nothing; then it opens the file for appending.
func newAppender[R any](path string, header []string, rows []R, record func(*R) []string) (*appender, error) {
	st, err := store.NewDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	obj, err := st.Create(context.Background(), filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	w := csv.NewWriter(obj)
	w.Write(header)
	for i := range rows {
		w.Write(record(&rows[i]))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		obj.Abort()
		return nil, fmt.Errorf("tables: write %s: %w", path, err)
	}
	if err := obj.Close(); err != nil {
		return nil, fmt.Errorf("tables: write %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	a := &appender{path: path, f: f, buf: bufio.NewWriter(f)}
	a.csv = csv.NewWriter(a.buf)
	return a, nil
}

// write appends records and makes them durable.
func (a *appender) write(records [][]string) error {
	if err := a.csv.WriteAll(records); err != nil { // WriteAll flushes the csv writer
		return fmt.Errorf("tables: write %s: %w", a.path, err)
	}
	if err := a.buf.Flush(); err != nil {
		return fmt.Errorf("tables: write %s: %w", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("tables: sync %s: %w", a.path, err)
	}
	return nil
}

// Market is the run's Config.OnMarket: it takes one strategy instance's
// rows of a finished market and, with the market's last instance, writes
// them all, the orders first, then the market's rows. A market an earlier
// run on this directory already wrote is not written again. A failed write
// is logged at once and does not stop the run: that market and the later
// ones are held in memory and written by Close.
func (t *liveTables) Market(m engine.MarketResult, orders []*engine.Order) {
	if len(t.batch.markets) > 0 && t.batch.markets[0].MarketID != m.MarketID {
		t.flush() // an instance that had no state in the market: nothing more comes
	}
	if t.earlier[m.MarketID] {
		if m.Slot == t.slots-1 {
			t.skipped++
		}
		return
	}
	t.totals.Add(m, orders)
	for _, o := range orders {
		t.batch.orders = append(t.batch.orders, orderRow(o))
	}
	t.batch.markets = append(t.batch.markets, marketRow(m))
	if m.Slot == t.slots-1 {
		t.flush()
	}
}

// flush writes the batch (or holds it, after a failed write).
func (t *liveTables) flush() {
	b := t.batch
	t.batch = rows{}
	if len(b.markets) == 0 {
		return
	}
	if t.failed == nil {
		t.failed = t.append(b)
		if t.failed != nil && t.log != nil {
			t.log.Error("tables: a finished market's rows could not be written; the run goes on, and they are written at its end with the later ones",
				"market", b.markets[0].MarketID, "err", t.failed)
		}
	}
	if t.failed != nil {
		t.held.orders = append(t.held.orders, b.orders...)
		t.held.markets = append(t.held.markets, b.markets...)
	}
}

// append writes one market's rows to the growing files.
func (t *liveTables) append(b rows) error {
	recs := make([][]string, len(b.orders))
	for i := range b.orders {
		recs[i] = orderRecord(&b.orders[i])
	}
	if err := t.orders.write(recs); err != nil {
		return err
	}
	recs = make([][]string, len(b.markets))
	for i := range b.markets {
		recs[i] = marketRecord(&b.markets[i])
	}
	return t.markets.write(recs)
}

// Close closes the growing files and writes the run's final tables, both
// Parquet and CSV, from their rows and any held in memory.
func (t *liveTables) Close() error {
	t.flush()
	if err := errors.Join(t.orders.f.Close(), t.markets.f.Close()); err != nil && t.failed == nil {
		return fmt.Errorf("tables: %w", err)
	}
	all, _, err := readWhole(t.dir)
	if err != nil {
		return err
	}
	if len(t.held.markets) > 0 {
		// A held market may be partly on disk (the write that failed):
		// its rows are the held ones.
		heldIDs := map[string]bool{}
		for _, m := range t.held.markets {
			heldIDs[m.MarketID] = true
		}
		all.orders = append(slices.DeleteFunc(all.orders, func(o OrderRow) bool { return heldIDs[o.MarketID] }), t.held.orders...)
		all.markets = append(slices.DeleteFunc(all.markets, func(m MarketRow) bool { return heldIDs[m.MarketID] }), t.held.markets...)
	}
	st, err := store.NewDir(t.dir)
	if err != nil {
		return fmt.Errorf("tables: %w", err)
	}
	w, err := NewResultWriter(context.Background(), st, "", Layout{}, nil)
	if err != nil {
		return err
	}
	if err := w.addRows(0, all.orders, all.markets); err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if t.log != nil && (t.carried > 0 || t.skipped > 0) {
		t.log.Info("tables: an earlier run's finished markets kept", "dir", t.dir, "markets", t.carried, "finished again, not written twice", t.skipped)
	}
	if t.log != nil && len(t.held.markets) > 0 {
		t.log.Info("tables: the markets held since a failed write are written", "dir", t.dir, "market_rows", len(t.held.markets), "orders", len(t.held.orders))
	}
	return nil
}

// printSummary prints the run's summary as trade backtest's, over every
// market in the tables (an earlier run's on this directory included, as a
// line says).
func (t *liveTables) printSummary(w io.Writer, strategy, executed string, res *engine.Result) {
	printSummary(w, strategy, executed, res, t.totals, t.totals.Markets)
	if t.carried > 0 {
		fmt.Fprintf(w, "earlier runs    %d markets finished by earlier runs into %s are kept in the tables\n", t.carried, t.dir)
	}
}

// readRows reads a results CSV file (orders.csv or markets.csv, as
// orderRecord and marketRecord write them) back into rows of R, whose
// fields are the columns in order. A missing file has no rows; a torn last
// line (a crash during its write) is dropped; any other bad line is an
// error naming the file, line and column.
func readRows[R any](path string, header []string) ([]R, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		// Every write ends with a newline: what follows the last one was
		// cut off by a crash.
		b = b[:bytes.LastIndexByte(b, '\n')+1]
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1 // checked below, with a message naming the line
	var rows []R
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tables: %s: %w", path, err)
		}
		if line == 1 {
			if !slices.Equal(rec, header) {
				return nil, fmt.Errorf("tables: %s: line 1: the header is not trade's (%v): not a results file to keep", path, rec)
			}
			continue
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("tables: %s: line %d: %d fields, want %d", path, line, len(rec), len(header))
		}
		var row R
		v := reflect.ValueOf(&row).Elem()
		for i, s := range rec {
			if err := setField(v.Field(i), v.Type().Field(i), s); err != nil {
				return nil, fmt.Errorf("tables: %s: line %d: column %s: %w", path, line, header[i], err)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// setField sets one row field from its CSV text, the inverse of
// orderRecord and marketRecord (placed_at is a UTC time to the
// millisecond there, epoch milliseconds in the row).
func setField(f reflect.Value, sf reflect.StructField, s string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Int64:
		if sf.Name == "PlacedAt" {
			at, err := time.Parse(placedAtLayout, s)
			if err != nil {
				return err
			}
			f.SetInt(at.UnixMilli())
			return nil
		}
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(x)
	default:
		return fmt.Errorf("unsupported field kind %s", f.Kind())
	}
	return nil
}
