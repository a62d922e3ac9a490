package parquet

import (
	"fmt"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// ladderColumnNames are tables.LadderDelta's columns, in the order
// ladderCodec's explicit values are built.
var ladderColumnNames = [12]string{"market_id", "pt", "seq", "selection_id", "handicap", "ladder",
	"level", "price", "tick", "size", "in_play", "market_status"}

// ladderCodec says how ladder_deltas rows are written, the dataset's
// largest table. tables.LadderDelta holds its nullable level and tick as
// plain int32 with presence flags, so they go the fast zero-is-null way
// (see zeroNull); but level 0 (the best level) and tick 0 (the price 1.01)
// are real values, and rows holding one go as explicit values.
func ladderCodec(schema *pq.Schema) (*rowCodec[tables.LadderDelta], error) {
	var c [12]int // column index of each of ladderColumnNames
	if n := len(schema.Columns()); n != len(c) {
		return nil, fmt.Errorf("ladder_deltas schema has %d columns, want %d", n, len(c))
	}
	for i, name := range ladderColumnNames {
		leaf, ok := schema.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("ladder_deltas schema has no column %q", name)
		}
		c[i] = leaf.ColumnIndex
	}
	optional := func(v int32, ok bool, col int) pq.Value {
		if !ok {
			return pq.Value{}.Level(0, 0, col)
		}
		return pq.Int32Value(v).Level(0, 1, col)
	}
	return &rowCodec[tables.LadderDelta]{
		columns: 2,
		present: func(d *tables.LadderDelta) uint64 {
			var p uint64
			if d.Level != 0 {
				p |= 1
			}
			if d.Tick != 0 {
				p |= 2
			}
			return p
		},
		// A level or tick that is set and zero, or unset and not zero.
		mustExplicit: func(d *tables.LadderDelta) bool {
			return d.HasLevel != (d.Level != 0) || d.HasTick != (d.Tick != 0)
		},
		explicit: func(row pq.Row, d *tables.LadderDelta) pq.Row {
			start := len(row)
			row = append(row, make(pq.Row, len(c))...)
			r := row[start:]
			r[c[0]] = pq.ByteArrayValue(bytesOf(d.MarketID)).Level(0, 0, c[0])
			r[c[1]] = pq.Int64Value(d.Pt).Level(0, 0, c[1])
			r[c[2]] = pq.Int64Value(d.Seq).Level(0, 0, c[2])
			r[c[3]] = pq.Int64Value(d.SelectionID).Level(0, 0, c[3])
			r[c[4]] = pq.DoubleValue(d.Handicap).Level(0, 0, c[4])
			r[c[5]] = pq.ByteArrayValue(bytesOf(d.Ladder)).Level(0, 0, c[5])
			r[c[6]] = optional(d.Level, d.HasLevel, c[6])
			r[c[7]] = pq.DoubleValue(d.Price).Level(0, 0, c[7])
			r[c[8]] = optional(d.Tick, d.HasTick, c[8])
			r[c[9]] = pq.DoubleValue(d.Size).Level(0, 0, c[9])
			r[c[10]] = pq.BooleanValue(d.InPlay).Level(0, 0, c[10])
			r[c[11]] = pq.ByteArrayValue(bytesOf(d.MarketStatus)).Level(0, 0, c[11])
			return row
		},
	}, nil
}

// bytesOf views s as bytes without copying; parquet-go only reads them
// (copying what it keeps into its dictionaries).
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
