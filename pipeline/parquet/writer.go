// Package parquet writes convert parquet's dataset: the rows package
// pipeline/tables derives, as ZSTD-compressed Parquet files in Hive
// partitions, through package store so that a file appears only when whole.
//
// Layout under the destination prefix:
//
//	<table>/event_type_id=<id>/date=<YYYY-MM-DD>/part-<batch>.parquet
//	files/part-<batch>.parquet
//
// A Writer gathers whole markets (never split) until about MaxRows rows are
// pending, then writes one batch: in every table and partition one file
// whose row groups close on market boundaries at about MaxRows rows, rows
// sorted by (market_id, seq) (snapshots by market_id, selection_id,
// handicap, ref, seconds_before DESC). The batch's files-table part, which
// lists the inputs the batch holds, is written last: an input counts as
// done only once every file holding its rows is committed.
package parquet

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
)

// Table names, in the order --tables lists them.
const (
	TableMarkets           = "markets"
	TableRunners           = "runners"
	TableMarketDefinitions = "market_definitions"
	TableRunnerDefinitions = "runner_definitions"
	TableLadderDeltas      = "ladder_deltas"
	TableTrades            = "trades"
	TableSnapshots         = "snapshots"
	TableRunnerUpdates     = "runner_updates"
	TableMarketSnapshots   = "market_snapshots"
	TableOrders            = "orders"
	TableFiles             = "files"
)

// TableNames returns every table's name.
func TableNames() []string {
	return []string{TableMarkets, TableRunners, TableMarketDefinitions, TableRunnerDefinitions,
		TableLadderDeltas, TableTrades, TableSnapshots, TableRunnerUpdates, TableMarketSnapshots, TableOrders, TableFiles}
}

// optInTables are the tables written only when asked for by name or by
// "all": runner_updates costs about a third more CPU than every other
// table together.
var optInTables = []string{TableRunnerUpdates}

// ParseTables parses a comma-separated table list: "" is every table but
// the opt-in runner_updates, "all" every table. The files table is always
// written, since resuming depends on it.
func ParseTables(list string) (map[string]bool, error) {
	set := map[string]bool{}
	if strings.TrimSpace(list) == "" || list == "all" {
		for _, t := range TableNames() {
			if list == "all" || !slices.Contains(optInTables, t) {
				set[t] = true
			}
		}
		return set, nil
	}
	known := TableNames()
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(known, t) {
			return nil, fmt.Errorf("unknown table %q (tables: %s)", t, strings.Join(known, ", "))
		}
		set[t] = true
	}
	set[TableFiles] = true
	return set, nil
}

// Footer key/value metadata keys.
const (
	MetaVersion  = "tapedeck.version"
	MetaDataTier = "tapedeck.data_tier"
	MetaGrid     = "tapedeck.grid"
	MetaPostOff  = "tapedeck.post_off_grid"
	MetaBatch    = "tapedeck.batch"
)

// DefaultMaxRows is the row count at which a row group closes (on the next
// market boundary) and a Writer writes its pending batch.
const DefaultMaxRows = 1 << 20

// Options configures a Writer.
type Options struct {
	// Store and Prefix are where the dataset goes: keys are
	// path.Join(Prefix, <table>/...).
	Store  store.Store
	Prefix string
	// Tables is the set of tables to write (ParseTables); nil means
	// ParseTables("").
	Tables map[string]bool
	// Version, Grid and PostOff (the snapshot grids' specs) are written to
	// every file's footer.
	Version, Grid, PostOff string
	// Batch is the unique prefix of this Writer's batch names, such as
	// "all-<run>-w0"; batches are numbered after it.
	Batch string
	// MaxRows bounds pending rows and rows per row group; 0 means
	// DefaultMaxRows.
	MaxRows int
	// MaxBytes bounds the memory pending rows hold (tables.Rows.Bytes);
	// 0 means DefaultMaxBytes.
	MaxBytes int64
	// Depth is the number of price levels a side of snapshots carries
	// (tables.Options.Depth, which must be at least this); 0 means
	// tables.DefaultDepth.
	Depth int
}

// DefaultMaxBytes is the pending-row memory at which a Writer writes its
// batch unless told otherwise.
const DefaultMaxBytes = 128 << 20

// Writer writes batches of markets. It is not safe for concurrent use: give
// each worker its own, with its own Batch prefix.
type Writer struct {
	opts    Options
	pending []*tables.Rows
	files   []tables.File
	nrows   int
	nbytes  int64
	batches int
	zstd    *zstdCodec
	// Written counts the files committed so far (data files and files-table
	// parts): only those that exist, a table with no rows for a partition
	// writing none.
	Written int
}

// NewWriter returns a Writer.
func NewWriter(opts Options) *Writer {
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Tables == nil {
		opts.Tables, _ = ParseTables("")
	}
	if opts.Depth <= 0 {
		opts.Depth = tables.DefaultDepth
	}
	return &Writer{opts: opts, zstd: &zstdCodec{}}
}

// Add queues the markets of one finished input and its files-table row,
// and writes the pending batch once it holds MaxRows rows or MaxBytes bytes
// or more. The row's Batch field is filled in.
func (w *Writer) Add(ctx context.Context, markets []*tables.Rows, file tables.File) error {
	for _, m := range markets {
		w.pending = append(w.pending, m)
		w.nrows += m.Len()
		w.nbytes += m.Bytes()
	}
	w.files = append(w.files, file)
	if w.nrows >= w.opts.MaxRows || w.nbytes >= w.opts.MaxBytes {
		return w.Flush(ctx)
	}
	return nil
}

// Flush writes the pending batch, if any: every table's files, then the
// files-table part naming the batch's inputs.
func (w *Writer) Flush(ctx context.Context) error {
	if len(w.files) == 0 && len(w.pending) == 0 {
		return nil
	}
	batch := fmt.Sprintf("%s-%d", w.opts.Batch, w.batches)
	w.batches++
	pending, files := w.pending, w.files
	w.pending, w.files, w.nrows, w.nbytes = nil, nil, 0, 0

	slices.SortStableFunc(pending, func(a, b *tables.Rows) int {
		return cmp.Or(cmp.Compare(a.EventTypeID, b.EventTypeID), cmp.Compare(a.Date, b.Date), cmp.Compare(a.MarketID, b.MarketID))
	})
	for start := 0; start < len(pending); {
		end := start + 1
		for end < len(pending) && pending[end].EventTypeID == pending[start].EventTypeID && pending[end].Date == pending[start].Date {
			end++
		}
		if err := w.writePartition(ctx, batch, pending[start:end]); err != nil {
			return err
		}
		start = end
	}
	for i := range files {
		files[i].Batch = batch
	}
	key := path.Join(w.opts.Prefix, TableFiles, "part-"+batch+".parquet")
	return writeFile(ctx, w.file(key, w.meta(batch, "")), nil, [][][]tables.File{{files}})
}

func (w *Writer) meta(batch, tier string) map[string]string {
	m := map[string]string{MetaVersion: w.opts.Version, MetaGrid: w.opts.Grid, MetaPostOff: w.opts.PostOff, MetaBatch: batch}
	if tier != "" {
		m[MetaDataTier] = tier
	}
	return m
}

// file is one Parquet file to write: where, what its footer says, its
// row groups' size and its compression.
type file struct {
	store       store.Store
	key         string
	meta        map[string]string
	maxRows     int
	compression compress.Codec
	// written counts the file once committed.
	written *int
	// schema, if set, is the file's schema where it is not its row type's.
	schema *pq.Schema
}

// file returns the file at key with footer metadata meta.
func (w *Writer) file(key string, meta map[string]string) file {
	return file{store: w.opts.Store, key: key, meta: meta, maxRows: w.opts.MaxRows, compression: w.zstd, written: &w.Written}
}

var (
	byMarket  = []pq.SortingColumn{pq.Ascending("market_id")}
	bySeq     = []pq.SortingColumn{pq.Ascending("market_id"), pq.Ascending("seq")}
	bySnap    = []pq.SortingColumn{pq.Ascending("market_id"), pq.Ascending("selection_id"), pq.Ascending("handicap"), pq.Ascending("ref"), pq.Descending("seconds_before")}
	byRunner  = []pq.SortingColumn{pq.Ascending("market_id"), pq.Ascending("selection_id"), pq.Ascending("handicap"), pq.Ascending("seq")}
	byMarketS = []pq.SortingColumn{pq.Ascending("market_id"), pq.Ascending("ref"), pq.Descending("seconds_before")}
)

// writePartition writes one partition's markets (sorted by market id) to
// every selected table.
func (w *Writer) writePartition(ctx context.Context, batch string, ms []*tables.Rows) error {
	var tiers []string
	for _, m := range ms {
		if !slices.Contains(tiers, m.DataTier) {
			tiers = append(tiers, m.DataTier)
		}
	}
	slices.Sort(tiers)
	meta := w.meta(batch, strings.Join(tiers, ","))
	dir := fmt.Sprintf("event_type_id=%s/date=%s", partitionValue(ms[0].EventTypeID), ms[0].Date)
	key := func(table string) string {
		return path.Join(w.opts.Prefix, table, dir, "part-"+batch+".parquet")
	}
	sel := w.opts.Tables
	var err error
	do := func(table string, f func(k string) error) {
		if err == nil && sel[table] {
			err = f(key(table))
		}
	}
	do(TableMarkets, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), byMarket, ms, func(r *tables.Rows) [][]tables.Market {
			if r.Market == nil {
				return nil
			}
			return [][]tables.Market{{*r.Market}}
		})
	})
	do(TableRunners, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), byMarket, ms, func(r *tables.Rows) [][]tables.Runner { return [][]tables.Runner{r.Runners} })
	})
	do(TableMarketDefinitions, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), bySeq, ms, func(r *tables.Rows) [][]tables.MarketDefinition {
			return [][]tables.MarketDefinition{r.MarketDefinitions}
		})
	})
	do(TableRunnerDefinitions, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), bySeq, ms, func(r *tables.Rows) [][]tables.RunnerDefinition {
			return [][]tables.RunnerDefinition{r.RunnerDefinitions}
		})
	})
	do(TableLadderDeltas, func(k string) error {
		var lms []*tables.Rows // the markets of groups, in order
		for _, m := range ms {
			if m.LadderDeltas.Len() > 0 {
				lms = append(lms, m)
			}
		}
		if len(lms) == 0 {
			return nil
		}
		codec, err := ladderCodec(pq.SchemaOf(ladderDeltaRow{}))
		if err != nil {
			return err
		}
		return writeFileWith(ctx, w.file(k, meta), bySeq, ladderSource(lms), codec)
	})
	do(TableTrades, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), bySeq, ms, func(r *tables.Rows) [][]tables.Trade { return r.Trades.Chunks() })
	})
	do(TableSnapshots, func(k string) error {
		var sms []*tables.Rows // the markets of groups, in order
		for _, m := range ms {
			if m.Snapshots.Len() > 0 {
				sms = append(sms, m)
			}
		}
		if len(sms) == 0 {
			return nil
		}
		codec, err := snapshotCodec()
		if err != nil {
			return err
		}
		f := w.file(k, meta)
		if w.opts.Depth != tables.DefaultDepth {
			if codec, f.schema, err = deepSnapshotCodec(codec, w.opts.Depth); err != nil {
				return err
			}
		}
		return writeFileWith(ctx, f, bySnap, heldSource(sms, func(r *tables.Rows) heldRows[tables.Snapshot] { return &r.Snapshots }), codec)
	})
	do(TableRunnerUpdates, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), byRunner, ms, func(r *tables.Rows) [][]tables.RunnerUpdate { return r.RunnerUpdates.Chunks() })
	})
	do(TableMarketSnapshots, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), byMarketS, ms, func(r *tables.Rows) [][]tables.MarketSnapshot { return [][]tables.MarketSnapshot{r.MarketSnapshots} })
	})
	do(TableOrders, func(k string) error {
		return writeGroups(ctx, w.file(k, meta), bySeq, ms, func(r *tables.Rows) [][]tables.Order { return [][]tables.Order{r.Orders} })
	})
	return err
}

func writeGroups[T any](ctx context.Context, f file, sorting []pq.SortingColumn, ms []*tables.Rows,
	rows func(*tables.Rows) [][]T) error {
	groups := gather(ms, rows)
	if len(groups) == 0 {
		return nil
	}
	return writeFile(ctx, f, sorting, groups)
}

// gather returns the non-empty row groups (each a list of chunks) that rows
// takes from each market.
func gather[T any](ms []*tables.Rows, rows func(*tables.Rows) [][]T) [][][]T {
	groups := make([][][]T, 0, len(ms))
	for _, m := range ms {
		g := rows(m)
		n := 0
		for _, c := range g {
			n += len(c)
		}
		if n > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

// writeFile writes one Parquet file of row groups, closing a row group
// between groups (markets, each a list of chunks) once it holds maxRows
// rows.
func writeFile[T any](ctx context.Context, f file, sorting []pq.SortingColumn, groups [][][]T) error {
	return writeFileWith(ctx, f, sorting, chunked(groups), nil)
}

// rowSource is what writeFileWith writes: groups of rows (markets), read
// a chunk at a time.
type rowSource[W any] struct {
	groups int
	// rows is the number of rows of group g.
	rows func(g int) int
	// chunks calls fn with the rows of group g, a chunk at a time, and
	// returns its first error.
	chunks func(g int, fn func([]W) error) error
}

// chunked is the rowSource of rows held as they are written.
func chunked[T any](groups [][][]T) rowSource[T] {
	return rowSource[T]{
		groups: len(groups),
		rows: func(g int) int {
			n := 0
			for _, c := range groups[g] {
				n += len(c)
			}
			return n
		},
		chunks: func(g int, fn func([]T) error) error {
			for _, c := range groups[g] {
				if err := fn(c); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// writerOptions are the options every dataset file is written with: f's
// compression, schema and footer, and rows in sorting's order.
func writerOptions(f file, sorting []pq.SortingColumn) []pq.WriterOption {
	// No statistics in data page headers: readers take page bounds from
	// the column index (still written), and the headers' copy costs a
	// second walk over every page's values.
	opts := []pq.WriterOption{pq.Compression(f.compression), pq.CreatedBy("tapedeck", f.meta[MetaVersion], ""),
		pq.DataPageStatistics(false)}
	if f.schema != nil {
		opts = append(opts, f.schema)
	}
	if len(sorting) > 0 {
		opts = append(opts, pq.SortingWriterConfig(pq.SortingColumns(sorting...)))
	}
	// Min/max of a few-valued enum column prune nothing and cost a
	// dictionary walk per page.
	for _, c := range []string{"ladder", "market_status"} {
		opts = append(opts, pq.SkipPageBounds(c))
	}
	keys := make([]string, 0, len(f.meta))
	for k := range f.meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		opts = append(opts, pq.KeyValueMetadata(k, f.meta[k]))
	}
	return opts
}

// heldRows are rows a market holds in a form of its own (encoded, or
// shared between rows), built a chunk at a time to be written.
type heldRows[T any] interface {
	Len() int
	MaxChunk() int
	Chunks(buf []T, fn func([]T) error) ([]T, error)
}

// heldSource is the rowSource of the rows that held takes from each of
// markets ms, built into one buffer sized once for the largest chunk
// (growing it by appends would allocate several times its size).
func heldSource[T any](ms []*tables.Rows, held func(*tables.Rows) heldRows[T]) rowSource[T] {
	most := 0
	for _, m := range ms {
		most = max(most, held(m).MaxChunk())
	}
	buf := make([]T, 0, most)
	return rowSource[T]{
		groups: len(ms),
		rows:   func(g int) int { return held(ms[g]).Len() },
		chunks: func(g int, fn func([]T) error) error {
			var err error
			buf, err = held(ms[g]).Chunks(buf, fn)
			return err
		},
	}
}

// writeFileWith writes one Parquet file of src's rows, closing a row group
// between groups once it holds maxRows rows. codec, unless nil, describes
// W's zero-is-null optional columns (see zeroNull).
func writeFileWith[W any](ctx context.Context, f file, sorting []pq.SortingColumn, src rowSource[W], codec *rowCodec[W]) error {
	key, maxRows := f.key, f.maxRows
	out, err := f.store.Create(ctx, key)
	if err != nil {
		return err
	}
	opts := writerOptions(f, sorting)
	fail := func(err error) error {
		out.Abort()
		return fmt.Errorf("parquet: %s: %w", key, err)
	}
	var pw *pq.GenericWriter[W]
	var write func([]W) error
	if codec != nil {
		z, err := newZeroNull(out, opts, codec)
		if err != nil {
			return fail(err)
		}
		pw, write = z.pw, z.Write
	} else {
		pw = pq.NewGenericWriter[W](out, opts...)
		write = func(rows []W) error {
			_, err := pw.Write(rows)
			return err
		}
	}
	inGroup := 0
	for g := range src.groups {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		n := src.rows(g)
		if inGroup > 0 && inGroup+n > maxRows {
			if err := pw.Flush(); err != nil {
				return fail(err)
			}
			inGroup = 0
		}
		if err := src.chunks(g, write); err != nil {
			return fail(err)
		}
		inGroup += n
	}
	if err := pw.Close(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("parquet: %s: %w", key, err)
	}
	if f.written != nil {
		*f.written++
	}
	return nil
}
