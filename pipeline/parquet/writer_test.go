package parquet_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tapedeck/tapedeck/engine/book"
	"github.com/tapedeck/tapedeck/engine/esa"
	"github.com/tapedeck/tapedeck/internal/testenv"
	"github.com/tapedeck/tapedeck/pipeline/parquet"
	"github.com/tapedeck/tapedeck/pipeline/tables"
	"github.com/tapedeck/tapedeck/store"
	"github.com/tapedeck/tapedeck/tape"
)

// tapeRows replays every tape of inputs into rows, one slice per tape.
func tapeRows(t *testing.T, inputs ...string) (rows [][]*tables.Rows, files []tables.File) {
	t.Helper()
	var mu sync.Mutex
	err := tape.Walk(context.Background(), inputs, func(ctx context.Context, tp *tape.Tape) error {
		lr, err := tp.Lines()
		if err != nil {
			return err
		}
		defer lr.Close()
		dec, cache := esa.NewDecoder(), book.NewMarketCache(book.Options{})
		b := tables.NewBuilder(tables.Options{Source: tp.Path, Member: tp.Member})
		var msg esa.Message
		for lr.Next() {
			if err := dec.Decode(lr.Bytes(), &msg); err != nil {
				return err
			}
			var ch []*book.Market
			if msg.Op == esa.OpMCM {
				ch = cache.Apply(&msg)
			}
			b.Line(lr.Line(), &msg, ch)
		}
		if err := lr.Err(); err != nil {
			return err
		}
		mu.Lock()
		rows = append(rows, b.Finish())
		files = append(files, tables.File{Source: tp.Path, Member: tp.Member, Lines: int64(lr.Line())})
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, files
}

func openParquet(t *testing.T, path string) *pq.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

func TestWriterLayoutAndFormat(t *testing.T) {
	tarPath := testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar")
	rows, files := tapeRows(t, tarPath, testenv.Testdata(t, "tapes/ORDER-1.177596575"))
	dir := t.TempDir()
	st, err := store.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A small MaxRows makes several batches and row groups, to check that
	// both close on market boundaries.
	all, err := parquet.ParseTables("all")
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(parquet.Options{Store: st, Prefix: "ds", Version: "test-version",
		Grid: tables.DefaultGridSpec, Batch: "b", MaxRows: 40000, Tables: all})
	for i := range rows {
		if err := w.Add(ctx, rows[i], files[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var keys []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return nil
	})
	// The count a run reports is of files that exist: the greyhound
	// partitions have no orders, the order tape's no snapshots.
	if w.Written != len(keys) {
		t.Errorf("Written = %d, %d files exist", w.Written, len(keys))
	}
	tablesSeen := map[string]bool{}
	for _, k := range keys {
		parts := strings.Split(k, "/")
		if parts[0] != "ds" || !strings.HasPrefix(parts[len(parts)-1], "part-b-") || !strings.HasSuffix(k, ".parquet") {
			t.Errorf("unexpected key %s", k)
			continue
		}
		tablesSeen[parts[1]] = true
		switch {
		case parts[1] == parquet.TableFiles:
			if len(parts) != 3 {
				t.Errorf("files table key %s is partitioned", k)
			}
		case parts[1] == parquet.TableOrders:
			if len(parts) != 5 || parts[2] != "event_type_id=0" || parts[3] != "date=2021-01-06" {
				t.Errorf("orders key %s: want event_type_id=0/date of the first pt", k)
			}
		default:
			if len(parts) != 5 || parts[2] != "event_type_id=4339" || parts[3] != "date=2022-03-01" {
				t.Errorf("key %s: want event_type_id=4339/date=2022-03-01", k)
			}
		}
	}
	for _, tb := range parquet.TableNames() {
		if !tablesSeen[tb] {
			t.Errorf("no file for table %s", tb)
		}
	}

	// Every market of every table is in exactly one file, and files and
	// row groups are sorted by (market_id, seq).
	for _, tb := range []string{parquet.TableLadderDeltas, parquet.TableTrades, parquet.TableMarketDefinitions} {
		marketFile := map[string]string{}
		groups := 0
		for _, k := range keys {
			if !strings.HasPrefix(k, "ds/"+tb+"/") {
				continue
			}
			f := openParquet(t, filepath.Join(dir, k))
			type row struct {
				MarketID string `parquet:"market_id"`
				Seq      int64  `parquet:"seq"`
			}
			var prev row
			n := 0
			for gi, rg := range f.RowGroups() {
				groups++
				r := pq.NewGenericRowGroupReader[row](rg)
				buf := make([]row, rg.NumRows())
				got, _ := r.Read(buf)
				buf = buf[:got]
				if gi > 0 && len(buf) > 0 && buf[0].MarketID == prev.MarketID {
					t.Errorf("%s %s: row group %d splits market %s", tb, k, gi, prev.MarketID)
				}
				for _, x := range buf {
					if n > 0 && (x.MarketID < prev.MarketID || x.MarketID == prev.MarketID && x.Seq < prev.Seq) {
						t.Fatalf("%s %s: row %d (%s, %d) after (%s, %d)", tb, k, n, x.MarketID, x.Seq, prev.MarketID, prev.Seq)
					}
					if other, ok := marketFile[x.MarketID]; ok && other != k {
						t.Fatalf("%s: market %s in %s and %s", tb, x.MarketID, other, k)
					}
					marketFile[x.MarketID] = k
					prev = x
					n++
				}
			}
		}
		if tb == parquet.TableLadderDeltas && groups < 3 {
			t.Errorf("%s: %d row groups; MaxRows should have made several", tb, groups)
		}
	}

	// Footer, codec, dictionary and types, on one file of each table.
	checked := map[string]bool{}
	for _, k := range keys {
		tb := strings.Split(k, "/")[1]
		if checked[tb] {
			continue
		}
		checked[tb] = true
		f := openParquet(t, filepath.Join(dir, k))
		if v, _ := f.Lookup(parquet.MetaVersion); v != "test-version" {
			t.Errorf("%s: version %q", k, v)
		}
		if v, _ := f.Lookup(parquet.MetaGrid); v != tables.DefaultGridSpec {
			t.Errorf("%s: grid %q", k, v)
		}
		if v, _ := f.Lookup(parquet.MetaDataTier); tb != parquet.TableFiles && tb != parquet.TableOrders && v != tables.TierPro {
			t.Errorf("%s: data tier %q, want PRO", k, v)
		}
		md := f.Metadata()
		for _, rg := range md.RowGroups {
			for _, c := range rg.Columns {
				if c.MetaData.Codec != format.Zstd {
					t.Errorf("%s %v: codec %v", k, c.MetaData.PathInSchema, c.MetaData.Codec)
				}
			}
		}
		for _, el := range md.Schema {
			switch el.Name {
			case "market_id", "ladder", "status", "ref", "source":
				for _, rg := range md.RowGroups {
					for _, c := range rg.Columns {
						if c.MetaData.PathInSchema[0] == el.Name && !slices.Contains(c.MetaData.Encoding, format.RLEDictionary) {
							t.Errorf("%s: %s not dictionary-encoded: %v", k, el.Name, c.MetaData.Encoding)
						}
					}
				}
			case "selection_id", "seq", "bytes":
				if typ, ok := el.Type.Get(); !ok || typ != format.Int64 {
					t.Errorf("%s: %s type %v, want INT64", k, el.Name, el.Type)
				}
			case "handicap", "price", "size", "size_delta", "ltp":
				if typ, ok := el.Type.Get(); !ok || typ != format.Double {
					t.Errorf("%s: %s type %v, want DOUBLE", k, el.Name, el.Type)
				}
			case "pt", "market_time", "off_time", "snapshot_time", "done_at":
				lt := el.LogicalType.String()
				if lt != "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)" {
					t.Errorf("%s: %s logical type %s, want TIMESTAMP(MILLIS, UTC)", k, el.Name, lt)
				}
			}
		}
	}
	if !checked[parquet.TableSnapshots] {
		t.Fatal("no snapshots file")
	}

	// The files table lists every input once, with its batch.
	done, err := parquet.ReadFiles(ctx, st, "ds")
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(files) {
		t.Errorf("files table has %d rows, want %d", len(done), len(files))
	}
	for _, d := range done {
		if !strings.HasPrefix(d.Batch, "b-") {
			t.Errorf("files row %s %s: batch %q", d.Source, d.Member, d.Batch)
		}
	}
}

func TestParseTables(t *testing.T) {
	cases := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 10, false},
		{"all", 11, false},
		{"runner_updates", 2, false},
		{"markets,runners", 3, false},
		{"snapshots", 2, false},
		{"markets,nope", 0, true},
	}
	for _, c := range cases {
		got, err := parquet.ParseTables(c.in)
		if (err != nil) != c.wantErr || len(got) != c.want {
			t.Errorf("ParseTables(%q) = %v, %v; want %d tables, error %v", c.in, got, err, c.want, c.wantErr)
		}
	}
}

// ladderDeltaRead is a ladder_deltas row as a reader sees it: level and
// tick null or not.
type ladderDeltaRead struct {
	MarketID     string  `parquet:"market_id"`
	Pt           int64   `parquet:"pt"`
	Seq          int64   `parquet:"seq"`
	SelectionID  int64   `parquet:"selection_id"`
	Handicap     float64 `parquet:"handicap"`
	Ladder       string  `parquet:"ladder"`
	Level        *int32  `parquet:"level,optional"`
	Price        float64 `parquet:"price"`
	Tick         *int32  `parquet:"tick,optional"`
	Size         float64 `parquet:"size"`
	InPlay       bool    `parquet:"in_play"`
	MarketStatus string  `parquet:"market_status"`
}

func readable(d tables.LadderDelta, m *tables.Rows) ladderDeltaRead {
	r := ladderDeltaRead{m.MarketID, d.Pt, d.Seq, d.SelectionID, d.Handicap, d.Ladder.String(), nil, d.Price, nil, d.Size,
		d.InPlay, m.MarketStatuses[d.Status]}
	if d.HasLevel {
		r.Level = &d.Level
	}
	if d.HasTick {
		r.Tick = &d.Tick
	}
	return r
}

// TestLadderDeltasRoundTrip reads back the ladder_deltas written column by
// column and checks every row against the rows the builder gives.
func TestLadderDeltasRoundTrip(t *testing.T) {
	rows, files := tapeRows(t, testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar"),
		testenv.Testdata(t, "tapes/1.197931750"))
	st, err := store.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := parquet.NewWriter(parquet.Options{Store: st, Prefix: "ds", Batch: "b", MaxRows: 40000,
		Tables: map[string]bool{parquet.TableLadderDeltas: true, parquet.TableFiles: true}})
	want := map[string][]ladderDeltaRead{}
	for i := range rows {
		for _, r := range rows[i] {
			for _, d := range r.LadderDeltas.All() {
				want[r.MarketID] = append(want[r.MarketID], readable(d, r))
			}
		}
		if err := w.Add(ctx, rows[i], files[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	objs, err := st.List(ctx, "ds/"+parquet.TableLadderDeltas+"/")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]ladderDeltaRead{}
	for _, o := range objs {
		rs, err := parquet.ReadAll[ladderDeltaRead](ctx, st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			got[r.MarketID] = append(got[r.MarketID], r)
		}
	}
	n, levels, zeros := 0, 0, 0
	for id, ws := range want {
		gs := got[id]
		if len(gs) != len(ws) {
			t.Fatalf("market %s: %d rows read back, want %d", id, len(gs), len(ws))
		}
		for i := range ws {
			if !reflect.DeepEqual(gs[i], ws[i]) {
				t.Fatalf("market %s row %d: read back %+v, want %+v", id, i, gs[i], ws[i])
			}
		}
		n += len(ws)
		for _, r := range ws {
			if r.Level != nil {
				levels++
			}
			if (r.Level != nil && *r.Level == 0) || (r.Tick != nil && *r.Tick == 0) {
				zeros++
			}
		}
	}
	if levels == 0 || zeros == 0 {
		t.Errorf("%d level-keyed rows, %d with a zero level or tick: the test should cover both", levels, zeros)
	}
	if n == 0 || len(got) != len(want) {
		t.Fatalf("%d rows in %d markets read back, want %d markets", n, len(got), len(want))
	}
}

// TestSnapshotsRoundTrip checks that snapshots read back equal the
// builder's rows, also when a present zero sends a row the explicit way.
func TestSnapshotsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		// zero, if set, gives the first snapshot of the first market a
		// present zero that the fast encoding could not keep.
		zero func(s *tables.Snapshot)
	}{
		{name: "as built"},
		{name: "zero adjustment factor", zero: func(s *tables.Snapshot) {
			s.AdjustmentFactor, s.Has = 0, s.Has|tables.HasAdjustmentFactor
		}},
		{name: "zero last update", zero: func(s *tables.Snapshot) { s.LastUpdatePt, s.Has = 0, s.Has|tables.HasLastUpdatePt }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, files := tapeRows(t, testenv.Shared(t, "data/historic/pro-greyhounds-2022-03-01.tar"))
			st, err := store.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			w := parquet.NewWriter(parquet.Options{Store: st, Prefix: "ds", Batch: "b",
				Tables: map[string]bool{parquet.TableSnapshots: true, parquet.TableFiles: true}})
			want := map[string][]snapshotRead{}
			zeroed := false
			for i := range rows {
				for _, r := range rows[i] {
					if tc.zero != nil && !zeroed && r.Snapshots.Len() > 0 {
						all := r.Snapshots.All()
						tc.zero(&all[0])
						r.Snapshots = tables.Snapshots{}
						for _, sn := range all {
							r.Snapshots.Append(sn)
						}
						zeroed = true
					}
					for _, sn := range r.Snapshots.All() {
						want[r.MarketID] = append(want[r.MarketID], readableSnapshot(sn))
					}
				}
				if err := w.Add(ctx, rows[i], files[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			objs, err := st.List(ctx, "ds/"+parquet.TableSnapshots+"/")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]snapshotRead{}
			for _, o := range objs {
				rs, err := parquet.ReadAll[snapshotRead](ctx, st, o.Key)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					got[r.MarketID] = append(got[r.MarketID], r)
				}
			}
			n, ticks := 0, 0
			for id, ws := range want {
				gs := got[id]
				if len(gs) != len(ws) {
					t.Fatalf("market %s: %d rows read back, want %d", id, len(gs), len(ws))
				}
				for i := range ws {
					// Compared as text, pointers followed, since spn and
					// spf may be NaN.
					if g, w := derefString(gs[i]), derefString(ws[i]); g != w {
						t.Fatalf("market %s row %d: read back %s, want %s", id, i, g, w)
					}
					if ws[i].BackTick != nil {
						ticks++
					}
				}
				n += len(ws)
			}
			if n == 0 || ticks == 0 || len(got) != len(want) {
				t.Fatalf("%d rows (%d with a back tick) in %d markets read back, want %d markets", n, ticks, len(got), len(want))
			}
		})
	}
}

// derefString formats a struct's fields by name, following pointers.
func derefString(v any) string {
	rv := reflect.ValueOf(v)
	var b strings.Builder
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				fmt.Fprintf(&b, "%s:null ", rv.Type().Field(i).Name)
				continue
			}
			f = f.Elem()
		}
		fmt.Fprintf(&b, "%s:%v ", rv.Type().Field(i).Name, f.Interface())
	}
	return b.String()
}
