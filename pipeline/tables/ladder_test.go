package tables_test

import (
	"math"
	"testing"
	"unsafe"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// ladderSamples are real ladder deltas: a PRO greyhound market, a recorded
// one (about 146 levels a line), BASIC, and one that turns in play.
func ladderSamples(t testing.TB) map[string][]tables.LadderDelta {
	t.Helper()
	out := map[string][]tables.LadderDelta{}
	for name, lines := range map[string][][]byte{
		"greyhound": greyhound(t, "1.195395446"),
		"recorded":  testdataTape(t, "1.197931750"),
		"basic":     testdataTape(t, "BASIC-1.132153978"),
		"in-play":   testdataTapeAny(t, "golden/flumine/inputs/1.200806927.zst"),
	} {
		for _, r := range replay(t, lines, tables.Grid{}) {
			out[name] = append(out[name], r.LadderDeltas.All()...)
		}
	}
	return out
}

// sameDelta compares two rows bit for bit (NaN equals NaN, -0 is not 0).
func sameDelta(a, b tables.LadderDelta) bool {
	bits := math.Float64bits
	return a.Pt == b.Pt && a.Seq == b.Seq && a.SelectionID == b.SelectionID && bits(a.Handicap) == bits(b.Handicap) &&
		bits(a.Price) == bits(b.Price) && bits(a.Size) == bits(b.Size) && a.Level == b.Level && a.Tick == b.Tick &&
		a.Ladder == b.Ladder && a.Status == b.Status && a.InPlay == b.InPlay && a.HasLevel == b.HasLevel && a.HasTick == b.HasTick
}

// TestLadderDeltasRoundTrip appends real rows, and real rows altered into
// every value the short forms cannot hold, and reads back exactly them,
// in Chunked's chunks.
func TestLadderDeltasRoundTrip(t *testing.T) {
	samples := ladderSamples(t)
	if len(samples["greyhound"]) == 0 || len(samples["in-play"]) == 0 {
		t.Fatal("no ladder deltas in the samples")
	}
	odd := []struct {
		name string
		edit func(*tables.LadderDelta)
	}{
		{"unaltered", func(*tables.LadderDelta) {}},
		{"negative zero size", func(d *tables.LadderDelta) { d.Size = math.Copysign(0, -1) }},
		{"NaN size", func(d *tables.LadderDelta) { d.Size = math.NaN() }},
		{"infinite size", func(d *tables.LadderDelta) { d.Size = math.Inf(1) }},
		{"negative size", func(d *tables.LadderDelta) { d.Size = -2.5 }},
		{"size in fractions of a cent", func(d *tables.LadderDelta) { d.Size = 10.005 }},
		{"huge size", func(d *tables.LadderDelta) { d.Size = 1e300 }},
		{"price off the ladder", func(d *tables.LadderDelta) { d.Price, d.Tick, d.HasTick = 1.015, 0, false }},
		{"price near its tick", func(d *tables.LadderDelta) { d.Price = math.Nextafter(d.Price, 2000) }},
		{"tick out of range", func(d *tables.LadderDelta) { d.Tick, d.HasTick = 400, true }},
		{"negative tick", func(d *tables.LadderDelta) { d.Tick, d.HasTick = -1, true }},
		{"tick without its flag", func(d *tables.LadderDelta) { d.Tick, d.HasTick = 7, false }},
		{"level without its flag", func(d *tables.LadderDelta) { d.Level, d.HasLevel = 3, false }},
		{"large level", func(d *tables.LadderDelta) { d.Level, d.HasLevel = math.MaxInt32, true }},
		{"ladder past four bits", func(d *tables.LadderDelta) { d.Ladder = 200 }},
		{"handicap", func(d *tables.LadderDelta) { d.Handicap = -1.5 }},
		{"negative zero handicap", func(d *tables.LadderDelta) { d.Handicap = math.Copysign(0, -1) }},
		{"time going back", func(d *tables.LadderDelta) { d.Pt -= 1 << 40 }},
		{"extreme fields", func(d *tables.LadderDelta) { d.Pt, d.Seq, d.SelectionID = math.MinInt64, math.MaxInt64, math.MinInt64 }},
		{"status and in-play", func(d *tables.LadderDelta) { d.Status, d.InPlay = 255, !d.InPlay }},
	}
	for name, rows := range samples {
		for _, o := range odd {
			t.Run(name+"/"+o.name, func(t *testing.T) {
				want := make([]tables.LadderDelta, len(rows))
				copy(want, rows)
				// Every 97th row altered: first rows of blocks, runs of
				// rows sharing a line and the rows after them all get some.
				for i := 0; i < len(want); i += 97 {
					o.edit(&want[i])
				}
				var l tables.LadderDeltas
				var ref tables.Chunked[tables.LadderDelta]
				for _, d := range want {
					l.Append(d)
					ref.Append(d)
				}
				if l.Len() != len(want) {
					t.Fatalf("Len %d, want %d", l.Len(), len(want))
				}
				var got []tables.LadderDelta
				var sizes []int
				if _, err := l.Chunks(nil, func(c []tables.LadderDelta) error {
					got = append(got, c...)
					sizes = append(sizes, len(c))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if !sameDelta(got[i], want[i]) {
						t.Fatalf("row %d: got %+v, want %+v", i, got[i], want[i])
					}
				}
				// The chunks are Chunked's: the written pages depend on them.
				chunks := ref.Chunks()
				if len(sizes) != len(chunks) {
					t.Fatalf("%d chunks, Chunked has %d", len(sizes), len(chunks))
				}
				for i, c := range chunks {
					if sizes[i] != len(c) {
						t.Fatalf("chunk %d has %d rows, Chunked's %d", i, sizes[i], len(c))
					}
					if sizes[i] > l.MaxChunk() {
						t.Fatalf("chunk %d has %d rows, more than MaxChunk %d", i, sizes[i], l.MaxChunk())
					}
				}
				all := l.All()
				if len(all) != len(want) {
					t.Fatalf("All gives %d rows, want %d", len(all), len(want))
				}
				for i := range want {
					if !sameDelta(all[i], want[i]) {
						t.Fatalf("All row %d: got %+v, want %+v", i, all[i], want[i])
					}
				}
			})
		}
	}
}

// BenchmarkLadderDeltas appends the ladder deltas of a PRO greyhound
// market and reads them back, encoded (LadderDeltas) and as they were held
// before (Chunked); bytes/row is the memory each holds them in.
func BenchmarkLadderDeltas(b *testing.B) {
	rows := ladderSamples(b)["greyhound"]
	b.Run("encoded", func(b *testing.B) {
		var held int
		for range b.N {
			var l tables.LadderDeltas
			for _, d := range rows {
				l.Append(d)
			}
			held = l.Bytes()
			if _, err := l.Chunks(nil, func([]tables.LadderDelta) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
		b.ReportMetric(float64(held)/float64(len(rows)), "bytes/row")
	})
	b.Run("chunked", func(b *testing.B) {
		var held int
		for range b.N {
			var c tables.Chunked[tables.LadderDelta]
			for _, d := range rows {
				c.Append(d)
			}
			held = 0
			for _, ch := range c.Chunks() {
				held += cap(ch) * int(unsafe.Sizeof(tables.LadderDelta{}))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
		b.ReportMetric(float64(held)/float64(len(rows)), "bytes/row")
	})
}
