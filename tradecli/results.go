package tradecli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/engine"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/tradecli/report"
)

// rowGroupRows bounds the rows a Parquet writer holds before it writes a
// row group out, so a run's memory does not grow with its orders. The
// writer buffers about 0.9 KiB a row (a parquet.Value per column): 32 Ki
// rows cost 30 MiB of peak RSS over the greyhound archive's 12-combination
// sweep, 8 Ki rows 8 MiB; smaller groups cost only footer metadata.
const rowGroupRows = 8 << 10

// Layout says where a run's files go under its destination: orders.parquet,
// orders.csv, markets.parquet, markets.csv and run.json at the top for a
// whole run, and for shard K of N (Tag "sKofN") orders/sKofN.parquet,
// orders/sKofN.csv, markets/sKofN.parquet, markets/sKofN.csv and
// run/sKofN.json, so that N shards writing to one place never touch each
// other's files and a glob (orders/*.parquet) reads them as one table.
type Layout struct {
	// Tag names the shard; "" for a whole run.
	Tag string
}

// Key returns the key, under prefix, of table's file with extension ext.
func (l Layout) Key(prefix, table, ext string) string {
	if l.Tag == "" {
		return path.Join(prefix, table+"."+ext)
	}
	return path.Join(prefix, table, l.Tag+"."+ext)
}

// writeRun writes run's description under key, whole or not at all.
func writeRun(ctx context.Context, st store.Store, key string, run *report.Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	w, err := st.Create(ctx, key)
	if err != nil {
		return fmt.Errorf("backtest: %s: %w", key, err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		w.Abort()
		return fmt.Errorf("backtest: write %s: %w", key, err)
	}
	return w.Close()
}

// Sweep describes the extra columns a parameter sweep adds to both tables:
// params (the combination, "k=v,k=v") and one column per swept parameter.
type Sweep struct {
	// Keys are the swept parameters in --sweep order; Columns their column
	// names (the key, or param_<key> where the key names a fixed column).
	Keys, Columns []string
	// Numeric says a parameter's values all read as numbers: its column is
	// DOUBLE, else STRING.
	Numeric []bool
	// Combos are the combinations, one per strategy instance (slot): the
	// values of Keys, in order.
	Combos [][]string
}

// Label is combination i as the params column holds it: "k=v,k=v".
func (s *Sweep) Label(i int) string {
	if s == nil {
		return ""
	}
	var b []byte
	for j, k := range s.Keys {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, s.Combos[i][j]...)
	}
	return string(b)
}

// table streams one table's rows into a Parquet and a CSV object; both
// appear only when Close commits them.
type table struct {
	name       string
	typ        reflect.Type // the row: base fields, then params and swept columns
	base       int          // number of base fields
	pq         *parquet.Writer
	pqObj      store.Writer
	csvObj     store.Writer
	buf        *bufio.Writer
	csv        *csv.Writer
	row        reflect.Value
	pqKey      string
	csvKey     string
	sw         *Sweep
	baseHeader []string
}

// newTable starts table name's two objects. base is the base row type
// (OrderRow or MarketRow) and header its CSV header.
func newTable(ctx context.Context, st store.Store, prefix string, l Layout, name string, base reflect.Type, header []string, sw *Sweep) (*table, error) {
	fields := reflect.VisibleFields(base)
	hdr := append([]string(nil), header...)
	if sw != nil {
		fields = append(fields, reflect.StructField{Name: "Params", Type: reflect.TypeFor[string](), Tag: `parquet:"params"`})
		hdr = append(hdr, "params")
		for i, c := range sw.Columns {
			t := reflect.TypeFor[string]()
			if sw.Numeric[i] {
				t = reflect.TypeFor[float64]()
			}
			fields = append(fields, reflect.StructField{Name: "P" + strconv.Itoa(i), Type: t, Tag: reflect.StructTag(`parquet:"` + c + `"`)})
			hdr = append(hdr, c)
		}
	}
	// StructOf wants fresh field descriptors: no offsets or indexes.
	for i := range fields {
		fields[i].Index, fields[i].Offset = nil, 0
	}
	typ := reflect.StructOf(fields)
	t := &table{name: name, typ: typ, base: base.NumField(), sw: sw, baseHeader: header,
		pqKey: l.Key(prefix, name, "parquet"), csvKey: l.Key(prefix, name, "csv")}
	var err error
	if t.pqObj, err = st.Create(ctx, t.pqKey); err != nil {
		return nil, fmt.Errorf("backtest: %s: %w", t.pqKey, err)
	}
	if t.csvObj, err = st.Create(ctx, t.csvKey); err != nil {
		t.pqObj.Abort()
		return nil, fmt.Errorf("backtest: %s: %w", t.csvKey, err)
	}
	t.pq = parquet.NewWriter(t.pqObj, parquet.SchemaOf(reflect.New(typ).Interface()), parquet.MaxRowsPerRowGroup(rowGroupRows))
	t.buf = bufio.NewWriterSize(t.csvObj, 64<<10)
	t.csv = csv.NewWriter(t.buf)
	t.row = reflect.New(typ)
	if err := t.csv.Write(hdr); err != nil {
		t.abort()
		return nil, fmt.Errorf("backtest: %s: %w", t.csvKey, err)
	}
	return t, nil
}

// add writes one row: base (an OrderRow or MarketRow value), its CSV
// record, and the columns of combination slot.
func (t *table) add(base reflect.Value, record []string, slot int) error {
	r := t.row.Elem()
	for i := range t.base {
		r.Field(i).Set(base.Field(i))
	}
	if t.sw != nil {
		label := t.sw.Label(slot)
		r.Field(t.base).SetString(label)
		record = append(record, label)
		for j, v := range t.sw.Combos[slot] {
			f := r.Field(t.base + 1 + j)
			if t.sw.Numeric[j] {
				x, _ := strconv.ParseFloat(v, 64) // checked when the sweep was parsed
				f.SetFloat(x)
			} else {
				f.SetString(v)
			}
			record = append(record, v)
		}
	}
	if err := t.pq.Write(t.row.Interface()); err != nil {
		return fmt.Errorf("backtest: write %s: %w", t.pqKey, err)
	}
	if err := t.csv.Write(record); err != nil {
		return fmt.Errorf("backtest: write %s: %w", t.csvKey, err)
	}
	return nil
}

// close finishes and commits both objects; on a failure neither appears
// (or, if the first committed, the second's failure is reported).
func (t *table) close() error {
	if err := t.pq.Close(); err != nil {
		t.abort()
		return fmt.Errorf("backtest: write %s: %w", t.pqKey, err)
	}
	t.csv.Flush()
	if err := t.csv.Error(); err != nil {
		t.abort()
		return fmt.Errorf("backtest: write %s: %w", t.csvKey, err)
	}
	if err := t.buf.Flush(); err != nil {
		t.abort()
		return fmt.Errorf("backtest: write %s: %w", t.csvKey, err)
	}
	if err := t.pqObj.Close(); err != nil {
		t.csvObj.Abort()
		return err
	}
	return t.csvObj.Close()
}

func (t *table) abort() {
	t.pqObj.Abort()
	t.csvObj.Abort()
}

// ResultWriter streams a backtest's orders and markets, market by market,
// into Parquet and CSV objects of a store (a directory or S3). Nothing is
// held but a row group per table, so memory does not grow with the run;
// every file appears only when Close has committed it whole, and replaces
// the file a previous run left under the same key.
type ResultWriter struct {
	orders, markets *table
}

// NewResultWriter starts the four files of layout l under prefix in st; sw,
// when not nil, adds the sweep's columns.
func NewResultWriter(ctx context.Context, st store.Store, prefix string, l Layout, sw *Sweep) (*ResultWriter, error) {
	o, err := newTable(ctx, st, prefix, l, "orders", reflect.TypeFor[OrderRow](), orderHeader, sw)
	if err != nil {
		return nil, err
	}
	m, err := newTable(ctx, st, prefix, l, "markets", reflect.TypeFor[MarketRow](), marketHeader, sw)
	if err != nil {
		o.abort()
		return nil, err
	}
	return &ResultWriter{orders: o, markets: m}, nil
}

// Market writes one strategy instance's market result and its orders; the
// instance's Slot picks the sweep combination.
func (w *ResultWriter) Market(m engine.MarketResult, orders []*engine.Order) error {
	rows := make([]OrderRow, len(orders))
	for i, o := range orders {
		rows[i] = orderRow(o)
	}
	return w.addRows(m.Slot, rows, []MarketRow{marketRow(m)})
}

// addRows writes rows of combination slot: orders, then markets (a live
// run's final tables write all of a run's rows at once).
func (w *ResultWriter) addRows(slot int, orders []OrderRow, markets []MarketRow) error {
	for i := range orders {
		if err := w.orders.add(reflect.ValueOf(orders[i]), orderRecord(&orders[i]), slot); err != nil {
			return err
		}
	}
	for i := range markets {
		if err := w.markets.add(reflect.ValueOf(markets[i]), marketRecord(&markets[i]), slot); err != nil {
			return err
		}
	}
	return nil
}

// Close commits the files.
func (w *ResultWriter) Close() error {
	if err := w.orders.close(); err != nil {
		w.markets.abort()
		return err
	}
	return w.markets.close()
}

// Abort discards the files: none of them appears.
func (w *ResultWriter) Abort() {
	w.orders.abort()
	w.markets.abort()
}
