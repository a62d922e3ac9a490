package parquet

import (
	"fmt"
	"math"

	pq "github.com/parquet-go/parquet-go"

	"github.com/tapedeck/tapedeck/pipeline/tables"
)

// negZero is the bit pattern of -0.0.
const negZero = 1 << 63

// snapshotCodec describes tables.Snapshot to zeroNull: its optional
// columns are plain values with presence bits (Snapshot.Has). A row goes
// the fast way when its non-zero values are exactly the present ones; one
// holding a present zero (a back price of 1.01 is tick 0) or a -0.0
// (which parquet-go's fast path reads as null on some platforms and not
// others) goes as explicit values: the schema's own Deconstruct, its
// optional columns then set from Has.
func snapshotCodec() (*rowCodec[tables.Snapshot], error) {
	schema := pq.SchemaOf(tables.Snapshot{})
	var cols [len(tables.SnapshotOptional)]int
	var kinds [len(tables.SnapshotOptional)]pq.Kind
	for k, name := range tables.SnapshotOptional {
		leaf, ok := schema.Lookup(name)
		if !ok || !leaf.Node.Optional() {
			return nil, fmt.Errorf("snapshots schema has no optional column %q", name)
		}
		cols[k], kinds[k] = leaf.ColumnIndex, leaf.Node.Type().Kind()
		switch kinds[k] {
		case pq.Double, pq.Int64, pq.Int32:
		default:
			return nil, fmt.Errorf("snapshots column %q is %v, not a number", name, kinds[k])
		}
	}
	// value is optional column k holding v (Snapshot.Optional's float64:
	// exact for ticks and for epoch milliseconds, which are below 2^53).
	value := func(k int, v float64) pq.Value {
		var x pq.Value
		switch kinds[k] {
		case pq.Int64:
			x = pq.Int64Value(int64(v))
		case pq.Int32:
			x = pq.Int32Value(int32(v))
		default:
			x = pq.DoubleValue(v)
		}
		return x.Level(0, 1, cols[k])
	}
	return &rowCodec[tables.Snapshot]{
		columns: len(cols),
		classify: func(s *tables.Snapshot) (uint64, bool) {
			var p uint64
			negative := false
			for k, v := range s.Optional() {
				b := math.Float64bits(v)
				if b != 0 {
					p |= 1 << uint(k)
				}
				negative = negative || b == negZero
			}
			return p, negative || p != uint64(s.Has)
		},
		explicit: func(row pq.Row, s *tables.Snapshot) pq.Row {
			start := len(row)
			row = schema.Deconstruct(row, s)
			r := row[start:]
			for k, v := range s.Optional() {
				if s.Has&(1<<uint(k)) != 0 {
					r[cols[k]] = value(k, v)
				} else {
					r[cols[k]] = pq.Value{}.Level(0, 0, cols[k])
				}
			}
			return row
		},
	}, nil
}
