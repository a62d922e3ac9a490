package parquet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/store"
)

// tableSorting is each partitioned table's row order, as writePartition
// writes it.
var tableSorting = map[string][]pq.SortingColumn{
	TableMarkets: byMarket, TableRunners: byMarket, TableMarketDefinitions: bySeq, TableRunnerDefinitions: bySeq,
	TableLadderDeltas: bySeq, TableTrades: bySeq, TableSnapshots: bySnap, TableRunnerUpdates: byRunner,
	TableMarketSnapshots: byMarketS, TableOrders: bySeq,
}

// marketRun is one market's rows in one row group of a source file.
type marketRun struct {
	market      string
	file, rg    int
	start, n    int64
	bytesPerRow float64
}

// openReaders bounds the source row groups mergeFiles reads at once: each
// holds a page of every column.
const openReaders = 16

// mergeFiles writes the rows of the Parquet files srcs (one table, one
// partition, each sorted and holding whole markets) to one file dst,
// markets in id order, each market's rows in its source's order; row
// groups close on market boundaries at about opts.RowGroup bytes, their
// pages held in files under tmp rather than in memory. Files whose
// schemas or grids differ give errIncompatible.
func mergeFiles(ctx context.Context, st store.Store, srcs []string, dst, table, batch, tmp string, opts CompactOptions) error {
	meta := map[string]string{MetaVersion: opts.Version, MetaBatch: batch}
	var tiers []string
	var files []*pq.File
	var locals []*os.File
	defer func() {
		for _, f := range locals {
			f.Close()
		}
	}()
	for i, key := range srcs {
		pf, local, err := openLocal(ctx, st, key, filepath.Join(tmp, fmt.Sprintf("src-%d.parquet", i)))
		if err != nil {
			return err
		}
		files, locals = append(files, pf), append(locals, local)
		if i > 0 && !pq.EqualNodes(pf.Schema(), files[0].Schema()) {
			return fmt.Errorf("%s and %s: %w", srcs[0], key, errIncompatible)
		}
		for _, k := range []string{MetaGrid, MetaPostOff} {
			v, _ := pf.Lookup(k)
			if i == 0 {
				meta[k] = v
			} else if meta[k] != v {
				return fmt.Errorf("%s and %s: %s: %w", srcs[0], key, k, errIncompatible)
			}
		}
		if v, ok := pf.Lookup(MetaDataTier); ok {
			for t := range strings.SplitSeq(v, ",") {
				if !slices.Contains(tiers, t) {
					tiers = append(tiers, t)
				}
			}
		}
	}
	if len(tiers) > 0 {
		slices.Sort(tiers)
		meta[MetaDataTier] = strings.Join(tiers, ",")
	}
	runs, err := marketRuns(files)
	if err != nil {
		return fmt.Errorf("parquet: %s: %w", dst, err)
	}
	slices.SortStableFunc(runs, func(a, b marketRun) int { return cmp.Compare(a.market, b.market) })

	out, err := st.Create(ctx, dst)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		out.Abort()
		return fmt.Errorf("parquet: %s: %w", dst, err)
	}
	f := file{store: st, key: dst, meta: meta, compression: &zstdCodec{}}
	wopts := append(writerOptions(f, tableSorting[table]), files[0].Schema(),
		pq.ColumnPageBuffers(pq.NewFileBufferPool(tmp, "pages-*")))
	w := pq.NewWriter(out, wopts...)
	rd := readers{files: files}
	defer rd.close()
	buf := make([]pq.Row, 256)
	var inGroup float64
	for _, r := range runs {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		rows, err := rd.at(r)
		if err != nil {
			return fail(err)
		}
		for left := r.n; left > 0; {
			k, err := rows.ReadRows(buf[:min(left, int64(len(buf)))])
			if k > 0 {
				if _, werr := w.WriteRows(buf[:k]); werr != nil {
					return fail(werr)
				}
			}
			left -= int64(k)
			rd.advance(r, int64(k))
			if err != nil && !(errors.Is(err, io.EOF) && left == 0) {
				if errors.Is(err, io.EOF) {
					err = fmt.Errorf("market %s: %d rows short", r.market, left)
				}
				return fail(err)
			}
		}
		if inGroup += float64(r.n) * r.bytesPerRow; inGroup >= float64(opts.RowGroup) {
			if err := w.Flush(); err != nil {
				return fail(err)
			}
			inGroup = 0
		}
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	return out.Close()
}

// openLocal copies key to the local file local and opens it.
func openLocal(ctx context.Context, st store.Store, key, local string) (*pq.File, *os.File, error) {
	r, err := st.Open(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	f, err := os.Create(local)
	if err != nil {
		return nil, nil, err
	}
	size, err := io.Copy(f, r)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	var pf *pq.File
	if err == nil {
		pf, err = pq.OpenFile(f, size, pq.SkipPageIndex(true), pq.SkipBloomFilters(true))
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("parquet: %s: %w", key, err)
	}
	return pf, f, nil
}

// marketRuns lists the markets of every row group of files, from their
// market_id columns.
func marketRuns(files []*pq.File) ([]marketRun, error) {
	var runs []marketRun
	for fi, pf := range files {
		leaf, ok := pf.Schema().Lookup("market_id")
		if !ok {
			return nil, errors.New("no market_id column")
		}
		for ri, rg := range pf.RowGroups() {
			per := 0.0
			if md := pf.Metadata().RowGroups[ri]; md.NumRows > 0 {
				per = float64(md.TotalCompressedSize) / float64(md.NumRows)
				if md.TotalCompressedSize == 0 {
					per = float64(md.TotalByteSize) / float64(md.NumRows)
				}
			}
			pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
			var row int64
			var vals []pq.Value
			for {
				page, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					pages.Close()
					return nil, err
				}
				vals = slices.Grow(vals[:0], int(page.NumValues()))[:page.NumValues()]
				n, err := page.Values().ReadValues(vals)
				if err != nil && !errors.Is(err, io.EOF) {
					pq.Release(page)
					pages.Close()
					return nil, err
				}
				for _, v := range vals[:n] {
					if l := len(runs) - 1; l >= 0 && runs[l].file == fi && runs[l].rg == ri && runs[l].market == string(v.ByteArray()) {
						runs[l].n++
					} else {
						runs = append(runs, marketRun{market: string(v.ByteArray()), file: fi, rg: ri, start: row, n: 1, bytesPerRow: per})
					}
					row++
				}
				pq.Release(page)
			}
			pages.Close()
		}
	}
	return runs, nil
}

// readers keeps up to openReaders source row groups open, each at the row
// it will read next.
type readers struct {
	files []*pq.File
	open  []*openRows
}

type openRows struct {
	file, rg int
	rows     pq.Rows
	pos      int64
}

// at returns the rows of r's row group, positioned at r's first row.
func (rd *readers) at(r marketRun) (pq.Rows, error) {
	i := slices.IndexFunc(rd.open, func(o *openRows) bool { return o.file == r.file && o.rg == r.rg })
	if i < 0 {
		if len(rd.open) == openReaders {
			rd.open[0].rows.Close()
			rd.open = rd.open[1:]
		}
		rd.open = append(rd.open, &openRows{file: r.file, rg: r.rg, rows: rd.files[r.file].RowGroups()[r.rg].Rows()})
		i = len(rd.open) - 1
	}
	o := rd.open[i]
	// Most recently used last.
	rd.open = append(slices.Delete(rd.open, i, i+1), o)
	if o.pos != r.start {
		if err := o.rows.SeekToRow(r.start); err != nil {
			return nil, err
		}
		o.pos = r.start
	}
	return o.rows, nil
}

func (rd *readers) advance(r marketRun, n int64) {
	if l := len(rd.open) - 1; l >= 0 && rd.open[l].file == r.file && rd.open[l].rg == r.rg {
		rd.open[l].pos += n
	}
}

func (rd *readers) close() {
	for _, o := range rd.open {
		o.rows.Close()
	}
}
