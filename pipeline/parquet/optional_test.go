package parquet

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

type zeroNullRow struct {
	V int32 `parquet:"v,optional"`
}

type pointerRow struct {
	V *int32 `parquet:"v,optional"`
}

// written writes one chunk of rows (bit i of word set: row i holds 1, else
// 0, which means null) with parquet-go's own fast path and returns the
// rows read back as values.
func written(t *testing.T, word uint64, n int) uint64 {
	t.Helper()
	rows := make([]zeroNullRow, n)
	for i := range rows {
		if word&(1<<uint(i)) != 0 {
			rows[i].V = 1
		}
	}
	var buf bytes.Buffer
	w := pq.NewGenericWriter[zeroNullRow](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := pq.Read[pointerRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out uint64
	for i, r := range got {
		if r.V != nil {
			out |= 1 << uint(i)
		}
	}
	return out
}

// TestScanOptionalMatchesParquetGo checks the replay of parquet-go's run
// scan against the library on patterns that trip it and on random ones.
// Should an upgrade fix the flaw, the first case fails: zeroNull can then go.
func TestScanOptionalMatchesParquetGo(t *testing.T) {
	cases := []struct {
		word uint64
		n    int
	}{
		// three values, four nulls, seven values (starting at bit 7), six nulls
		{0b0011111110000111, 20},
		{0b0110, 4}, // values at 1-2... a run of 1 starting at bit 1, then nulls
		{0b10, 2},
		{0b0, 64}, {^uint64(0), 64}, {1, 1}, {0, 1},
	}
	flawed := 0
	for _, c := range cases {
		got, want := scanOptional(c.word, c.n), written(t, c.word, c.n)
		if got != want {
			t.Errorf("word %b n %d: replay writes %b, parquet-go %b", c.word, c.n, got, want)
		}
		if want != c.word {
			flawed++
		}
	}
	if flawed == 0 {
		t.Error("no case trips parquet-go's run scan any more: check whether zeroNull is still needed")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		n := 1 + r.IntN(64)
		// Runs, not independent bits: real columns come in runs.
		var word uint64
		for i := 0; i < n; {
			l := 1 + r.IntN(12)
			if r.IntN(2) == 0 {
				word |= rowMask(i, min(i+l, n))
			}
			i += l
		}
		if got, want := scanOptional(word, n), written(t, word, n); got != want {
			t.Fatalf("word %064b n %d: replay writes %064b, parquet-go %064b", word, n, got, want)
		}
	}
}

// TestZeroNullWritesWhatItIsGiven writes ladder rows whose level and tick
// columns trip parquet-go's scan, and rows whose zeros are values, and
// checks every row reads back as it was.
func TestZeroNullWritesWhatItIsGiven(t *testing.T) {
	mk := func(level int32, hasLevel bool, tick int32, hasTick bool) ladderDeltaRow {
		return ladderDeltaRow{MarketID: "1.1", Ladder: "batb", MarketStatus: "OPEN", Level: level, HasLevel: hasLevel,
			Tick: tick, HasTick: hasTick, Price: 2, Size: 1}
	}
	var rows []ladderDeltaRow
	// The first row's zero level is a value: written explicitly before any
	// fast write, which must not drop it.
	rows = append(rows, mk(0, true, 5, true))
	for range 3 {
		for i := range 3 {
			rows = append(rows, mk(int32(i+1), true, 5, true))
		}
		for range 4 {
			rows = append(rows, mk(0, false, 6, true))
		}
		for i := range 7 {
			rows = append(rows, mk(int32(i+1), true, 7, true))
		}
		for range 6 {
			rows = append(rows, mk(0, false, 8, true))
		}
		rows = append(rows, mk(0, true, 0, true), mk(0, false, 0, false), mk(2, true, 3, false))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		rows = append(rows, mk(int32(r.IntN(3)), r.IntN(3) > 0, int32(r.IntN(3)), r.IntN(4) > 0))
	}
	for i := range rows {
		rows[i].Seq = int64(i)
	}
	codec, err := ladderCodec(pq.SchemaOf(ladderDeltaRow{}))
	if err != nil {
		t.Fatal(err)
	}
	type read struct {
		Seq   int64  `parquet:"seq"`
		Level *int32 `parquet:"level,optional"`
		Tick  *int32 `parquet:"tick,optional"`
	}
	// Runs of 100 rows, which do not line up with the 64-row chunks.
	got := writeRead[ladderDeltaRow, read](t, codec, rows, 100)
	opt := func(p *int32) (int32, bool) {
		if p == nil {
			return 0, false
		}
		return *p, true
	}
	for i, w := range rows {
		g := got[i]
		gl, hl := opt(g.Level)
		gt, ht := opt(g.Tick)
		wl, wt := w.Level, w.Tick
		if !w.HasLevel {
			wl = 0
		}
		if !w.HasTick {
			wt = 0
		}
		if g.Seq != w.Seq || hl != w.HasLevel || gl != wl || ht != w.HasTick || gt != wt {
			t.Fatalf("row %d: read back seq %d level %v/%d tick %v/%d, want seq %d level %v/%d tick %v/%d",
				i, g.Seq, hl, gl, ht, gt, w.Seq, w.HasLevel, wl, w.HasTick, wt)
		}
	}
}

// TestZeroNullSnapshots writes snapshot rows whose third back price trips
// parquet-go's scan, and rows whose present zeros (a tick 0, a -0.0) the
// fast path would lose, and checks every optional value reads back as set.
func TestZeroNullSnapshots(t *testing.T) {
	var rows []tables.Snapshot
	pattern := []int{3, -4, 7, -6} // runs: values, nulls
	for rep := range 4 {
		for _, l := range pattern {
			for range max(l, -l) {
				r := tables.Snapshot{MarketID: "1.1", SelectionID: 7, Ref: "off", SecondsBefore: int32(len(rows)),
					SnapshotTime: 1e12, LastUpdatePt: 1e12, BackPrice1: 2, BackSize1: 10, TradedVolume: float64(rep),
					Has: tables.HasLastUpdatePt | tables.HasBackPrice1 | tables.HasBackSize1}
				if l > 0 {
					r.BackPrice3, r.Has = 3, r.Has|tables.HasBackPrice3
				}
				rows = append(rows, r)
			}
		}
	}
	// A back price of 1.01 (tick 0), a -0.0 SP, an unset value left non-zero.
	rows = append(rows,
		tables.Snapshot{MarketID: "1.1", SecondsBefore: 200, BackPrice1: 1.01, BackTick: 0, Has: tables.HasBackPrice1 | tables.HasBackTick},
		tables.Snapshot{MarketID: "1.1", SecondsBefore: 201, Spn: math.Copysign(0, -1), Has: tables.HasSpn},
		tables.Snapshot{MarketID: "1.1", SecondsBefore: 202, Ltp: 5})
	codec, err := snapshotCodec()
	if err != nil {
		t.Fatal(err)
	}
	type read struct {
		SecondsBefore int32    `parquet:"seconds_before"`
		BackPrice1    *float64 `parquet:"back_price_1,optional"`
		BackPrice2    *float64 `parquet:"back_price_2,optional"`
		BackPrice3    *float64 `parquet:"back_price_3,optional"`
		BackTick      *int32   `parquet:"back_tick,optional"`
		Ltp           *float64 `parquet:"ltp,optional"`
		Spn           *float64 `parquet:"spn,optional"`
	}
	// One pattern per write: each is a chunk that trips the scan.
	got := writeRead[tables.Snapshot, read](t, codec, rows, 20)
	for i, w := range rows[:80] {
		g := got[i]
		if (g.BackPrice3 != nil) != (w.Has&tables.HasBackPrice3 != 0) || g.BackPrice2 != nil || g.BackPrice1 == nil ||
			*g.BackPrice1 != 2 || g.SecondsBefore != w.SecondsBefore {
			t.Fatalf("row %d: read back %+v, want %+v", i, g, w)
		}
	}
	tick, spn, ltp := got[80], got[81], got[82]
	if tick.BackTick == nil || *tick.BackTick != 0 || tick.BackPrice1 == nil || *tick.BackPrice1 != 1.01 {
		t.Errorf("tick 0 row read back %+v", tick)
	}
	if spn.Spn == nil || math.Float64bits(*spn.Spn) != negZero {
		t.Errorf("-0.0 spn read back %+v", spn)
	}
	if ltp.Ltp != nil {
		t.Errorf("unset ltp read back as %v", *ltp.Ltp)
	}
}

// writeRead writes rows through a zeroNull for codec, run rows at a time,
// and reads the file back as R, checking that every row came back.
func writeRead[W, R any](t *testing.T, codec *rowCodec[W], rows []W, run int) []R {
	t.Helper()
	var buf bytes.Buffer
	z, err := newZeroNull(&buf, nil, codec)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(rows); i += run {
		if err := z.Write(rows[i:min(i+run, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.pw.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := pq.Read[R](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows read back, want %d", len(got), len(rows))
	}
	return got
}
